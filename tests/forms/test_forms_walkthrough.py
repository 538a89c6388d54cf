"""Every shipped script walked to completion with the pure engine."""

from __future__ import annotations

import json

import pytest
from forms_helpers import DIALOGS, Walker, assert_line_valid, load

from bot.forms import engine
from bot.forms.validate import script_files, validate_file


@pytest.mark.parametrize("path", script_files([DIALOGS]), ids=lambda p: p.stem)
def test_shipped_scripts_are_valid(path):
    _, problems = validate_file(path)
    assert [p.format() for p in problems] == []


def _finish(w: Walker, receipt: str = "R-2026-000123"):
    assert w.result.status == "active" and w.state["phase"] == "confirming"
    assert w.messages[-1]["type"] == "flex"
    w.tap("送信")
    assert w.result.status == "submitted" and w.result.messages == []
    (submit,) = w.submits()
    json.dumps(w.state, ensure_ascii=False)  # state stays JSON-serialisable
    json.dumps(submit.to_dict(), ensure_ascii=False)
    done = engine.completion_messages(w.script, w.state, receipt)
    assert_line_valid(done)
    assert receipt in done[0]["text"]
    return submit, done[0]["text"]


def test_sodaigomi_to_completion():
    w = Walker(load("sodaigomi"))
    assert "粗大ごみ" in w.messages[0]["text"]
    w.text("ソファ1つと自転車2台")
    assert "合計：1,500円" in w.all_text
    w.text("〒２１０－０００４")
    assert "神奈川県川崎市川崎区宮本町" in w.all_text
    w.text("1-2-3 コーポ川崎101")
    w.tap("12月3日(木)")
    w.tap("自宅の玄関前")
    w.text("川崎 太郎")
    w.text("044-200-3939")
    w.tap("なし")
    assert "合計 1,500円" in w.last_text and "粗大ごみ処理券" in w.last_text
    submit, done = _finish(w)
    assert submit.procedure_id == "sodaigomi" and submit.script_version == "2026.11.1"
    assert submit.answers["items"]["total_yen"] == 1500
    assert submit.answers["postal_code"]["ward"] == "川崎区"
    assert submit.answers["address"] == "1-2-3 コーポ川崎101"
    assert submit.answers["collection_date"] == "2026-12-03"
    assert submit.answers["phone"] == "044-200-3939"
    assert "note" not in submit.answers and "put_place_detail" not in submit.answers
    assert set(submit.personal_fields) == {"name", "phone"}
    assert "1,500円" in done and "粗大ごみ処理券" in done and "044-930-5300" in done
    assert len(w.analytics("question_answered")) == 8
    assert w.analytics("form_completed")[0].props["answered"] == 7  # the skipped note is not an answer


def test_photo_consent_to_completion():
    w = Walker(load("photo_consent"))
    w.text("川崎市立宮本小学校")
    w.text("３年２組")
    w.text("川崎 花子")
    w.tap("学校ホームページの写真")
    w.tap("学校だより・学年だより")
    assert "選択中：学校ホームページの写真、学校だより・学年だより" in w.last_text
    w.tap("決定")
    w.tap("名前はのせない")
    w.text("川崎 太郎")
    w.tap("同意する")
    submit, done = _finish(w)
    assert submit.answers["uses"] == ["website", "newsletter"]
    assert submit.answers["with_name"] is False and submit.answers["agreement"] is True
    assert set(submit.personal_fields) == {"child_name", "guardian_name"}
    assert "川崎市立宮本小学校" in done


def test_photo_consent_none_skips_name_question():
    w = Walker(load("photo_consent"))
    for t in ("川崎市立宮本小学校", "3年2組", "川崎 花子"):
        w.text(t)
    w.text("どれも承諾しない")
    assert "保護者の方の名前" in w.last_text  # with_name is not asked
    w.text("川崎 太郎")
    w.text("同意します")
    submit, _ = _finish(w)
    assert submit.answers["uses"] == ["none"] and "with_name" not in submit.answers


def test_fire_drill_report_to_completion():
    w = Walker(load("shobo_kunren_report"))
    w.text("川崎〇〇ビル")
    w.text("2100004")
    w.text("1-1")
    w.tap("その他")
    w.text("複合用途（店舗と事務所）")
    w.text("防火 一郎")
    w.text("11月20日")
    w.text("通報訓練、避難訓練")
    w.text("約２５人")
    w.text("1階から出火を想定し、通報と避難を行った。避難完了まで5分。")
    w.tap("なし")
    w.text("〇〇株式会社 総務課 川崎 太郎")
    w.text("+81 44-200-3939")
    w.text("bousai@example.co.jp")
    submit, _ = _finish(w)
    a = submit.answers
    assert a["drill_date"] == "2026-11-20" and a["drill_types"] == ["report", "evacuate"]
    assert a["participants"] == 25 and a["reporter_phone"] == "044-200-3939"
    assert a["building_use"] == "other" and "issues" not in a
    assert set(submit.personal_fields) == {"fire_manager", "reporter_name", "reporter_phone", "reporter_email"}


def test_recycling_incentive_to_completion():
    w = Walker(load("shigen_shudan_kaishu"))
    w.text("宮本町内会")
    w.text("1234")
    w.text("10月1日")
    w.text("9月30日")  # before the start → rejected
    assert "より前の日は選べません" in w.last_text
    w.text("10/31")
    for kg in ("120kg", "８０キロ", "60", "5kg", "三十", "0"):
        w.text(kg)
    w.text("〇〇資源株式会社")
    w.image("store://slip/1")
    w.text("川崎 太郎")
    w.text("09012345678")
    submit, _ = _finish(w)
    a = submit.answers
    assert (a["period_from"], a["period_to"]) == ("2026-10-01", "2026-10-31")
    assert [a[k] for k in ("newspaper_kg", "magazine_kg", "cardboard_kg", "carton_kg", "cloth_kg", "other_kg")] == \
        [120, 80, 60, 5, 30, 0]
    assert a["slip_photo"]["content_ref"] == "store://slip/1" and a["phone"] == "090-1234-5678"


def test_damage_report_to_completion_with_location_and_photo():
    w = Walker(load("doro_koen_kasen_report"))
    w.tap("公園")
    assert "公園のどんな不具合" in w.last_text
    w.tap("遊具")
    w.location(35.5308, 139.7029, "神奈川県川崎市川崎区宮本町1")
    w.image("store://img/42")
    w.text("ブランコの鎖が切れています")
    w.tap("危ない")
    w.tap("希望する")
    w.text("川崎 太郎")
    w.text("090-1234-5678")
    submit, _ = _finish(w)
    a = submit.answers
    assert a["place_kind"] == "park" and a["park_damage"] == "遊具" and "road_damage" not in a
    assert a["location"]["latitude"] == pytest.approx(35.5308) and a["photo"]["content_ref"] == "store://img/42"
    assert a["danger"] is True and set(submit.personal_fields) == {"reporter_name", "reporter_phone"}


def test_damage_report_anonymous_skips_contact():
    w = Walker(load("doro_koen_kasen_report"))
    w.text("道路")
    w.text("穴・陥没")
    w.text("宮本町1-1の交差点の北側")  # a typed place is accepted (allow_text)
    w.tap("なし")
    w.text("歩道に直径30cmほどの穴")
    w.text("いいえ")
    w.tap("希望しない")
    submit, _ = _finish(w)
    assert "reporter_name" not in submit.answers and submit.personal_fields == ()
    assert submit.answers["location"] == {"text": "宮本町1-1の交差点の北側"}
