"""POST /callback: verify LINE's signature, enqueue every event, answer 200 fast."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time

import redis
from linebot.v3.webhook import SignatureValidator
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge
from werkzeug.wsgi import get_content_length, get_input_stream

from bot.privacy import redact_sensitive
from bot.queue import QueueItem, ordering_key

log = logging.getLogger(__name__)

# LINE's deepest documented event (a text message's mentionees) is 7 levels deep. A body nested
# deeper is rejected at the door: near the interpreter's recursion limit json.loads still succeeds
# but re-serialising the event for the queue raises RecursionError (a 500, found by tests/hostile).
MAX_JSON_DEPTH = 64
# A "\ud800"-style escape: json.loads turns an unpaired one into a str Redis cannot encode as UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


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


class WebhookEndpoint:
    """``POST /callback`` as a bare WSGI app, mounted in front of Flask.

    The webhook is the one hot path: Flask's request context, session and response machinery cost
    more than the work itself (signature, JSON, one Lua call), so it is served without them.
    """

    def __init__(self, services, channel_secret: str, max_body_bytes: int) -> None:
        self.services = services
        self.validator = SignatureValidator(channel_secret)
        self.max_body_bytes = max_body_bytes

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        method = environ.get("REQUEST_METHOD")
        if method == "OPTIONS":  # what HTTP says OPTIONS is for: the methods this URL takes
            return _respond(start_response, 200, "", [("Allow", "POST, OPTIONS")])
        if method != "POST":
            return _respond(start_response, 405, "method not allowed (use POST)", [("Allow", "POST, OPTIONS")])
        try:
            status, message = self.handle(environ)
        except RequestEntityTooLarge:
            status, message = 413, f"request body too large (limit {self.max_body_bytes} bytes)"
        except ClientDisconnected:
            status, message = 400, "request body incomplete"
        return _respond(start_response, status, message)

    def handle(self, environ: dict) -> tuple[int, str]:
        signature = environ.get("HTTP_X_LINE_SIGNATURE", "")
        if not signature:
            return 400, "missing X-Line-Signature"
        limit = self.max_body_bytes
        raw = get_input_stream(environ, max_content_length=limit).read()
        if get_content_length(environ) is None and len(raw) >= limit:
            # A chunked body has no Content-Length: reading stops at the limit with truncated
            # bytes, which would fail as "invalid signature" (a 400). Say what is wrong instead.
            raise RequestEntityTooLarge()
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return 400, "body is not UTF-8"
        if not self.validator.validate(body, signature):
            log.warning("bad webhook signature", extra={"bytes": len(raw)})
            return 400, "invalid signature"
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return 400, "body is not JSON"
        if _too_deep(payload):
            return 400, "body is nested too deeply"
        if _SURROGATE_ESCAPE.search(body):
            payload = _without_lone_surrogates(payload)
        if not isinstance(payload, dict) or not isinstance(payload.get("events", []), list):
            return 400, "body is not a webhook request"
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
            items.append(QueueItem(_dedup_key(ev), ordering_key(ev), item))
        if not items:
            return 200, ""  # LINE's "Verify" request has no events
        accepted = _enqueue_with_retry(self.services.queue, items)
        if accepted is None:
            # Not acknowledged: LINE redelivers, and the dedup key makes that safe.
            return 503, "temporarily unavailable"
        dups = len(accepted) - sum(accepted)
        log.info("webhook accepted", extra={"events": len(items), "duplicates": dups})
        return 200, ""


_REASONS = {200: "OK", 400: "BAD REQUEST", 405: "METHOD NOT ALLOWED", 413: "REQUEST ENTITY TOO LARGE",
            503: "SERVICE UNAVAILABLE"}


def _respond(start_response, status: int, message: str, extra: list[tuple[str, str]] | None = None) -> list[bytes]:
    body = json.dumps({"message": message}).encode() if message else b""
    headers = [("Content-Length", str(len(body))), *(extra or [])]
    if body:
        headers.append(("Content-Type", "application/json"))
    start_response(f"{status} {_REASONS[status]}", headers)
    return [body]


class PathDispatch:
    """Send one exact path to its own WSGI app, everything else to Flask."""

    def __init__(self, default, routes: dict[str, object]) -> None:
        self.default = default
        self.routes = routes

    def __call__(self, environ: dict, start_response):
        app = self.routes.get(environ.get("PATH_INFO", ""))
        return (app or self.default)(environ, start_response)


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
