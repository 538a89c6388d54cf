"""Staff login: argon2 hashes, sessions, CSRF on every POST, lockout, roles, audit log, CLI."""

from __future__ import annotations

from datetime import timedelta

import requests
from click.testing import CliRunner
from console_helpers import PASSWORD, csrf_token
from sqlalchemy import select, update

from bot.staff.models import AuditEntry, StaffUser
from bot.storage.models import utcnow


def _audit(stack, action: str) -> list[AuditEntry]:
    with stack.services.db.session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(console) -> None:
    console.user("hanako", "editor")
    with console.services.db.session() as s:
        stored = s.scalar(select(StaffUser.password_hash).where(StaffUser.name == "hanako"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    http = console.login("hanako")
    cookie = next(c for c in http.cookies if c.name == "kb_console")
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert http.get(f"{console.base_url}/admin/dashboard").status_code == 200
    token = csrf_token(http.get(f"{console.base_url}/admin/dashboard").text)
    http.post(f"{console.base_url}/admin/logout", data={"csrf_token": token})
    r = http.get(f"{console.base_url}/admin/dashboard", allow_redirects=False)
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert [e.actor for e in _audit(console, "login.ok")] == ["hanako"]


def test_every_console_post_needs_the_csrf_token(console) -> None:
    console.user("jiro", "admin")
    http = console.login("jiro")
    base = console.base_url
    script = console.services.scripts.by_id("sodaigomi")
    assert http.post(f"{base}/admin/login", data={"name": "jiro", "password": PASSWORD}).status_code == 400
    assert http.post(f"{base}/admin/scripts/sodaigomi/publish", data={"text": script.text}).status_code == 400
    assert http.post(f"{base}/admin/api/scripts/sodaigomi/validate", json={"text": script.text}).status_code == 400
    assert http.post(f"{base}/admin/users", data={"name": "x", "role": "admin", "password": "p" * 12}).status_code == 400
    assert http.post(f"{base}/simulator/api/send", json={"type": "text", "text": "こんにちは"}).status_code == 400
    with console.services.db.session() as s:
        assert s.scalar(select(StaffUser).where(StaffUser.name == "x")) is None


def test_five_wrong_passwords_lock_only_that_account_for_15_minutes(console) -> None:
    console.user("saburo", "viewer")
    console.user("shiro", "viewer")
    base = console.base_url
    http = requests.Session()
    for i in range(5):
        token = csrf_token(http.get(f"{base}/admin/login").text)
        r = http.post(f"{base}/admin/login", data={"name": "saburo", "password": f"wrong-{i}", "csrf_token": token})
        assert r.status_code == 401
    assert "ロック" in r.text
    token = csrf_token(http.get(f"{base}/admin/login").text)
    r = http.post(f"{base}/admin/login", data={"name": "saburo", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 401 and "ロック" in r.text  # the right password does not open a locked account
    with console.services.db.session() as s:
        locked_until = s.scalar(select(StaffUser.locked_until).where(StaffUser.name == "saburo"))
    assert timedelta(minutes=14) < locked_until - utcnow() <= timedelta(minutes=15)
    console.login("shiro")  # another account is not affected
    assert len(_audit(console, "login.locked")) == 1 and len(_audit(console, "login.failed")) == 4
    with console.services.db.session() as s:  # 15 minutes later
        s.execute(update(StaffUser).where(StaffUser.name == "saburo").values(locked_until=utcnow() - timedelta(seconds=1)))
    console.login("saburo")


def test_viewer_reads_but_cannot_change_anything(console) -> None:
    console.user("goro", "viewer")
    http = console.login("goro")
    base = console.base_url
    page = http.get(f"{base}/admin/scripts/sodaigomi")
    assert page.status_code == 200 and "readonly" in page.text and 'id="publish"' not in page.text
    token = csrf_token(page.text)
    text = console.services.scripts.by_id("sodaigomi").text
    headers = {"X-CSRFToken": token}
    assert http.post(f"{base}/admin/scripts/sodaigomi/publish", data={"text": text + "\n# x", "csrf_token": token}
                     ).status_code == 403
    assert http.post(f"{base}/admin/api/scripts/sodaigomi/draft", json={"text": text}, headers=headers).status_code == 403
    assert http.get(f"{base}/admin/users").status_code == 403
    assert http.get(f"{base}/admin/audit").status_code == 403
    assert http.post(f"{base}/admin/api/scripts/sodaigomi/validate", json={"text": text}, headers=headers).json()["ok"]


def test_admin_manages_accounts_and_a_role_change_ends_the_old_session(console) -> None:
    console.user("boss", "admin")
    console.user("rokuro", "editor")
    admin = console.login("boss")
    staff = console.login("rokuro")
    base = console.base_url
    assert staff.get(f"{base}/admin/scripts/sodaigomi").text.count('id="publish"') == 1
    with console.services.db.session() as s:
        uid = s.scalar(select(StaffUser.id).where(StaffUser.name == "rokuro"))
    token = csrf_token(admin.get(f"{base}/admin/users").text)
    admin.post(f"{base}/admin/users/{uid}", data={"op": "role", "role": "viewer", "csrf_token": token})
    r = staff.get(f"{base}/admin/dashboard", allow_redirects=False)
    assert r.status_code == 302  # signed out by the change
    page = console.login("rokuro").get(f"{base}/admin/scripts/sodaigomi").text
    assert 'id="publish"' not in page
    entry = _audit(console, "user.update")[-1]
    assert entry.actor == "boss" and "role=editor" in entry.before and "role=viewer" in entry.after


def test_cli_create_user_reads_the_password_from_stdin(console, monkeypatch) -> None:
    from bot.staff.cli import staff

    monkeypatch.setenv("DATABASE_URL", console.services.settings.database_url)
    result = CliRunner().invoke(staff, ["create-user", "shichiro", "--role", "editor"], input="cli-password-123\n")
    assert result.exit_code == 0, result.output
    console.login("shichiro", "cli-password-123")
    short = CliRunner().invoke(staff, ["create-user", "hachiro", "--role", "viewer"], input="short\n")
    assert short.exit_code != 0 and "10文字以上" in short.output
    bad_role = CliRunner().invoke(staff, ["create-user", "kuro", "--role", "root"], input="cli-password-123\n")
    assert bad_role.exit_code != 0


def test_login_returns_only_to_console_pages(console) -> None:
    console.user("nana", "viewer")
    base = console.base_url
    for target, expected in (("/admin/submissions", "/admin/submissions"), ("/simulator/", "/simulator/"),
                             ("//evil.example/", "/admin/dashboard"), ("/\\evil.example", "/admin/dashboard"),
                             ("https://evil.example/admin", "/admin/dashboard")):
        http = requests.Session()
        token = csrf_token(http.get(f"{base}/admin/login").text)
        r = http.post(f"{base}/admin/login", params={"next": target},
                      data={"name": "nana", "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
        assert r.status_code == 302 and r.headers["Location"] == expected, target
