"""POST /callback: verify LINE's signature, enqueue every event, answer 200 fast."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time

import redis
from flask import Blueprint, current_app, jsonify, request
from linebot.v3.webhook import SignatureValidator
from werkzeug.exceptions import RequestEntityTooLarge

from bot.privacy import redact_sensitive
from bot.queue import QueueItem

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

# LINE's deepest documented event (a text message's mentionees) is 7 levels deep. A body nested
# deeper is rejected at the door: near the interpreter's recursion limit json.loads still succeeds
# but re-serialising the event for the queue raises RecursionError (a 500, found by tests/hostile).
MAX_JSON_DEPTH = 64
# A "\ud800"-style escape: json.loads turns an unpaired one into a str Redis cannot encode as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _error(status: int, message: str):
    return jsonify({"message": message}), status


def _too_deep(value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Iterative (never recurses) check of the nesting depth of a parsed JSON document."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _without_lone_surrogates(payload: object) -> object:
    """Replace unpaired surrogates (valid JSON escapes, invalid Unicode) with U+FFFD."""
    text = json.dumps(payload, ensure_ascii=False)
    return json.loads(text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"))


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
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and request.content_length is None and len(raw) >= limit:
        # A chunked body has no Content-Length: werkzeug stops reading at the limit and hands us the
        # truncated bytes, which failed as "invalid signature" (a 400). Say what is wrong instead.
        raise RequestEntityTooLarge()
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
    if _too_deep(payload):
        return _error(400, "body is nested too deeply")
    if _SURROGATE_ESCAPE.search(body):
        payload = _without_lone_surrogates(payload)
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
