"""The running hostile-input stack as tests see it (constants and helpers; fixtures are in conftest)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from flask import Flask
from flask.testing import FlaskClient

from bot.services import Services
from bot.worker import WorkerRuntime
from integrations.line.emulator import EmulatorHandle
from integrations.line.webhook_sender import WebhookSender, new_webhook_event_id, sign

SECRET = "hostile-channel-secret"
TOKEN = "hostile-channel-access-token"
PROBE_USER = "U" + "7e" * 16


@dataclass
class HostileStack:
    app: Flask
    client: FlaskClient
    host: str
    port: int
    callback_url: str
    emulator: EmulatorHandle
    services: Services
    runtime: WorkerRuntime
    sender: WebhookSender
    redis: redis.Redis

    @property
    def line(self):
        return self.emulator.emulator

    def post(self, body: bytes, signature: str | None = "sign", **headers: str):
        """POST through Flask's test client; signature "sign" means a correct one."""
        if signature == "sign":
            signature = sign(body, SECRET)
        if signature is not None:
            headers["X-Line-Signature"] = signature
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        return self.client.post("/callback", data=body, headers=headers)

    def api_requests(self) -> int:
        """Messaging API requests the emulator served (any endpoint)."""
        return sum(self.line.stats()["requests"].values())

    def seen_keys(self) -> int:
        return sum(1 for _ in self.redis.scan_iter(match=f"{self.services.queue.prefix}:seen:*", count=1000))

    def dead_letters(self) -> int:
        return int(self.redis.xlen(self.services.queue.dead_letter_key))

    def wait_drained(self, timeout: float = 60.0) -> None:
        """Wait until the worker has acknowledged every queued event."""
        deadline = time.monotonic() + timeout
        while self.services.queue.backlog():
            assert time.monotonic() < deadline, f"queue not drained: backlog {self.services.queue.backlog()}"
            time.sleep(0.05)

    def assert_still_answers(self, text: str = "ヘルプ") -> None:
        """A normal signed text message after the abuse is answered, with spec-valid messages."""
        before = len(self.line.messages(PROBE_USER))
        resp = self.sender.text(PROBE_USER, text)
        assert resp.status_code == 200, resp.text
        answers = self.line.wait_for_messages(PROBE_USER, timeout=30, count=before + 1)
        assert len(answers) > before, f"the service did not answer a normal message after the hostile input: {self.diagnose()}"
        assert self.line.violations == [], self.line.violations

    def diagnose(self) -> dict:
        """Queue and worker state, for a failure message."""
        q = self.services.queue
        groups = {}
        for p in range(q.partitions):
            try:
                groups[p] = [(g["name"], g["pending"], g["last-delivered-id"]) for g in self.redis.xinfo_groups(q.stream_key(p))]
            except redis.ResponseError as exc:
                groups[p] = str(exc)
        return {"backlog": q.backlog(), "dead": self.dead_letters(), "groups": groups,
                "owned": [sorted(c.owned) for c in self.runtime.consumers],
                "alive": [t.is_alive() for t in self.runtime.threads], "stats": self.line.stats()["requests"]}

    def prepare(self, payload: object) -> None:
        """Fresh webhookEventIds (hypothesis reuses drawn values across examples; equal ids inside one
        body stay equal) and reply tokens the emulator knows, as LINE would issue them."""
        events = payload.get("events") if isinstance(payload, dict) else None
        fresh: dict[str, str] = {}
        for event in events if isinstance(events, list) else []:
            if isinstance(event, dict) and isinstance(event.get("webhookEventId"), str):
                old = event["webhookEventId"]
                event["webhookEventId"] = fresh.setdefault(old, new_webhook_event_id() if old else old)
            if not isinstance(event, dict) or not isinstance(event.get("replyToken"), str):
                continue
            source = event.get("source") if isinstance(event.get("source"), dict) else {}
            chat = source.get("userId") or source.get("groupId") or source.get("roomId")
            if isinstance(chat, str) and isinstance(event.get("webhookEventId"), str):
                event["replyToken"] = self.line.issue_reply_token(chat, event["webhookEventId"])

    def replies_for(self, event_id: str) -> list[dict]:
        """Messages delivered with the reply token of one event."""
        return [m for m in self.line.messages() if m["webhookEventId"] == event_id]

    def reply_requests_for(self, event_id: str) -> int:
        return len({m["requestId"] for m in self.replies_for(event_id)})
