"""The other shipped dialog scripts, each walked to a receipt through the whole stack."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.submissions.models import Submission

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # a Monday, as in tests/forms


@pytest.fixture
def fixed_clock(stack):
    """Date answers ("11月20日") are judged against a fixed day, whatever day the tests run."""
    stack.runtime.consumers[0].handler.clock = lambda: NOW
    return NOW


def _start(r, request_text: str) -> None:
    r.say(request_text)
    r.press("このLINEで申し込む")


def _stored(stack, receipt: str) -> Submission:
    with stack.services.db.session() as s:
        return s.scalars(select(Submission).where(Submission.receipt_no == receipt)).one()


def _receipt(r) -> str:
    text = r.text_of()
    assert "受付番号" in text, text[:300]
    return text.split("受付番号：")[1][:16]


def test_photo_consent_to_a_receipt(stack, resident, fixed_clock) -> None:
    r = resident("U" + "1a" * 16)
    _start(r, "子どもの写真を学校のホームページにのせることに同意したい")
    r.say("川崎市立宮本小学校")
    r.say("３年２組")
    r.say("川崎 花子")
    r.press("学校ホームページの写真")
    r.press("学校だより・学年だより")
    r.press("決定")
    r.press("名前はのせない")
    r.say("川崎 太郎")
    r.press("同意する")
    r.press("送信")
    sub = _stored(stack, _receipt(r))
    assert sub.procedure_id == "photo_consent" and sub.answers["uses"] == ["website", "newsletter"]
    assert "川崎 花子" not in json.dumps(sub.answers, ensure_ascii=False)  # personal: encrypted elsewhere


def test_fire_drill_report_to_a_receipt(stack, resident, fixed_clock) -> None:
    r = resident("U" + "2b" * 16)
    _start(r, "会社のビルで消防訓練をやったので結果を報告したい")
    r.say("川崎〇〇ビル")
    r.say("2100004")
    r.say("1-1")
    r.press("その他")
    r.say("複合用途（店舗と事務所）")
    r.say("防火 一郎")
    r.say("11月20日")
    r.say("通報訓練、避難訓練")
    r.say("約２５人")
    r.say("1階から出火を想定し、通報と避難を行った。避難完了まで5分。")
    r.press("なし")
    r.say("〇〇株式会社 総務課 川崎 太郎")
    r.say("+81 44-200-3939")
    r.say("bousai@example.co.jp")
    r.press("送信")
    sub = _stored(stack, _receipt(r))
    assert sub.procedure_id == "shobo_kunren_report"
    assert sub.answers["drill_date"] == "2026-11-20" and sub.answers["participants"] == 25


def test_recycling_incentive_report_with_a_slip_photo_to_a_receipt(stack, resident, fixed_clock) -> None:
    user = "U" + "3c" * 16
    r = resident(user)
    _start(r, "町内会で資源集団回収をしたので奨励金の届出をしたい")
    r.say("宮本町内会")
    r.say("1234")
    r.say("10月1日")
    r.say("9月30日")  # before the start of the period: re-asked
    assert "より前の日は選べません" in r.text_of()
    r.say("10/31")
    for kg in ("120kg", "８０キロ", "60", "5kg", "三十", "0"):
        r.say(kg)
    r.say("〇〇資源株式会社")
    image = stack.sender.events.image(user)
    stack.emulator.emulator.add_content(image["message"]["id"], b"\xff\xd8slip" * 50, "image/jpeg")
    stack.sender.send([image])
    r._wait(image)
    r.say("川崎 太郎")
    r.say("09012345678")
    r.press("送信")
    sub = _stored(stack, _receipt(r))
    assert sub.procedure_id == "shigen_shudan_kaishu"
    assert [sub.answers[k] for k in ("newspaper_kg", "magazine_kg", "cardboard_kg")] == [120, 80, 60]
    assert sub.answers["slip_photo"]["content_ref"].startswith("upload:")
