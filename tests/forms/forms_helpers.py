"""Shared helpers for the chat-form tests: a walker driving the pure engine, with every message
checked against LINE's Messaging API spec."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.conversation.incoming import Incoming, Location
from bot.forms import engine
from bot.forms.script import Script
from bot.forms.slots.base import JST
from integrations.line.spec import validate_messaging_request

REPO = Path(__file__).resolve().parents[2]
DIALOGS = REPO / "dialogs"
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=JST)  # a Monday


def load(name: str) -> Script:
    return Script.from_file(DIALOGS / f"{name}.yml")


def assert_line_valid(messages: list[dict[str, Any]]) -> None:
    if not messages:
        return
    errors = validate_messaging_request("post", "/v2/bot/message/reply", {"replyToken": "x", "messages": messages})
    assert errors == [], errors
    assert len(messages) <= 5


def message_text(msg: dict[str, Any]) -> str:
    """The text a resident reads in a message (every text component of a flex bubble)."""
    if msg.get("type") != "flex":
        return str(msg.get("text", ""))
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "text":
                out.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(msg["contents"])
    return "\n".join(out)


class Walker:
    def __init__(self, script: Script, now: datetime = NOW, instance_id: str = "inst0001abcdef") -> None:
        self.script = script
        self.now = now
        self.seq = 0
        self.effects: list[Any] = []
        self.result = engine.start(script, now=now, instance_id=instance_id)
        self._record(self.result)

    @property
    def state(self) -> dict[str, Any]:
        return self.result.state

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.result.messages

    @property
    def last_text(self) -> str:
        return message_text(self.messages[-1])

    @property
    def all_text(self) -> str:
        return "\n".join(message_text(m) for m in self.messages)

    def quick_labels(self) -> list[str]:
        items = (self.messages[-1].get("quickReply") or {}).get("items", []) if self.messages else []
        return [i["action"].get("label") for i in items]

    def _record(self, result: engine.StepResult) -> engine.StepResult:
        assert_line_valid(result.messages)
        self.effects += result.effects
        return result

    def send(self, incoming: Incoming, hint: Any = None) -> engine.StepResult:
        self.result = self._record(engine.step(self.script, self.state, incoming, now=self.now, hint=hint))
        return self.result

    def _base(self) -> dict[str, Any]:
        self.seq += 1
        return {"user_id": "U1", "event_id": f"e{self.seq}", "timestamp_ms": self.seq}

    def text(self, text: str, hint: Any = None) -> engine.StepResult:
        return self.send(Incoming(kind="text", text=text, **self._base()), hint)

    def postback(self, data: str, params: dict[str, str] | None = None) -> engine.StepResult:
        return self.send(Incoming(kind="postback", postback_data=data, postback_params=params or {}, **self._base()))

    def tap(self, label: str, params: dict[str, str] | None = None) -> engine.StepResult:
        """Tap a quick reply (or a flex footer button) by its label."""
        actions = []
        for msg in self.messages:
            actions += [i["action"] for i in (msg.get("quickReply") or {}).get("items", [])]
            if msg.get("type") == "flex":
                actions += [b["action"] for b in msg["contents"]["footer"]["contents"]]
        for action in actions:
            if action.get("label") == label:
                return self.postback(action["data"], params)
        raise AssertionError(f"no button {label!r} in {[a.get('label') for a in actions]}")

    def location(self, lat: float, lon: float, address: str | None = None) -> engine.StepResult:
        return self.send(Incoming(kind="location", location=Location(lat, lon, address), **self._base()))

    def image(self, content_ref: str | None = "store://img/1") -> engine.StepResult:
        return self.send(Incoming(kind="image", message_id="m1", content_ref=content_ref, **self._base()))

    def submits(self) -> list[Any]:
        from bot.forms.effects import SubmitForm

        return [e for e in self.effects if isinstance(e, SubmitForm)]

    def analytics(self, name: str) -> list[Any]:
        from bot.forms.effects import Analytics

        return [e for e in self.effects if isinstance(e, Analytics) and e.name == name]
