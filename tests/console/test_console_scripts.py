"""Dialog scripts edited in the browser: live validation, drafts, publish reaching every worker, history."""

from __future__ import annotations

import time

from console_helpers import csrf_token
from sqlalchemy import func, select

from bot.admin.script_service import ScriptService
from bot.config import PROJECT_ROOT
from bot.forms.registry import ScriptRegistry
from bot.forms.snapshots import SqlSnapshotStore
from bot.forms.versions import ScriptVersion
from bot.staff.models import AuditEntry

NEW_INTRO = "【管理画面で編集した案内】粗大ごみの収集を申し込みます。"



def _with_intro(text: str, intro: str) -> str:
    """Replace the intro block (a `|-` literal) with a one-line intro."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("intro:"))
    end = start + 1
    while end < len(lines) and (lines[end].startswith("  ") or not lines[end].strip()):
        end += 1
    return "\n".join([*lines[:start], f"intro: {intro}", *lines[end:]]) + "\n"


def _worker_registry(console, interval: float = 0.2) -> ScriptRegistry:
    """What another worker process holds: its own registry on the same database."""
    return ScriptRegistry(PROJECT_ROOT / "dialogs", SqlSnapshotStore(console.services.db), check_interval=interval)


def test_validation_endpoint_reports_the_same_problems_as_the_cli(console) -> None:
    from bot.forms.validate import validate_text

    console.user("ed", "editor")
    http = console.login("ed")
    page = http.get(f"{console.base_url}/admin/scripts/sodaigomi").text
    text = console.services.scripts.by_id("sodaigomi").text
    broken = text.replace("type: postal_code", "type: postal", 1)
    r = http.post(f"{console.base_url}/admin/api/scripts/sodaigomi/validate", json={"text": broken},
                  headers={"X-CSRFToken": csrf_token(page)}).json()
    _, expected = validate_text(broken, str(PROJECT_ROOT / "dialogs" / "sodaigomi.yml"), base_dir=PROJECT_ROOT / "dialogs")
    assert not r["ok"] and r["errors"] >= 1
    assert [(p["line"], p["message"]) for p in r["problems"]] == [(p.line, p.message) for p in expected]
    assert any("postal" in p["message"] for p in r["problems"])


def test_publish_reaches_another_worker_without_restart_and_old_forms_keep_their_version(console) -> None:
    registry = console.services.scripts
    other = _worker_registry(console)
    original = registry.by_id("sodaigomi")
    assert other.current("sodaigomi").content_hash == original.content_hash
    service = ScriptService(console.services.db, registry)
    checked, row = service.publish("sodaigomi", _with_intro(original.text, NEW_INTRO), actor="ed", note="案内を短く")
    assert row is not None and row.number == 1, checked.problems
    deadline = time.monotonic() + 3
    while other.current("sodaigomi").content_hash == original.content_hash and time.monotonic() < deadline:
        time.sleep(0.05)
    live = other.current("sodaigomi")
    assert live.content_hash == row.content_hash and NEW_INTRO in live.text
    assert other.get("sodaigomi", original.content_hash).text == original.text  # a form mid-way finishes on it
    # Rollback publishes the repository text again as v2; history only grows.
    first = service.publish("sodaigomi", _with_intro(original.text, NEW_INTRO + "２"), actor="ed")[1]
    _, back = service.rollback("sodaigomi", first.id, actor="ed")
    assert back is None  # rolling back to the live text changes nothing
    _, back = service.rollback("sodaigomi", row.id, actor="ed")
    assert back is not None and back.number == 3 and back.content_hash == row.content_hash
    with console.services.db.session() as s:
        actions = list(s.scalars(select(AuditEntry.action).where(AuditEntry.target == "script:sodaigomi")
                                 .order_by(AuditEntry.id)))
    assert actions == ["script.publish", "script.publish", "script.rollback"]


def test_publish_form_rejects_errors_and_a_changed_id(console) -> None:
    console.user("ed2", "editor")
    http = console.login("ed2")
    base = console.base_url
    token = csrf_token(http.get(f"{base}/admin/scripts/photo_consent").text)
    text = console.services.scripts.by_id("photo_consent").text
    r = http.post(f"{base}/admin/scripts/photo_consent/publish",
                  data={"text": text.replace("type: consent", "type: agree"), "csrf_token": token})
    assert r.status_code == 422 and "公開できませんでした" in r.text
    r = http.post(f"{base}/admin/scripts/photo_consent/publish",
                  data={"text": text.replace("id: photo_consent", "id: other_form", 1), "csrf_token": token})
    assert r.status_code == 422 and "のままにしてください" in r.text
    with console.services.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScriptVersion)) == 0
    r = http.post(f"{base}/admin/scripts/photo_consent/publish",
                  data={"text": _with_intro(text, "写真の承諾を学校に伝えます。"), "note": "短く", "csrf_token": token})
    assert r.status_code == 200 and "v1 として公開しました" in r.text
    history = http.get(f"{base}/admin/scripts/photo_consent/history").text
    assert "v1" in history and "ed2" in history
    with console.services.db.session() as s:
        row_id = s.scalar(select(ScriptVersion.id).where(ScriptVersion.kind == "published"))
    diff = http.get(f"{base}/admin/scripts/photo_consent/diff/{row_id}").text
    assert 'class="add">+ intro: 写真の承諾を学校に伝えます。' in diff


def test_a_draft_is_reachable_by_hash_only_and_is_not_live(console) -> None:
    console.user("ed3", "editor")
    http = console.login("ed3")
    base = console.base_url
    token = csrf_token(http.get(f"{base}/admin/scripts/sodaigomi").text)
    original = console.services.scripts.by_id("sodaigomi")
    r = http.post(f"{base}/admin/api/scripts/sodaigomi/draft", json={"text": _with_intro(original.text, "下書きの案内")},
                  headers={"X-CSRFToken": token})
    assert r.status_code == 200
    draft_hash = r.json()["hash"]
    assert r.json()["simulator_url"].endswith(f"draft={draft_hash}")
    other = _worker_registry(console)
    assert other.current("sodaigomi").content_hash == original.content_hash
    draft = other.current(f"draft:{draft_hash}")
    assert draft is not None and "下書きの案内" in draft.text
    assert other.current("draft:" + "0" * 64) is None
