"""Chat forms through the whole stack: webhook → queue → engine → PostgreSQL → emulator."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select, text

from bot.submissions.models import Submission

USER = "U" + "f0" * 16


def _fill_sodaigomi(r) -> None:
    r.say("ソファを捨てたい")
    r.press("このLINEで申し込む")
    assert "出したいもの" in r.text_of()
    r.say("ソファ1つと自転車2台")
    assert "1,500円" in r.text_of()
    r.say("1234567")
    assert "見つかりませんでした" in r.text_of()  # a bad postal code is re-asked with an example
    r.say("2100004")
    assert "宮本町" in r.text_of()
    r.say("1-2-3 川崎ハイツ101")
    r.say("来週の火曜")
    r.press("自宅の玄関前")
    r.say("川崎 太郎")
    r.say("044-123-456")
    assert "けた数" in r.text_of()
    r.say("044-123-4567")
    r.press("なし")
    assert "送信" in r.text_of()


def _submissions(stack) -> int:
    with stack.services.db.session() as s:
        return s.scalar(select(func.count()).select_from(Submission))


def test_sodaigomi_form_to_a_receipt_stored_once_with_personal_data_encrypted(stack, resident) -> None:
    r = resident(USER)
    before = _submissions(stack)
    _fill_sodaigomi(r)
    confirmation = r.last
    r.press("送信")
    assert "受付番号：KW-" in r.text_of()
    # A redelivered 送信 and a second tap on the same button store nothing more and send no second receipt.
    stack.sender.redeliver(r.last_event)
    r.last = confirmation
    r.press("送信")
    time.sleep(0.5)
    assert _submissions(stack) == before + 1
    receipts = [m for m in stack.answers(USER) if "受付番号：KW-" in json.dumps(m["message"], ensure_ascii=False)]
    assert len(receipts) == 1
    with stack.services.db.session() as s:
        raw = s.execute(text("SELECT * FROM submissions ORDER BY created_at DESC LIMIT 1")).mappings().one()
    dump = json.dumps({k: str(v) for k, v in raw.items()}, ensure_ascii=False)
    assert "川崎 太郎" not in dump and "044-123-4567" not in dump
    assert raw["status"] == "受付" and raw["procedure_id"] == "sodaigomi"


def test_cancel_stores_nothing(stack, resident) -> None:
    before = _submissions(stack)
    r = resident(USER)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("タンス1つ")
    r.say("やめる")
    if "はい" in r.labels():  # the engine asks to confirm
        r.press("はい")
    assert "中止" in r.text_of() or "やめ" in r.text_of()
    assert _submissions(stack) == before


def test_question_in_the_middle_of_a_form_is_answered_then_resumed(stack, resident) -> None:
    r = resident(USER)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("ソファ1つ")
    r.say("住民票の写しがほしいんだけど")
    assert "住民票" in r.text_of() and "続け" in r.text_of()
    r.press("続ける")
    assert "郵便番号" in r.text_of()


def test_expired_session_can_be_resumed(stack, resident) -> None:
    r = resident(USER)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("ソファ1つ")
    stack.services.redis.delete(f"kb:sess:{USER}")  # the 30-minute session expired
    r.say("こんにちは")
    assert "続け" in r.text_of()
    r.press("続ける")
    assert "郵便番号" in r.text_of()


def test_a_form_button_whose_state_is_gone_gets_a_polite_restart(stack, resident) -> None:
    r = resident(USER)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    stack.services.redis.delete(f"kb:sess:{USER}", f"kb:formsave:{USER}")  # e.g. Redis lost its data
    r.press("やめる")
    assert "最初から" in r.text_of()


def test_road_damage_report_with_location_and_photo(stack, resident) -> None:
    """The photo is fetched from LINE's content API (the emulator) and stored with the report."""
    user = "U" + "a7" * 16
    r = resident(user)
    r.say("道路に大きな穴があいていて危ない")
    r.press("このLINEで申し込む")
    r.press("道路")
    r.press("穴・陥没")
    event = stack.sender.events.location(user, 35.5308, 139.7029, address="神奈川県川崎市川崎区宮本町1")
    stack.sender.send([event])
    r._wait(event)
    photo = b"\xff\xd8\xff\xe0" + b"road-damage-photo" * 64
    image = stack.sender.events.image(user)
    stack.emulator.emulator.add_content(image["message"]["id"], photo, "image/jpeg")
    stack.sender.send([image])
    r._wait(image)
    assert "画像を受け取れませんでした" not in r.text_of()
    stored = list((stack.services.settings.var_dir / "uploads").rglob("*"))
    assert any(p.is_file() and p.read_bytes() == photo for p in stored)


def test_submissions_export_cli_gives_the_back_office_a_csv(stack, resident, pg_database, redis_url) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    r = resident("U" + "e8" * 16)
    _fill_sodaigomi(r)
    r.press("送信")
    receipt = r.text_of().split("受付番号：")[1][:16]
    env = {"DATABASE_URL": pg_database, "REDIS_URL": redis_url}
    full = CliRunner().invoke(main, ["submissions", "export", "--procedure", "sodaigomi"], env=env)
    assert full.exit_code == 0, full.output
    assert receipt in full.stdout and "川崎 太郎" in full.stdout
    masked = CliRunner().invoke(main, ["submissions", "export", "--masked"], env=env)
    assert receipt in masked.stdout and "川崎 太郎" not in masked.stdout


def test_a_script_published_mid_conversation(stack, resident) -> None:
    """Staff publish a new version while a resident is in the form: that resident finishes on the
    version they started; a resident who starts afterwards gets the new one. No restart."""
    from sqlalchemy import text as sql

    from bot.admin.script_service import ScriptService
    from bot.config import PROJECT_ROOT

    old_prompt = "粗大ごみを出す場所の郵便番号を、7けたで入力してください。"
    new_prompt = "（改訂）収集場所の郵便番号を7けたで入力してください。"
    before = resident("U" + "5e" * 16)
    before.say("粗大ごみを出したい")
    before.press("このLINEで申し込む")
    original = (PROJECT_ROOT / "dialogs" / "sodaigomi.yml").read_text(encoding="utf-8")
    service = ScriptService(stack.services.db, stack.services.scripts)
    try:
        checked, row = service.publish("sodaigomi", original.replace(old_prompt, new_prompt), actor="test")
        assert row is not None, checked
        time.sleep(1.2)  # workers look for published versions at most once a second
        before.say("ソファ1つ")
        assert old_prompt in before.text_of() and new_prompt not in before.text_of()
        after = resident("U" + "6f" * 16)
        after.say("粗大ごみを出したい")
        after.press("このLINEで申し込む")
        after.say("ソファ1つ")
        assert new_prompt in after.text_of()
        before.say("2100004")  # the first resident goes on, on the old version
        assert "宮本町" in before.text_of()
    finally:
        with stack.services.db.session() as s:
            s.execute(sql("DELETE FROM script_versions WHERE script_id = 'sodaigomi'"))


def test_back_and_edit_through_the_stack(stack, resident) -> None:
    r = resident("U" + "7a" * 16)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("ソファ1つ")
    assert "郵便番号" in r.text_of()
    r.say("戻る")  # back to the items question
    assert "出したいもの" in r.text_of()
    r.say("タンス1つ")
    r.say("2100004")
    r.say("1-2-3")
    r.say("来週の火曜")
    r.press("自宅の玄関前")
    r.say("川崎 太郎")
    r.say("044-123-4567")
    r.press("なし")
    assert "タンス" in r.text_of() and "ソファ" not in r.text_of()
    r.press("修正")
    r.press("電話番号")
    r.say("090-1111-2222")
    assert "090-1111-2222" in r.text_of() and "送信" in r.labels()  # back at the confirmation
    r.press("送信")
    assert "受付番号：KW-" in r.text_of()
