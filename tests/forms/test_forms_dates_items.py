"""Japanese date parsing and date rules (fixed today, holidays, year end); item lists and fees."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from forms_helpers import NOW, Walker, load

from bot.forms.slots import Answer, Ctx, Invalid, Ok, slot_type
from bot.forms.slots.base import JST
from bot.forms.slots.dates import parse_date
from bot.forms.slots.items import parse_items

TODAY = NOW.date()  # 2026-11-30, Monday
PAST = (TODAY - timedelta(days=365), TODAY)

PARSE = [
    ("今日", None, "2026-11-30"),
    ("明日", None, "2026-12-01"),
    ("あした", None, "2026-12-01"),
    ("あさって", None, "2026-12-02"),
    ("しあさって", None, "2026-12-03"),
    ("3日後", None, "2026-12-03"),
    ("来週の火曜", None, "2026-12-08"),
    ("来週火曜日", None, "2026-12-08"),
    ("再来週の月曜", None, "2026-12-14"),
    ("今週の金曜", None, "2026-12-04"),
    ("火曜日", None, "2026-12-01"),
    ("次の月曜", None, "2026-12-07"),
    ("12月3日", None, "2026-12-03"),
    ("１２月３日（木）", None, "2026-12-03"),
    ("12/3", None, "2026-12-03"),
    ("十二月三日", None, "2026-12-03"),
    ("12月3日でお願いします", None, "2026-12-03"),
    ("1月5日", None, "2027-01-05"),
    ("令和8年12月3日", None, "2026-12-03"),
    ("令和7年12月3日", None, "2025-12-03"),
    ("R8.12.3", None, "2026-12-03"),
    ("令和元年5月1日", None, "2019-05-01"),
    ("2026-12-03", None, "2026-12-03"),
    ("2026/12/3", None, "2026-12-03"),
    ("2026年12月3日", None, "2026-12-03"),
    ("20261203", None, "2026-12-03"),
    ("来月3日", None, "2026-12-03"),
    ("11月20日", PAST, "2026-11-20"),
    ("12月1日", PAST, "2025-12-01"),
    ("2月30日", None, None),
    ("来週のどこか", None, None),
]


@pytest.mark.parametrize(("text", "window", "expected"), PARSE, ids=[p[0] for p in PARSE])
def test_parse_japanese_dates(text, window, expected):
    got = parse_date(text, TODAY, window)
    assert (got.isoformat() if got else None) == expected


def _check(slot_name: str, text_or_params, now: datetime = NOW, script: str = "sodaigomi"):
    sc = load(script)
    slot = sc.slot(slot_name)
    answer = (Answer("date", params=text_or_params) if isinstance(text_or_params, dict)
              else Answer("text", text=text_or_params))
    return slot_type("date").parse(slot, answer, Ctx(sc, {}, now))


SODAI = [
    ("12月3日", NOW, None),  # Mon → Thu: Mon, Tue, Wed counted
    ("12月2日", NOW, "lead_time"),
    ("明日", NOW, "lead_time"),
    ("今日", NOW, "lead_time"),
    ("12月6日", NOW, "weekday"),  # Sunday
    ("12月5日", NOW, None),  # Saturday collections exist
    ("12月30日", NOW, "period"),  # year-end pause
    ("1月2日", NOW, "period"),
    ("2027-01-11", NOW, None),  # 成人の日: holidays are normal collection days
    ("2027-01-29", NOW, None),  # today + 60
    ("2027-01-30", NOW, "too_late"),
    ("11月20日", NOW, "too_late"),  # guessed as next year's 11/20 → beyond 60 days
    ("12月8日", datetime(2026, 12, 4, 9, tzinfo=JST), "lead_time"),  # Fri → Tue: Fri, Mon only
    ("12月9日", datetime(2026, 12, 4, 9, tzinfo=JST), None),  # Fri, Mon, Tue
    ("1月4日", datetime(2026, 12, 30, 9, tzinfo=JST), "lead_time"),  # 12/31–1/3 not counted
    ("1月6日", datetime(2026, 12, 30, 9, tzinfo=JST), None),  # 12/30, 1/4, 1/5
]


@pytest.mark.parametrize(("text", "now", "reason"), SODAI, ids=[f"{s[0]}@{s[1]:%m%d}" for s in SODAI])
def test_sodaigomi_collection_date_rules(text, now, reason):
    out = _check("collection_date", text, now)
    if reason is None:
        assert isinstance(out, Ok), out
    else:
        assert isinstance(out, Invalid) and out.reason == reason, out
        assert "いちばん早く選べる日" in out.message or reason == "too_late"


def test_datetimepicker_params_and_suggestions():
    assert _check("collection_date", {"date": "2026-12-03"}).value == "2026-12-03"
    assert _check("collection_date", {"date": "2026-12-06"}).reason == "weekday"
    w = Walker(load("sodaigomi"))
    w.state["current"] = "collection_date"
    acts = slot_type("date").quick_actions(w.script.slot("collection_date"), Ctx(w.script, {}, NOW))
    assert [a["label"] for a in acts] == ["12月3日(木)", "12月4日(金)", "12月5日(土)", "カレンダーで選ぶ"]
    picker = acts[-1]
    # The calendar opens at the first day the lead-time rule allows, not merely a few days ahead.
    assert (picker["min"], picker["max"], picker["initial"]) == ("2026-12-03", "2027-01-29", "2026-12-03")


def test_business_days_only_rejects_public_holidays():
    from bot.forms.script import Script

    sc = Script.from_text("""
id: t
slots:
  - {id: d, type: date, business_days_only: true, prompt: p, help: h}
""")
    slot = sc.slot("d")
    out = slot_type("date").parse(slot, Answer("text", text="2027年1月11日"), Ctx(sc, {}, NOW))
    assert isinstance(out, Invalid) and out.reason == "holiday" and "成人の日" in out.message
    assert slot_type("date").parse(slot, Answer("text", text="12月5日"), Ctx(sc, {}, NOW)).reason == "weekday"
    assert slot_type("date").parse(slot, Answer("text", text="12月29日"), Ctx(sc, {}, NOW)).reason == "period"
    assert isinstance(slot_type("date").parse(slot, Answer("text", text="12月28日"), Ctx(sc, {}, NOW)), Ok)


def test_past_only_date_rejects_future():
    out = _check("drill_date", "明日", script="shobo_kunren_report")
    assert isinstance(out, Invalid) and out.reason == "future"
    assert _check("drill_date", "昨日", script="shobo_kunren_report").value == "2026-11-29"
    assert _check("drill_date", "11/29", script="shobo_kunren_report").value == "2026-11-29"


# ----------------------------------------------------------------------------------------- items
TABLE = load("sodaigomi").table("data/sodaigomi_fees.yml")

ITEMS = [
    ("ソファ1つと自転車2台", [("sofa", 1), ("bicycle", 2)]),
    ("布団3枚、タンス", [("futon", 3), ("tansu", 1)]),
    ("ソファー２個", [("sofa", 2)]),
    ("自転車二台とたんす一つ", [("bicycle", 2), ("tansu", 1)]),
    ("sofa x2", [("sofa", 2)]),
    ("2台の自転車", [("bicycle", 2)]),
    ("ふとん ひとつ", [("futon", 1)]),
    ("座布団5枚と布団", [("zabuton", 5), ("futon", 1)]),
    ("タンスを捨てたいです", [("tansu", 1)]),
    ("ベッド\nマットレス", [("bed_frame", 1), ("mattress_spring", 1)]),
]


@pytest.mark.parametrize(("text", "expected"), ITEMS, ids=[i[0] for i in ITEMS])
def test_item_list_parsing(text, expected):
    found, unknown = parse_items(text, TABLE)
    assert unknown == []
    assert [(e["id"], q) for e, _, q in found] == expected


def _items(text: str):
    sc = load("sodaigomi")
    return slot_type("item_list").parse(sc.slot("items"), Answer("text", text=text), Ctx(sc, {}, NOW))


def test_item_fees_and_bundles():
    out = _items("ソファ1つと自転車2台とベッド")
    assert isinstance(out, Ok)
    assert [(i["name"], i["fee"]) for i in out.value["items"]] == [("ソファ", 500), ("自転車", 1000), ("ベッド", 1000)]
    assert out.value["total_yen"] == 2500 and "合計：2,500円" in out.ack and "受付センター" in out.ack
    futon = _items("布団7枚")  # up to 5 count as one item
    assert futon.value["items"][0]["units"] == 2 and futon.value["total_yen"] == 1000
    assert _items("ストーブ").value["total_yen"] == 200
    assert _items("ソファ1つとソファ1つ").value["items"][0]["quantity"] == 2
    assert out.value["items"][0]["confidence"] == "UNVERIFIED"


def test_item_errors():
    unknown = _items("ソファと宇宙船")
    assert isinstance(unknown, Invalid) and "「宇宙船」がわかりませんでした" in unknown.message
    typo = _items("ソフア")
    assert "もしかして" in typo.message and "ソファ" in typo.message
    refused = _items("冷蔵庫1台")
    assert refused.reason == "not_accepted" and "家電リサイクル法" in refused.message
    assert _items("自転車11台").reason == "too_many"
    assert _items("自転車0台").reason == "zero"
    assert _items("。").reason == "empty"
