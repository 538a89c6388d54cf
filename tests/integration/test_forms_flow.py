"""Chat forms through the whole stack: webhook → queue → engine → PostgreSQL → emulator."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select, text

from bot.submissions.models import Submission

USER = "U" + "f0" * 16


def _actions(messages: list[dict]) -> list[dict]:
    """Every tappable action in the messages (quick replies, template and Flex buttons)."""
    found: list[dict] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            action = node.get("action")
            if isinstance(action, dict) and "label" in action:
                found.append(action)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(messages)
    return found


class Resident:
    def __init__(self, stack, user_id: str = USER) -> None:
        self.stack = stack
        self.user_id = user_id
        self.last: list[dict] = []

    def _wait(self, event: dict, timeout: float = 15.0) -> list[dict]:
        event_id = event["webhookEventId"]
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = [r["message"] for r in self.stack.answers(self.user_id) if r["webhookEventId"] == event_id]
            if got:
                self.last = got
                return got
            time.sleep(0.02)
        raise AssertionError(f"no answer to {event.get('message') or event.get('postback')}")

    def say(self, words: str) -> list[dict]:
        event = self.stack.sender.events.text(self.user_id, words)
        assert self.stack.sender.send([event]).status_code == 200
        return self._wait(event)

    def press(self, label: str) -> list[dict]:
        action = next((a for a in _actions(self.last) if a["label"] == label), None)
        assert action is not None, f"no button {label!r} in {[a['label'] for a in _actions(self.last)]}"
        if action["type"] == "message":
            return self.say(action["text"])
        event = self.stack.sender.events.postback(self.user_id, action["data"])
        self.last_event = event
        assert self.stack.sender.send([event]).status_code == 200
        return self._wait(event)

    def text_of(self) -> str:
        return json.dumps(self.last, ensure_ascii=False)


def _fill_sodaigomi(r: Resident) -> None:
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


def test_sodaigomi_form_to_a_receipt_stored_once_with_personal_data_encrypted(stack) -> None:
    r = Resident(stack)
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


def test_cancel_stores_nothing(stack) -> None:
    before = _submissions(stack)
    r = Resident(stack)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("タンス1つ")
    r.say("やめる")
    if any(a["label"] == "はい" for a in _actions(r.last)):  # the engine asks to confirm
        r.press("はい")
    assert "中止" in r.text_of() or "やめ" in r.text_of()
    assert _submissions(stack) == before


def test_question_in_the_middle_of_a_form_is_answered_then_resumed(stack) -> None:
    r = Resident(stack)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("ソファ1つ")
    r.say("住民票の写しがほしいんだけど")
    assert "住民票" in r.text_of() and "続け" in r.text_of()
    r.press("続ける")
    assert "郵便番号" in r.text_of()


def test_expired_session_can_be_resumed(stack) -> None:
    r = Resident(stack)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("ソファ1つ")
    stack.services.redis.delete(f"kb:sess:{USER}")  # the 30-minute session expired
    r.say("こんにちは")
    assert "続け" in r.text_of()
    r.press("続ける")
    assert "郵便番号" in r.text_of()
