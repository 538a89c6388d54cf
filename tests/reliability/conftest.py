"""A resident chatting with the production processes of a DevStack (answers by reply or push)."""

from __future__ import annotations

import json
import time

import pytest

from bot.devstack import SECRET
from bot.line_api import retry_key_for
from integrations.line.actions import tappable_actions
from integrations.line.webhook_sender import WebhookSender


class StackResident:
    def __init__(self, stack, user_id: str) -> None:
        self.stack = stack
        self.user_id = user_id
        self.sender = WebhookSender(stack.callback_url, SECRET, stack.emulator.emulator)
        self.sender.timeout = 5.0
        self.last: list[dict] = []

    def _answers_to(self, event: dict) -> list[dict]:
        eid = event["webhookEventId"]
        key = retry_key_for(eid)
        return [r["message"] for r in self.stack.emulator.emulator.messages(self.user_id)
                if r["webhookEventId"] == eid or r["retryKey"] == key]

    def _post(self, event: dict) -> dict:
        deadline = time.time() + 30
        while True:  # like LINE: retry until the webhook is acknowledged
            try:
                if self.sender.send([event]).status_code == 200:
                    return event
            except Exception:
                pass
            if time.time() > deadline:
                raise AssertionError("webhook never acknowledged")
            time.sleep(0.2)
            event = dict(event, deliveryContext={"isRedelivery": True})

    def wait_for(self, event: dict, timeout: float = 60.0) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = self._answers_to(event)
            if got:
                time.sleep(0.05)
                self.last = self._answers_to(event)
                return self.last
            time.sleep(0.05)
        raise AssertionError(f"no answer to {event.get('message') or event.get('postback')}")

    def wait_for_text(self, needle: str, timeout: float = 60.0) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = [r["message"] for r in self.stack.emulator.emulator.messages(self.user_id)]
            hits = [m for m in msgs if needle in json.dumps(m, ensure_ascii=False)]
            if hits:
                self.last = hits
                return hits
            time.sleep(0.1)
        raise AssertionError(f"never got {needle!r}")

    def send_text(self, words: str) -> dict:
        return self._post(self.sender.events.text(self.user_id, words))

    def say(self, words: str) -> list[dict]:
        return self.wait_for(self.send_text(words))

    def press_async(self, label: str) -> dict:
        action = next((a for a in tappable_actions(self.last) if a["label"] == label), None)
        assert action is not None, f"no button {label!r}"
        if action["type"] == "message":
            return self.send_text(action["text"])
        return self._post(self.sender.events.postback(self.user_id, action["data"]))

    def press(self, label: str) -> list[dict]:
        return self.wait_for(self.press_async(label))

    def text_of(self) -> str:
        return json.dumps(self.last, ensure_ascii=False)


@pytest.fixture
def devstack_resident(devstack) -> StackResident:
    return StackResident(devstack, "U" + "c3" * 16)


@pytest.fixture
def resident_for():
    return lambda stack, user_id: StackResident(stack, user_id)
