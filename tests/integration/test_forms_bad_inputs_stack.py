"""Every bad-input path of every slot type, through the whole stack.

Signed webhook → queue → worker → form engine → PostgreSQL, answered through the LINE emulator
(which checks every Messaging API body against LINE's OpenAPI spec), on real Redis and PostgreSQL.
Each walk (tests/integration/bad_input_cases.py) sends bad inputs to every question as a resident
would, checks that the same question is asked again in Japanese with what was wrong (and an
example), then answers well and goes on to a receipt number and exactly one stored application
holding the good answers and none of the bad ones.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode
from zoneinfo import ZoneInfo

import pytest
from bad_input_cases import (
    EXTRAS_ID,
    EXTRAS_TEXT,
    MY_NUMBER,
    WALKS,
    Bad,
    Forged,
    Good,
    Media,
    Photo,
    Picker,
    Place,
    Step,
    Tap,
    Walk,
)
from sqlalchemy import func, select
from sqlalchemy import text as sql

from bot.forms.templates import contact_text
from bot.forms.textnorm import nfkc
from bot.logging_setup import user_hash
from bot.submissions.crypto import decrypt_json
from bot.submissions.models import Submission
from integrations.line.actions import tappable_actions

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # a Monday, as in tests/forms
RECEIPT = re.compile(r"受付番号：(KW-\d{6}-[0-9A-Z]{6})")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
# Words that would mean an untranslated error or a Python value leaked into a resident's chat.
LEAKS = re.compile(r"(?i)\b(?:error|invalid|exception|traceback|none|null|true|false|undefined|please)\b")
ANSWER_ACTIONS = ("datetimepicker", "location", "camera", "cameraRoll")




def _answer_buttons(messages: list[dict]) -> list[str]:
    """Labels of the buttons that answer the current question (not ヘルプ, やめる, 戻る …)."""
    out = []
    for a in tappable_actions(messages):
        if a["type"] in ANSWER_ACTIONS or (a["type"] == "postback" and a["data"].startswith("f=a&")):
            out.append(a["label"])
    return out


def _texts(messages: list[dict]) -> str:
    parts = []
    for m in messages:
        parts += [m.get("text", ""), m.get("altText", ""), (m.get("template") or {}).get("text", "")]
    return "\n".join(p for p in parts if p)


class FormWalker:
    """One resident filling in one form through the stack, checking every turn."""

    def __init__(self, stack, user_id: str) -> None:
        self.stack = stack
        self.user = user_id
        self.last: list[dict] = []
        self.question_buttons: list[str] = []
        self.accepted: dict[str, Any] = {}
        self.bad_texts: list[str] = []

    # -- sending ---------------------------------------------------------------------------
    def _post(self, event: dict) -> list[dict]:
        assert self.stack.sender.send([event]).status_code == 200
        deadline = time.time() + 15
        while time.time() < deadline:
            got = [r["message"] for r in self.stack.answers(self.user) if r["webhookEventId"] == event["webhookEventId"]]
            if got:
                self.last = got
                return got
            time.sleep(0.01)
        raise AssertionError(f"no answer to {event.get('message') or event.get('postback')}")

    def _button(self, label: str) -> dict:
        action = next((a for a in tappable_actions(self.last) if a["label"] == label), None)
        assert action is not None, f"no button {label!r} in {[a['label'] for a in tappable_actions(self.last)]}"
        return action

    def send(self, what) -> list[dict]:
        events = self.stack.sender.events
        if isinstance(what, str):
            return self._post(events.text(self.user, what))
        if isinstance(what, Tap):
            action = self._button(what.label)
            if action["type"] == "message":
                return self._post(events.text(self.user, action["text"]))
            return self._post(events.postback(self.user, action["data"]))
        if isinstance(what, Forged):
            fields = dict(parse_qsl(self._button(what.label)["data"]))
            fields[what.field] = what.value
            return self._post(events.postback(self.user, urlencode(fields)))
        if isinstance(what, Picker):
            picker = next(a for a in tappable_actions(self.last) if a["type"] == "datetimepicker")
            return self._post(events.postback(self.user, picker["data"], {"date": what.date}))
        if isinstance(what, Place):
            return self._post(events.location(self.user, what.latitude, what.longitude, address=what.address))
        if isinstance(what, Photo):
            event = events.image(self.user)
            if what.stored:
                self.stack.emulator.emulator.add_content(event["message"]["id"], b"\xff\xd8\xff\xe0photo" * 40,
                                                         "image/jpeg")
            return self._post(event)
        if isinstance(what, Media):
            if what.kind == "sticker":
                return self._post(events.sticker(self.user))
            if what.kind == "file":
                return self._post(events.file(self.user, "report.pdf", 2048))
            return self._post(getattr(events, what.kind)(self.user))
        raise TypeError(what)

    # -- state -----------------------------------------------------------------------------
    def form(self) -> dict:
        raw = self.stack.services.redis.get(f"kb:sess:{self.user}")
        return (json.loads(raw) if raw else {}).get("form") or {}

    def script(self):
        state = self.form()
        return self.stack.services.scripts.get(state["script_id"], state["script_hash"])

    # -- steps -----------------------------------------------------------------------------
    def start(self, procedure: str) -> None:
        """Tap 「このLINEで申し込む」 (the procedure card's button) for `procedure`."""
        self._post(self.stack.sender.events.postback(self.user, urlencode({"action": "start_form", "proc": procedure})))
        assert self.form().get("phase") == "asking", _texts(self.last)
        self.question_buttons = _answer_buttons(self.last)

    def bad(self, slot: str, step: Bad) -> None:
        before = self.form()
        assert before["current"] == slot and before["phase"] == "asking", (slot, before.get("current"))
        failures = before["failures"].get(slot, 0)
        messages = self.send(step.send)
        if isinstance(step.send, str):
            self.bad_texts.append(step.send)
        said = _texts(messages)
        where = f"{slot} ← {step.send!r}: {said[:400]}"
        after = self.form()
        # The form did not move on and took nothing from the bad input.
        assert after["current"] == slot and after["phase"] == "asking", where
        assert after["values"].get(slot) == before["values"].get(slot), where
        # A clear Japanese answer saying what was wrong.
        assert JAPANESE.search(said) and not LEAKS.search(said), where
        for fragment in step.says:
            assert fragment in said, f"{fragment!r} missing — {where}"
        if not step.by_form:
            assert after["failures"] == before["failures"], where
            return
        # The engine judged it (counted as a failed try) and asks the same question again: with an
        # example, the same answer buttons, and ヘルプ / やめる at hand.
        assert after["failures"].get(slot) == failures + 1, where
        assert "例：" in said, where
        assert _answer_buttons(messages) == self.question_buttons, where
        assert {"ヘルプ", "やめる"} <= {a["label"] for a in tappable_actions(messages[-1:])}, where
        # Every third failure on a question adds its help and the owning section's contact.
        contact = contact_text(self.script())
        assert (contact in said) == ((failures + 1) % 3 == 0), f"contact after {failures + 1} failures — {where}"

    def step(self, slot: str, step: Step) -> None:
        before = self.form()
        assert before["current"] == slot
        self.send(step.send)
        after = self.form()
        assert after["current"] == slot and after["failures"] == before["failures"], _texts(self.last)
        self.question_buttons = _answer_buttons(self.last)

    def good(self, slot: str, step: Good) -> None:
        assert self.form()["current"] == slot
        self.send(step.send)
        after = self.form()
        where = f"{slot} ← {step.send!r}: {_texts(self.last)[:400]}"
        assert slot in after["values"] and after["current"] != slot and slot not in after["failures"], where
        value = after["values"][slot]
        if step.value is not None:
            assert value == step.value, where
        if step.check is not None:
            assert step.check(value), where
        self.accepted[slot] = value
        self.question_buttons = _answer_buttons(self.last)

    def submit(self) -> str:
        assert self.form()["phase"] == "confirming", _texts(self.last)
        self.send(Tap("送信"))
        found = RECEIPT.search(_texts(self.last))
        assert found, _texts(self.last)
        return found.group(1)


@pytest.fixture
def fixed_clock(stack):
    """Date answers are judged against a fixed Monday, whatever day the tests run."""
    stack.runtime.consumers[0].handler.clock = lambda: NOW
    return NOW


@pytest.fixture
def extras_draft(stack):
    """The test-only script, saved as a console draft (started like the simulator does); removed after."""
    from bot.admin.script_service import ScriptService

    service = ScriptService(stack.services.db, stack.services.scripts)
    checked, procedure = service.save_draft(EXTRAS_ID, EXTRAS_TEXT, actor="test")
    assert procedure is not None, [p.message for p in checked.problems]
    yield procedure
    with stack.services.db.session() as s:
        s.execute(sql("DELETE FROM script_versions WHERE script_id = :id"), {"id": EXTRAS_ID})


def _leaves(value: Any) -> list[str]:
    """Every scalar inside a stored answer, as text."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _leaves(v)]
    if isinstance(value, list):
        return [x for v in value for x in _leaves(v)]
    return [str(value)]


def _stored(stack, user: str, receipt: str) -> tuple[Submission, dict]:
    store = stack.services.submissions
    with stack.services.db.session() as s:
        mine = s.scalar(select(func.count()).select_from(Submission)
                        .where(Submission.user_hash == user_hash(user, store.salt)))
        sub = s.scalars(select(Submission).where(Submission.receipt_no == receipt)).one()
    assert mine == 1, f"{mine} applications stored for one walk"
    personal = decrypt_json(store.cipher, sub.personal_enc) if sub.personal_enc else {}
    return sub, {**sub.answers, **personal}


@pytest.mark.parametrize("walk", WALKS, ids=[w.name for w in WALKS])
def test_every_bad_input_is_re_asked_then_the_form_ends_in_one_receipt(stack, fixed_clock, request,
                                                                      walk: Walk) -> None:
    user = "U" + hashlib.md5(walk.name.encode()).hexdigest()
    procedure = request.getfixturevalue("extras_draft") if walk.procedure == "draft" else walk.procedure
    w = FormWalker(stack, user)
    w.start(procedure)
    for slot, step in walk.steps:
        if isinstance(step, Bad):
            w.bad(slot, step)
        elif isinstance(step, Step):
            w.step(slot, step)
        else:
            w.good(slot, step)
    receipt = w.submit()

    sub, answers = _stored(stack, user, receipt)
    assert sub.procedure_id == w.script().procedure_id
    # Exactly the answers the form accepted, none of the bad ones.
    assert answers == {k: v for k, v in w.accepted.items() if v is not None}
    leaves = set(_leaves(answers))
    dump = json.dumps(answers, ensure_ascii=False)
    for bad in w.bad_texts:
        assert not {bad.strip(), nfkc(bad).strip()} - {""} & leaves, bad
        assert len(bad) < 20 or bad not in dump, bad
    assert MY_NUMBER not in dump
    assert stack.emulator.emulator.violations == []
    assert stack.emulator.emulator.token_failures == []
