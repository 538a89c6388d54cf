"""POST /callback: verify LINE's signature, enqueue every event, answer 200 fast."""

from __future__ import annotations

import hashlib
import json
import logging
import time

import redis
from flask import Blueprint, current_app, jsonify, request
from linebot.v3.webhook import SignatureValidator

from bot.privacy import redact_sensitive
from bot.queue import QueueItem

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)


def _error(status: int, message: str):
    return jsonify({"message": message}), status


def _partition_key(event: dict) -> str:
    source = event.get("source")
    if isinstance(source, dict):
        for key in ("userId", "groupId", "roomId"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return "_unknown"


def _dedup_key(event: dict) -> str:
    event_id = event.get("webhookEventId")
    if isinstance(event_id, str) and 0 < len(event_id) <= 128:
        return event_id
    # No usable id: fall back to the content, so an identical re-post is still dropped.
    return "h:" + hashlib.sha256(json.dumps(event, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _redact(event: dict) -> tuple[str, ...]:
    message = event.get("message")
    if not (isinstance(message, dict) and message.get("type") == "text" and isinstance(message.get("text"), str)):
        return ()
    cleaned, kinds = redact_sensitive(message["text"])
    if kinds:
        message["text"] = cleaned
        log.warning("sensitive number removed from a message", extra={"kinds": list(kinds)})
    return kinds


@bp.post("/callback")
def callback():
    services = current_app.extensions["kb.services"]
    validator: SignatureValidator = current_app.extensions["kb.signature"]
    signature = request.headers.get("X-Line-Signature", "")
    if not signature:
        return _error(400, "missing X-Line-Signature")
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH → 413 before we read it
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "body is not UTF-8")
    if not validator.validate(body, signature):
        log.warning("bad webhook signature", extra={"bytes": len(raw)})
        return _error(400, "invalid signature")
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return _error(400, "body is not JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("events", []), list):
        return _error(400, "body is not a webhook request")
    destination = payload.get("destination") if isinstance(payload.get("destination"), str) else None
    received = int(time.time() * 1000)
    items = []
    for ev in payload.get("events") or []:
        if not isinstance(ev, dict):
            continue
        item = {"event": ev, "destination": destination, "received_ms": received}
        kinds = _redact(ev)  # before the event is hashed, queued or logged
        if kinds:
            item["redacted"] = list(kinds)
        items.append(QueueItem(_dedup_key(ev), _partition_key(ev), item))
    if not items:
        return "", 200  # LINE's "Verify" request has no events
    accepted = _enqueue_with_retry(services.queue, items)
    if accepted is None:
        # Not acknowledged: LINE redelivers, and the dedup key makes that safe.
        return _error(503, "temporarily unavailable")
    dups = len(accepted) - sum(accepted)
    log.info("webhook accepted", extra={"events": len(items), "duplicates": dups})
    return "", 200


def _enqueue_with_retry(queue, items: list[QueueItem], budget_s: float = 2.0) -> list[bool] | None:
    """Ride out a short Redis restart instead of failing the whole burst."""
    deadline = time.monotonic() + budget_s
    delay = 0.05
    while True:
        try:
            return queue.enqueue(items)
        except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError) as exc:
            if time.monotonic() + delay > deadline:
                log.error("queue unavailable; webhook not acknowledged", extra={"error": type(exc).__name__})
                return None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
