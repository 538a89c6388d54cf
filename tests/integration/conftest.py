"""A full in-process bot stack on real Redis and PostgreSQL, talking to the LINE emulator."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from stack_support import running_stack

from bot.services import Services
from bot.worker import WorkerRuntime
from integrations.line.actions import tappable_actions
from integrations.line.emulator import EmulatorHandle
from integrations.line.webhook_sender import WebhookSender

SECRET = "test-channel-secret"
TOKEN = "test-channel-access-token"


@dataclass
class Stack:
    callback_url: str
    emulator: EmulatorHandle
    services: Services
    runtime: WorkerRuntime
    sender: WebhookSender

    def answers(self, user_id: str) -> list[dict]:
        return self.emulator.emulator.messages(user_id)

    def wait_answers(self, user_id: str, count: int, timeout: float = 15.0) -> list[dict]:
        return self.emulator.emulator.wait_for_messages(user_id, timeout=timeout, count=count)

    def analytics_settled(self, timeout: float = 10.0) -> None:
        """Wait until the analytics outbox reached SQL (it is flushed in batches, after the answer)."""
        from bot.analytics.outbox import stream_key

        deadline = time.time() + timeout
        while self.services.redis.xlen(stream_key(self.services.queue.prefix)) > 0:
            assert time.time() < deadline, "analytics outbox not flushed"
            time.sleep(0.05)


def _start_stack(redis_url: str, database_url: str, nlu=None, **overrides) -> Iterator[Stack]:
    with running_stack(redis_url, database_url, secret=SECRET, token=TOKEN, nlu=nlu, **overrides) as rs:
        sender = WebhookSender(rs.callback_url, SECRET, rs.emulator.emulator)
        yield Stack(rs.callback_url, rs.emulator, rs.services, rs.runtime, sender)


@pytest.fixture
def stack(redis_url: str, pg_database: str, embedded_nlu) -> Iterator[Stack]:
    yield from _start_stack(redis_url, pg_database, embedded_nlu)


@pytest.fixture
def short_token_stack(redis_url: str, pg_database: str, embedded_nlu) -> Iterator[Stack]:
    """Reply tokens expire after 0.3 s, to exercise the push fallback."""
    yield from _start_stack(redis_url, pg_database, embedded_nlu, reply_token_ttl=0.3)


class Resident:
    def __init__(self, stack, user_id: str) -> None:
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
        action = next((a for a in tappable_actions(self.last) if a["label"] == label), None)
        assert action is not None, f"no button {label!r} in {[a['label'] for a in tappable_actions(self.last)]}"
        if action["type"] == "message":
            return self.say(action["text"])
        event = self.stack.sender.events.postback(self.user_id, action["data"])
        self.last_event = event
        assert self.stack.sender.send([event]).status_code == 200
        return self._wait(event)

    def link(self, label: str) -> str:
        return next(a["uri"] for a in tappable_actions(self.last) if a["label"] == label and a["type"] == "uri")

    def labels(self) -> list[str]:
        return [a["label"] for a in tappable_actions(self.last)]

    def text_of(self) -> str:
        return json.dumps(self.last, ensure_ascii=False)



@pytest.fixture
def resident(stack):
    """Chat as a resident: `r = resident(USER); r.say("..."); r.press("label"); r.text_of()`."""
    return lambda user_id: Resident(stack, user_id)
