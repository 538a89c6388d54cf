"""戻る / 修正 / やめる / ヘルプ, conditions both ways, off-topic + resume, double 送信."""

from __future__ import annotations

import pytest
from forms_helpers import Walker, assert_line_valid, load

from bot.forms import engine
from bot.nlu.result import IntentScore, NluResult


def to_confirmation_sodaigomi() -> Walker:
    w = Walker(load("sodaigomi"))
    for t in ("ソファ1つ", "2100004", "1-2-3", "12月3日", "自宅の玄関前", "川崎 太郎", "044-200-3939", "なし"):
        w.text(t)
    assert w.state["phase"] == "confirming"
    return w


def test_back_goes_to_previous_question_and_keeps_answer():
    w = Walker(load("sodaigomi"))
    w.text("戻る")
    assert "これが最初の質問です" in w.last_text and w.state["current"] == "items"
    w.text("ソファ1つ")
    w.text("2100004")
    w.tap("戻る")
    assert w.state["current"] == "postal_code" and "ひとつ前の質問に戻ります" in w.last_text
    assert "前の回答：〒210-0004" in w.last_text and "前と同じ" in w.quick_labels()
    w.tap("前と同じ")
    assert w.state["current"] == "address"
    w.text("もどる")
    w.text("もどる")
    assert w.state["current"] == "items"
    w.text("自転車2台")  # a new answer replaces the old one; later answers are asked again
    assert w.state["current"] == "postal_code" and w.state["values"]["items"]["total_yen"] == 1000


def test_conditions_forward_and_back():
    w = Walker(load("sodaigomi"))
    for t in ("ソファ1つ", "2100004", "1-2-3", "12月3日"):
        w.text(t)
    w.tap("その他")
    assert w.state["current"] == "put_place_detail"
    w.text("駐車場の横")
    w.text("戻る")
    assert w.state["current"] == "put_place_detail"
    w.text("戻る")
    assert w.state["current"] == "put_place"
    w.tap("自宅の玄関前")
    assert w.state["current"] == "name"  # the detail question is skipped now
    w.text("戻る")
    assert w.state["current"] == "put_place"  # 戻る skips the inactive question too
    w.tap("前と同じ")
    w.text("川崎 太郎")
    w.text("044-200-3939")
    w.tap("なし")
    w.tap("送信")
    (submit,) = w.submits()
    assert "put_place_detail" not in submit.answers  # an answer to a question no longer asked is dropped


def test_edit_from_confirmation_returns_to_confirmation():
    w = to_confirmation_sodaigomi()
    w.tap("修正")
    assert w.state["phase"] == "editing" and "修正する項目" in w.last_text
    assert "電話番号" in w.quick_labels() and len(w.quick_labels()) <= 13
    w.tap("電話番号")
    assert w.state["current"] == "phone" and "確認に戻る" in w.quick_labels()
    w.text("090-1111-2222")
    assert w.state["phase"] == "confirming" and "090-1111-2222" in w.last_text
    # editing a choice that opens a conditional question asks it, then confirms
    w.text("修正")
    w.text("5")  # 5th field in the list = 出す場所（希望）
    assert w.state["current"] == "put_place"
    w.tap("その他")
    assert w.state["current"] == "put_place_detail"
    w.text("裏口の前")
    assert w.state["phase"] == "confirming" and "裏口の前" in w.last_text
    # 戻る while editing goes back to the confirmation unchanged
    w.tap("修正")
    w.tap("お名前")
    w.text("戻る")
    assert w.state["phase"] == "confirming" and w.state["values"]["name"] == "川崎 太郎"


def test_edit_list_pages_when_many_fields():
    w = Walker(load("shobo_kunren_report"))
    for t in ("ビル", "2100004", "1-1", "事務所", "防火 一郎", "11月20日", "避難訓練", "10", "避難訓練をした",
              "なし", "川崎 太郎", "044-200-3939", "なし"):
        w.text(t)
    assert w.state["phase"] == "confirming"
    w.tap("修正")
    labels = w.quick_labels()
    assert len(labels) <= 13 and "ほかの項目" in labels and "報告者の電話番号" not in labels
    w.tap("ほかの項目")
    assert "報告者の電話番号" in w.quick_labels()
    w.tap("確認に戻る")
    assert w.state["phase"] == "confirming"


def test_cancel_asks_first_and_stores_nothing():
    w = Walker(load("sodaigomi"))
    w.text("ソファ1つ")
    w.text("やめる")
    assert "やめますか" in w.last_text and w.state["pending"] == "cancel"
    w.tap("いいえ、続ける")
    assert w.state["pending"] is None and w.state["current"] == "postal_code"
    w.tap("やめる")
    w.tap("はい、やめる")
    assert w.result.status == "cancelled" and w.state["phase"] == "cancelled"
    assert w.state["values"] == {} and w.submits() == []
    assert w.analytics("form_cancelled")[0].props["slot"] == "postal_code"
    w.tap("送信") if "送信" in w.quick_labels() else w.text("送信")
    assert w.submits() == []


def test_cancel_from_confirmation_by_text():
    w = to_confirmation_sodaigomi()
    w.text("キャンセル")
    w.text("はい")
    assert w.result.status == "cancelled" and w.submits() == []


def test_help_shows_question_help_and_contact():
    w = Walker(load("sodaigomi"))
    w.tap("ヘルプ")
    assert "品目の名前と数" in w.all_text and "044-930-5300" in w.all_text
    assert w.state["current"] == "items" and w.state["failures"] == {}


def test_double_submit_gives_one_effect():
    w = to_confirmation_sodaigomi()
    flex_submit = w.messages[-1]["contents"]["footer"]["contents"][0]["action"]["data"]
    w.postback(flex_submit)
    assert w.result.status == "submitted"
    w.postback(flex_submit)  # the same button again (double tap / redelivery)
    assert w.result.status == "done" and "すでに送信" in w.last_text
    w.text("送信")
    assert w.result.status == "done"
    assert len(w.submits()) == 1 and len(w.analytics("form_completed")) == 1


@pytest.mark.parametrize("utterance", ["住民票はどこで取れますか？", "こんにちは", "ごみの日を教えて"])
def test_off_topic_is_not_consumed_and_resumes(utterance):
    w = Walker(load("sodaigomi"))
    w.text("ソファ1つ")
    before = w.state
    w.text(utterance)
    assert w.result.status == "off_topic" and w.result.messages == [] and w.result.effects == []
    assert w.result.state == before and w.state["failures"] == {}
    resume = engine.resume_messages(w.script, w.state)
    assert_line_valid(resume)
    assert "続けますか" in resume[0]["text"]
    w.result = engine.StepResult(w.state, resume)
    w.tap("続ける")
    assert w.state["current"] == "postal_code" and "郵便番号" in w.last_text


def test_off_topic_uses_nlu_hint_and_valid_answers_win():
    w = Walker(load("sodaigomi"))
    w.text("ソファ1つ")
    hint = NluResult(text="x", intent=IntentScore("juminhyo_copy", 0.91))
    w.text("住民票", hint=hint)
    assert w.result.status == "off_topic"
    w.text("住民票", hint=("juminhyo_copy", 0.2))  # weak hint: just a wrong answer
    assert w.result.status == "active" and w.state["failures"] == {"postal_code": 1}
    w.text("2100004", hint={"intent": "juminhyo_copy", "confidence": 0.95})  # a valid answer is consumed
    assert w.result.status == "active" and w.state["current"] == "address"
    w.postback("action=richmenu&item=home")  # someone else's postback
    assert w.result.status == "off_topic"


def test_off_topic_at_confirmation():
    w = to_confirmation_sodaigomi()
    w.text("料金はいつ払うのですか？")
    assert w.result.status == "off_topic"
    w.text("えーと")
    assert w.result.status == "active" and "「送信」「修正」「やめる」" in w.all_text


def test_stale_buttons_and_script_mismatch():
    w = Walker(load("sodaigomi"))
    w.text("ソファ1つ")
    w.postback("f=a&i=zzzzzzzz&s=items&c=0")  # another form instance's button
    assert "今は使えません" in w.all_text and w.state["current"] == "postal_code"
    w.postback(f"f=a&i={w.state['instance_id'][:8]}&s=put_place&c=0")  # an older question's button
    assert "前の質問のボタン" in w.all_text and w.state["current"] == "postal_code"
    with pytest.raises(engine.ScriptMismatchError):
        engine.step(load("photo_consent"), w.state, w.result and _text("x"), now=w.now)


def _text(t):
    from bot.conversation.incoming import Incoming

    return Incoming(kind="text", user_id="U", event_id="e", timestamp_ms=0, text=t)


def test_current_question_messages_reshow_state():
    w = to_confirmation_sodaigomi()
    msgs = engine.current_question_messages(w.script, w.state, now=w.now)
    assert msgs[-1]["type"] == "flex"
    assert_line_valid(msgs)


def test_a_wrong_answer_about_the_question_itself_is_re_asked_not_routed():
    """「電話番号なし」 reads like "talk to a person" to the NLU; at the phone question it is about the question."""
    w = Walker(load("sodaigomi"))
    w.text("ソファ1つ")
    w.text("2100004")
    w.text("1-2-3")
    w.tap("12月3日(木)")
    w.tap("自宅の玄関前")
    w.text("川崎 太郎")
    assert w.state["current"] == "phone", w.last_text
    ask_human = ("ask_human", 0.93)
    for words in ("でんわ番号なし", "電話はありません"):
        w.text(words, hint=ask_human)
        assert w.result.status == "active" and w.state["current"] == "phone", words
        assert "例" in w.last_text
    w.text("住民票はどこでとれますか", hint=("juminhyo_copy", 0.93))  # a different subject is still routed
    assert w.result.status == "off_topic"
