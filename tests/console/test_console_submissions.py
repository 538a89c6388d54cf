"""Submissions in the console: filters, masked personal data for viewers, status notices in LINE, CSV;
the dashboard's numbers; the simulator's access rule and round trip through the webhook."""

from __future__ import annotations

import csv
import io
import time
import uuid

import requests
from console_helpers import csrf_token
from sqlalchemy import delete, select

from bot.forms.effects import SubmitForm
from bot.staff.models import AuditEntry
from bot.storage.models import AnalyticsEvent
from bot.submissions.models import Submission


def _submit(console, user_id: str, name: str = "川崎 花子") -> str:
    script = console.services.scripts.by_id("photo_consent")
    submit = SubmitForm(
        instance_id=uuid.uuid4().hex, procedure_id=script.procedure_id, script_id=script.id,
        script_version=script.version, script_hash=script.content_hash,
        answers={"school": "川崎市立東小学校", "child_name": name},
        personal_fields=("child_name",),
        summary=(("学校名", "川崎市立東小学校"), ("お子さんの名前", name)),
    )
    return console.services.submissions.store(submit, user_id=user_id).receipt_no


def test_editor_sees_personal_data_viewer_sees_it_masked(console) -> None:
    receipt = _submit(console, "U" + "a1" * 16)
    console.user("ed", "editor")
    console.user("vi", "viewer")
    editor, viewer = console.login("ed"), console.login("vi")
    page = editor.get(f"{console.base_url}/admin/submissions/{receipt}").text
    assert "川崎 花子" in page and "川崎市立東小学校" in page
    masked = viewer.get(f"{console.base_url}/admin/submissions/{receipt}").text
    assert "川崎 花子" not in masked and "＊＊＊" in masked and "川崎市立東小学校" in masked
    assert 'id="change-status"' not in masked
    rows = list(csv.reader(io.StringIO(viewer.get(f"{console.base_url}/admin/submissions/export.csv").content
                                       .decode("utf-8-sig"))))
    assert rows[0][0] == "受付番号" and any(r[0] == receipt and "＊＊＊" in r[5] for r in rows[1:])
    full = editor.get(f"{console.base_url}/admin/submissions/export.csv").content.decode("utf-8-sig")
    assert "川崎 花子" in full
    with console.services.db.session() as s:
        exports = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "submissions.export")))
    assert {e.actor for e in exports} == {"ed", "vi"}


def test_filters_by_procedure_status_and_date(console) -> None:
    receipt = _submit(console, "U" + "b2" * 16)
    console.user("vi2", "viewer")
    http = console.login("vi2")
    base = f"{console.base_url}/admin/submissions"
    assert receipt in http.get(base, params={"procedure": "photo_consent", "status": "受付"}).text
    assert receipt not in http.get(base, params={"procedure": "sodaigomi"}).text
    assert receipt not in http.get(base, params={"status": "完了"}).text
    assert receipt not in http.get(base, params={"from": "2000-01-01", "to": "2000-01-02"}).text
    assert receipt in http.get(base, params={"receipt": receipt[-6:]}).text


def test_status_changes_notify_the_resident_once_in_line(console) -> None:
    user = "U" + "c3" * 16
    receipt = _submit(console, user)
    console.user("ed4", "editor")
    http = console.login("ed4")
    url = f"{console.base_url}/admin/submissions/{receipt}"
    token = csrf_token(http.get(url).text)
    r = http.post(f"{url}/status", data={"status": "完了", "csrf_token": token})
    assert "には変えられません" in r.text  # 受付 → 完了 skips 処理中
    r = http.post(f"{url}/status", data={"status": "処理中", "csrf_token": token})
    assert "LINEで住民の方にお知らせしました" in r.text
    pushed = console.emulator.emulator.wait_for_messages(user, timeout=5)
    assert len(pushed) == 1 and pushed[0]["api"] == "push" and pushed[0]["retryKey"]
    assert receipt in pushed[0]["message"]["text"] and "進めています" in pushed[0]["message"]["text"]
    r = http.post(f"{url}/status", data={"status": "差し戻し", "csrf_token": token})
    assert "理由を書いてください" in r.text
    r = http.post(f"{url}/status", data={"status": "差し戻し", "message": "学年・組をもう一度確認させてください。",
                                         "csrf_token": token})
    msgs = console.emulator.emulator.wait_for_messages(user, timeout=5, count=2)
    assert "学年・組をもう一度確認" in msgs[-1]["message"]["text"]
    with console.services.db.session() as s:
        assert s.scalar(select(Submission.status).where(Submission.receipt_no == receipt)) == "差し戻し"
        changes = [(e.before, e.after) for e in s.scalars(select(AuditEntry).where(
            AuditEntry.action == "submission.status").order_by(AuditEntry.id))]
    assert changes == [("受付", "処理中"), ("処理中", "差し戻し")]


def test_dashboard_counts_what_analytics_recorded_and_shows_zero_states(console) -> None:
    with console.services.db.session() as s:  # this session's database may hold other tests' events
        s.execute(delete(AnalyticsEvent))
    console.user("vi3", "viewer")
    http = console.login("vi3")
    empty = http.get(f"{console.base_url}/admin/dashboard").text
    assert 'id="kpi-completed">0<' in empty and "まだデータがありません" in empty
    instance = {"script_id": "photo_consent", "script_version": "1", "procedure_id": "photo_consent"}
    with console.services.db.session() as s:
        for i, done in enumerate((True, False)):
            props = {**instance, "instance_id": f"inst{i}"}
            s.add(AnalyticsEvent(name="form_started", procedure_id="photo_consent", event_id=f"e{i}a", props=props))
            s.add(AnalyticsEvent(name="question_answered", procedure_id="photo_consent", event_id=f"e{i}b",
                                 props={**props, "slot": "school"}))
            if done:
                s.add(AnalyticsEvent(name="form_completed", procedure_id="photo_consent", event_id=f"e{i}c", props=props))
            else:
                s.add(AnalyticsEvent(name="form_cancelled", procedure_id="photo_consent", event_id=f"e{i}c",
                                     props={**props, "slot": "grade_class"}))
        s.add(AnalyticsEvent(name="procedure_found", procedure_id="sodaigomi", event_id="e9", props={}))
    page = http.get(f"{console.base_url}/admin/dashboard").text
    assert 'id="kpi-completed">1<' in page and 'id="kpi-started">2<' in page and 'id="kpi-abandoned">1<' in page
    assert 'id="kpi-messages">7<' in page  # distinct webhook events that left a trace today
    assert "粗大ごみ" in page  # procedure names, not ids
    assert "学年・組 1件" in page  # where the cancelled form stopped


def test_simulator_is_staff_only_unless_on_embedded_defaults(console) -> None:
    r = requests.get(f"{console.base_url}/simulator/", allow_redirects=False)
    assert r.status_code == 302 and "/admin/login" in r.headers["Location"]
    assert requests.get(f"{console.base_url}/simulator/api/messages").status_code == 401
    console.user("vi4", "viewer")
    assert console.login("vi4").get(f"{console.base_url}/simulator/").status_code == 200


def test_simulator_talks_to_the_bot_through_the_webhook(open_console) -> None:
    http = requests.Session()
    base = open_console.base_url
    page = http.get(f"{base}/simulator/")
    assert page.status_code == 200 and 'data-ready="yes"' in page.text
    headers = {"X-CSRFToken": csrf_token(page.text)}
    started = time.monotonic()
    assert http.post(f"{base}/simulator/api/send", json={"type": "text", "text": "ソファを捨てたい"},
                     headers=headers).status_code == 200
    found = http.get(f"{base}/simulator/api/messages", params={"after": 0, "wait": 10}).json()
    assert found["messages"] and time.monotonic() - started < 10
    assert "粗大ごみ" in str(found["messages"])
    r = http.post(f"{base}/simulator/api/send", json={"type": "location", "latitude": 35.53, "longitude": 139.70},
                  headers=headers)
    assert r.status_code == 200
    r = http.post(f"{base}/simulator/api/image", files={"image": ("a.jpg", b"\xff\xd8\xff" + b"0" * 100, "image/jpeg")},
                  headers=headers)
    assert r.status_code == 200
    assert http.post(f"{base}/simulator/api/send", json={"type": "nope"}, headers=headers).status_code == 400


def test_posters_preview_and_download_for_a_procedure_and_facility(console) -> None:
    console.user("ed5", "editor")
    console.user("vi5", "viewer")
    http = console.login("ed5")
    base = console.base_url
    page = http.get(f"{base}/admin/posters").text
    assert "ward-kawasaki" in page and "sodaigomi" in page
    params = {"procedure": "sodaigomi", "facility": "ward-kawasaki"}
    page = http.get(f"{base}/admin/posters", params=params).text
    assert 'id="poster-preview"' in page
    svg = http.get(f"{base}/admin/posters/poster.svg", params=params)
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml") and b"<svg" in svg.content
    pdf = http.get(f"{base}/admin/posters/poster.pdf", params={**params, "download": "1"})
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["Content-Disposition"]
    bad = http.get(f"{base}/admin/posters/poster.pdf", params={"procedure": "sodaigomi", "facility": "nowhere"})
    assert bad.status_code == 400 and "登録されていません" in bad.text
    assert console.login("vi5").get(f"{base}/admin/posters").status_code == 403
    with console.services.db.session() as s:
        assert [e.after[:3] for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "poster.download"))] == ["pdf"]
