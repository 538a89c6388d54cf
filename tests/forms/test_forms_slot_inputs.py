"""Each slot type: good inputs normalised, bad inputs re-prompted politely with an example."""

from __future__ import annotations

import pytest
import yaml
from forms_helpers import NOW, Walker

from bot.conversation.incoming import Location
from bot.forms.script import Script
from bot.forms.slots import Answer, Ctx, Invalid, Ok, slot_type
from bot.forms.slots.postal import lookup


def one_slot_script(slot: dict, **extra) -> Script:
    data = {
        "id": "t", "procedure_id": "t", "procedure_name": "テスト手続", "version": "1",
        "owner": {"section": "テスト課", "phone": "044-000-0000"}, "intro": "テストです。",
        "slots": [{"id": "q", "label": "質問", "prompt": "入力してください。", "help": "ヘルプ本文です。", **slot}],
        "completion": {"message": "受付番号：{receipt_no}"}, "submission": {"notify": {"kind": "log"}}, **extra,
    }
    return Script.from_text(yaml.safe_dump(data, allow_unicode=True), table_texts={})


def parse(slot: dict, answer: Answer, values: dict | None = None):
    script = one_slot_script(slot)
    return slot_type(slot["type"]).parse(script.slot("q"), answer, Ctx(script, values or {}, NOW))


def t(text: str) -> Answer:
    return Answer("text", text=text)


GOOD = [
    ({"type": "text", "max_length": 10}, "こんにちは", "こんにちは"),
    ({"type": "number", "unit": "台"}, "３台", 3),
    ({"type": "number", "unit": "人"}, "二十五人", 25),
    ({"type": "number"}, "1,200", 1200),
    ({"type": "number", "unit": "kg"}, "約30キロ", 30),
    ({"type": "choice", "choices": ["道路", "公園"]}, "公園", "公園"),
    ({"type": "choice", "choices": [{"value": "a", "label": "自宅の玄関前"}]}, "玄関前", "a"),
    ({"type": "multi_choice", "choices": ["通報", "消火", "避難"]}, "避難、通報", ["通報", "避難"]),
    ({"type": "postal_code"}, "〒２１０－０００４", "2100004"),
    ({"type": "address"}, "宮本町１－２－３　コーポ", "宮本町1-2-3 コーポ"),
    ({"type": "phone"}, "044-200-3939", "044-200-3939"),
    ({"type": "phone"}, "０９０１２３４５６７８", "090-1234-5678"),
    ({"type": "phone"}, "+81 90 1234 5678", "090-1234-5678"),
    ({"type": "phone"}, "(044)200-3939", "044-200-3939"),
    ({"type": "phone"}, "0312345678", "03-1234-5678"),
    ({"type": "email"}, "Taro@Example.JP", "Taro@example.jp"),
    ({"type": "email"}, "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp"),
    ({"type": "yes_no"}, "うん", True),
    ({"type": "yes_no"}, "OK", True),
    ({"type": "yes_no"}, "いいえ", False),
    ({"type": "yes_no", "yes_label": "危ない", "no_label": "危なくない"}, "危なくない", False),
    ({"type": "consent"}, "同意します", True),
]


@pytest.mark.parametrize(("slot", "text", "expected"), GOOD, ids=[f"{g[0]['type']}:{g[1]}" for g in GOOD])
def test_good_inputs(slot, text, expected):
    out = parse(slot, t(text))
    assert isinstance(out, Ok), out
    value = out.value["code"] if slot["type"] == "postal_code" else out.value
    assert value == expected


BAD = [
    ({"type": "text", "min_length": 2}, "あ", "too_short", "2文字以上"),
    ({"type": "text", "max_length": 5}, "あいうえおか", "too_long", "5文字以内"),
    ({"type": "text", "pattern": "[0-9]+年.*", "pattern_message": "学年から入力してください。"}, "二組", "pattern", "学年から"),
    ({"type": "number"}, "たくさん", "not_number", "数字が読み取れません"),
    ({"type": "number", "min": 1}, "0", "too_small", "1以上"),
    ({"type": "number", "max": 100, "unit": "人"}, "101人", "too_large", "100人以下"),
    ({"type": "number"}, "2.5", "not_integer", "整数"),
    ({"type": "choice", "choices": ["道路", "公園"]}, "海", "no_match", "選択肢の中から"),
    ({"type": "multi_choice", "choices": ["通報", "消火"]}, "通報、水泳", "no_match", "「水泳」は選択肢にありません"),
    ({"type": "multi_choice", "choices": ["a", "b", "c"], "max_select": 1}, "a、b", "too_many", "1つまで"),
    ({"type": "postal_code"}, "21000", "format", "7けた"),
    ({"type": "postal_code"}, "000-0000", "unknown", "見つかりませんでした"),
    ({"type": "postal_code", "city": "川崎市"}, "100-0001", "outside", "東京都千代田区千代田"),
    ({"type": "address"}, "宮本町", "no_number", "番地"),
    ({"type": "address"}, "http://example.com/1", "not_address", "住所として"),
    ({"type": "phone"}, "044-200-393", "length", "けた数"),
    ({"type": "phone"}, "でんわ", "format", "市外局番"),
    ({"type": "email"}, "taro.example.jp", "no_at", "@"),
    ({"type": "email"}, "taro@example", "format", "形が正しくありません"),
    ({"type": "email"}, "taro@gmail.con", "typo", "gmail.com"),
    ({"type": "yes_no"}, "たぶん", "no_match", "「はい」か「いいえ」"),
    ({"type": "consent"}, "同意しない", "declined", "進めることができません"),
    ({"type": "consent"}, "まあね", "no_match", "同意する"),
    ({"type": "date"}, "そのうち", "not_date", "日付として"),
]


@pytest.mark.parametrize(("slot", "text", "reason", "fragment"), BAD, ids=[f"{b[0]['type']}:{b[2]}" for b in BAD])
def test_bad_inputs_are_explained_with_an_example(slot, text, reason, fragment):
    out = parse(slot, t(text))
    assert isinstance(out, Invalid) and out.reason == reason, out
    assert fragment in out.message
    w = Walker(one_slot_script(slot))
    w.text(text)
    assert w.state["failures"] == {"q": 1} and w.state["current"] == "q"
    assert fragment in w.last_text and "例：" in w.last_text
    assert w.analytics("validation_failed")[0].props["reason"] == reason


def test_media_and_location_inputs():
    loc = {"type": "location", "within": "kawasaki"}
    ok = parse(loc, Answer("location", location=Location(35.53, 139.70, "神奈川県川崎市川崎区宮本町1")))
    assert isinstance(ok, Ok) and ok.value["latitude"] == 35.53
    outside = parse(loc, Answer("location", location=Location(35.68, 139.76, "東京都千代田区丸の内1")))
    assert isinstance(outside, Invalid) and outside.reason == "outside"
    yokohama = parse(loc, Answer("location", location=Location(35.50, 139.66, "神奈川県横浜市鶴見区")))
    assert isinstance(yokohama, Invalid) and yokohama.reason == "outside"
    assert parse(loc, t("宮本町のあたり")).reason == "not_location"  # text not allowed here
    assert isinstance(parse({**loc, "allow_text": True}, t("宮本町1-1の角")), Ok)
    img = {"type": "image"}
    assert parse(img, t("写真です")).reason == "not_image"
    assert parse(img, Answer("image", content_ref=None)).reason == "not_stored"
    assert parse(img, Answer("image", content_ref="s3://x")).value["content_ref"] == "s3://x"
    assert parse({"type": "text"}, Answer("sticker")).reason == "wrong_kind"


def test_three_failures_offer_help_and_contact():
    w = Walker(one_slot_script({"type": "phone"}))
    for n in (1, 2):
        w.text("わからない番号")
        assert "テスト課" not in w.last_text, n
    w.text("わからない番号")
    assert w.state["failures"]["q"] == 3
    assert "ヘルプ本文です。" in w.last_text and "テスト課（電話 044-000-0000）" in w.last_text
    w.text("044-200-3939")
    assert w.state["failures"] == {} and w.state["phase"] == "confirming"


def test_multi_choice_by_buttons_with_exclusive_choice():
    slot = {"type": "multi_choice", "choices": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"},
                                                {"value": "n", "label": "なし", "exclusive": True}]}
    w = Walker(one_slot_script(slot))
    w.tap("決定")
    assert "1つ以上" in w.last_text
    w.tap("A")
    w.tap("B")
    assert w.quick_labels()[:2] == ["✓A", "✓B"]
    w.tap("✓B")  # tap again: unselect
    w.tap("なし")  # exclusive: clears the others
    assert w.state["scratch"] == [2]
    w.tap("A")
    w.tap("決定")
    assert w.state["values"]["q"] == ["a"]


def test_postal_lookup_real_and_fake_codes():
    assert lookup("2100004")["address"] == "神奈川県川崎市川崎区宮本町"
    assert lookup("2160002")["ward"] == "宮前区"
    assert lookup("0000000") is None
    assert lookup("1000001")["city"] == "千代田区"
    assert lookup("2100000")["town"] == ""  # 以下に掲載がない場合


def test_postal_code_prompt_feeds_next_question():
    w = Walker(one_slot_script({"type": "postal_code", "city": "川崎市"}))
    w.text("100-0001")
    assert "川崎市内の住所だけ" in w.last_text
    w.text("2100004")
    assert "〒210-0004：神奈川県川崎市川崎区宮本町 ですね。" in w.all_text
