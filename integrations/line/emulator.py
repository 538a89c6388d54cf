"""An in-process emulator of the LINE Platform's Messaging API, for tests, the terminal chat and benchmarks.

One WSGI app serves both LINE hosts' paths (``api.line.me`` and ``api-data.line.me``), so a bot
configured with ``Configuration(host=emulator_url)`` for ``MessagingApi`` and ``MessagingApiBlob``
talks to it exactly as to LINE.  It behaves like LINE where a bot can notice: bearer-token auth,
spec validation of every request body (400 with LINE's error shape), single-use reply tokens that
expire, ``X-Line-Retry-Key`` idempotency (409 + ``x-line-accepted-request-id``), request ids, and
injected faults (429/500/503).  Everything delivered is recorded per user with a sequence number.

The control API under ``/_emulator/`` (JSON, no auth) lets tests in other processes issue reply
tokens, register user content, read delivered messages (long-poll), inject faults and read
violations; ``EmulatorClient`` wraps it.  The app is a bare WSGI callable (no framework) because
it sits on the benchmark path.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import logging
import random
import re
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from integrations.line import spec
from integrations.line.keepalive_server import KeepAliveWSGIServer

__all__ = [
    "EmulatorClient",
    "EmulatorHandle",
    "LineEmulator",
    "run_emulator",
    "run_emulator_in_thread",
]

log = logging.getLogger(__name__)

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_RETRY_KEY_APIS = frozenset({"push", "multicast", "narrowcast", "broadcast"})
_SEND_PATHS = {
    "/v2/bot/message/reply": "reply",
    "/v2/bot/message/push": "push",
    "/v2/bot/message/multicast": "multicast",
    "/v2/bot/message/broadcast": "broadcast",
    "/v2/bot/message/narrowcast": "narrowcast",
    "/v2/bot/chat/loading/start": "loading",
}
_VALIDATE_PATHS = {
    f"/v2/bot/message/validate/{kind}" for kind in ("reply", "push", "multicast", "narrowcast", "broadcast")
}
_CONTENT = re.compile(r"^/v2/bot/message/([^/]+)/content(/preview|/transcoding)?$")
_PROFILE = re.compile(r"^/v2/bot/profile/([^/]+)$")
# Schemas whose messages LINE can quote (they have a quoteToken property in messaging-api.yml).
_QUOTABLE = frozenset({"text", "textV2", "sticker"})

_FAULT_MESSAGES = {
    429: "The API rate limit has been exceeded. Try again later.",
    500: "Internal server error",
    503: "Service unavailable",
}
_JSON = [("Content-Type", "application/json")]
_STATUS_TEXT = {
    200: "200 OK", 202: "202 Accepted", 400: "400 Bad Request", 401: "401 Unauthorized",
    403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed", 409: "409 Conflict",
    429: "429 Too Many Requests", 500: "500 Internal Server Error", 502: "502 Bad Gateway",
    503: "503 Service Unavailable", 504: "504 Gateway Timeout",
}


def _status_line(code: int) -> str:
    return _STATUS_TEXT.get(code, f"{code} Status")


@dataclass
class _Reply:
    """What the core returns; the WSGI layer turns it into bytes."""

    status: int
    body: Any = None  # JSON-able, or bytes for content
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "application/json"


@dataclass
class _ReplyToken:
    user_id: str
    webhook_event_id: str
    issued_at: float
    used: bool = False


@dataclass
class _Fault:
    pattern: str
    statuses: list[int]
    remaining: int
    retry_after: int
    served: int = 0


class LineEmulator:
    """Thread-safe state of the emulated LINE Platform plus its WSGI app (``emulator.wsgi_app``)."""

    def __init__(
        self,
        channel_access_token: str,
        *,
        reply_token_ttl: float = 60.0,
        bot_user_id: str | None = None,
        bot_basic_id: str = "@kawasaki-dev",
        bot_display_name: str = "川崎市 手続き案内（開発用）",
        documented_limits: bool = True,
        history_limit: int = 500_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.channel_access_token = channel_access_token
        self.reply_token_ttl = reply_token_ttl
        # Stable across restarts for one token, so webhook "destination" stays the same.
        self.bot_user_id = bot_user_id or "U" + hashlib.sha256(channel_access_token.encode()).hexdigest()[:32]
        self.bot_basic_id = bot_basic_id
        self.bot_display_name = bot_display_name
        self.documented_limits = documented_limits
        self.history_limit = history_limit  # oldest delivery records are dropped beyond this
        self._clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._auth_header = f"Bearer {channel_access_token}"
        self._listeners: list[Callable[[list[dict[str, Any]]], None]] = []
        spec.warm_up()
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self._seq = 0
        self._next_message_id = 500_000_000_000_000_000 + random.randrange(10**15)
        self._deliveries: list[dict[str, Any]] = []
        self._tokens: dict[str, _ReplyToken] = {}
        self._retry_keys: dict[str, tuple[str, list[dict[str, str]]]] = {}
        self._content: dict[str, tuple[str, bytes]] = {}
        self._profiles: dict[str, dict[str, Any]] = {}
        self._known_users: dict[str, None] = {}
        self._faults: list[_Fault] = []
        self._violations: list[dict[str, Any]] = []
        self._token_failures: list[dict[str, Any]] = []
        self._loading: list[dict[str, Any]] = []
        self._narrowcasts: list[dict[str, Any]] = []
        self._api_counts: Counter[str] = Counter()
        self._status_counts: Counter[int] = Counter()
        self._user_counts: dict[str, Counter[str]] = {}

    def reset(self) -> None:
        """Forget everything (messages, tokens, retry keys, content, faults, violations, stats)."""
        with self._lock:
            self._reset_state()
            self._changed.notify_all()

    # ------------------------------------------------------------------ control
    def issue_reply_token(self, user_id: str, webhook_event_id: str) -> str:
        """A new single-use reply token bound to ``user_id`` and the event that carries it."""
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = _ReplyToken(user_id, webhook_event_id, self._clock())
            self._known_users[user_id] = None
            if len(self._tokens) > 50_000:  # keep memory flat under benchmarks
                self._expire_tokens()
        return token

    def _expire_tokens(self) -> None:
        cutoff = self._clock() - self.reply_token_ttl
        for token in [t for t, r in self._tokens.items() if r.used or r.issued_at < cutoff]:
            del self._tokens[token]

    def add_listener(self, listener: Callable[[list[dict[str, Any]]], None]) -> None:
        """Call ``listener(records)`` for every accepted send, with its delivery records.

        It runs on the request thread with the emulator's lock held, so it must be quick
        (benchmarks use it to wake a waiting resident without polling).
        """
        with self._lock:
            self._listeners.append(listener)

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """Register the bytes a user "sent", served at GET /v2/bot/message/{messageId}/content."""
        with self._lock:
            self._content[message_id] = (content_type, bytes(data))

    def set_profile(self, user_id: str, display_name: str, **extra: Any) -> None:
        """Set what GET /v2/bot/profile/{userId} returns (else a generated Japanese profile)."""
        with self._lock:
            self._profiles[user_id] = {"displayName": display_name, "userId": user_id, **extra}
            self._known_users[user_id] = None

    def inject_fault(
        self, path: str, statuses: Sequence[int], count: int | None = None, *, retry_after: int = 1
    ) -> None:
        """Make the next ``count`` (default ``len(statuses)``) API requests to ``path`` fail.

        The i-th failing request gets ``statuses[i % len(statuses)]``; 429 carries ``Retry-After``.
        ``path`` is an exact path or a glob (``/v2/bot/message/*``, ``*`` for every API path).
        Faults apply after authentication and before anything else, so nothing is consumed.
        """
        if not statuses:
            raise ValueError("statuses must not be empty")
        with self._lock:
            self._faults.append(
                _Fault(path, [int(s) for s in statuses], len(statuses) if count is None else count, retry_after)
            )

    def messages(self, user_id: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        """Delivered messages (one record per message) with ``seq > after``, oldest first."""
        with self._lock:
            return self._select(user_id, after)

    def _select(self, user_id: str | None, after: int) -> list[dict[str, Any]]:
        # Deliveries are appended in seq order, so scan back from the end.
        out = []
        for record in reversed(self._deliveries):
            if record["seq"] <= after:
                break
            if user_id is None or record["userId"] == user_id:
                out.append(record)
        out.reverse()
        return out

    def wait_for_messages(
        self, user_id: str | None = None, after: int = 0, timeout: float = 0.0, count: int = 1
    ) -> list[dict[str, Any]]:
        """Like ``messages`` but waits up to ``timeout`` seconds until at least ``count`` exist."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self._select(user_id, after)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    @property
    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    @property
    def violations(self) -> list[dict[str, Any]]:
        """Every request the emulator rejected as malformed (spec violations, bad headers)."""
        with self._lock:
            return list(self._violations)

    @property
    def token_failures(self) -> list[dict[str, Any]]:
        """Replies refused for an unknown, used or expired reply token."""
        with self._lock:
            return list(self._token_failures)

    @property
    def loading_events(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._loading)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": dict(self._api_counts),
                "statuses": {str(k): v for k, v in sorted(self._status_counts.items())},
                "perUser": {u: dict(c) for u, c in self._user_counts.items()},
                "messages": sum(c["messages"] for c in self._user_counts.values()),
                "lastSeq": self._seq,
                "violations": len(self._violations),
                "invalidReplyTokens": len(self._token_failures),
                "pendingFaults": sum(f.remaining for f in self._faults),
            }

    # ------------------------------------------------------------------ delivery
    def _deliver(
        self,
        user_id: str,
        api: str,
        messages: list[dict[str, Any]],
        request_id: str,
        *,
        retry_key: str | None = None,
        webhook_event_id: str | None = None,
        reply_token: str | None = None,
        notification_disabled: bool = False,
    ) -> list[dict[str, str]]:
        """Record messages for one user (lock held) and return their sentMessages entries."""
        sent = []
        now_ms = int(time.time() * 1000)
        counts = self._user_counts.setdefault(user_id, Counter())
        for message in messages:
            self._seq += 1
            self._next_message_id += 1
            entry = {"id": str(self._next_message_id)}
            if message.get("type") in _QUOTABLE:
                entry["quoteToken"] = secrets.token_urlsafe(24)
            sent.append(entry)
            self._deliveries.append(
                {
                    "seq": self._seq,
                    "userId": user_id,
                    "api": api,
                    "message": message,
                    "messageId": entry["id"],
                    "quoteToken": entry.get("quoteToken"),
                    "requestId": request_id,
                    "retryKey": retry_key,
                    "webhookEventId": webhook_event_id,
                    "replyToken": reply_token,
                    "notificationDisabled": notification_disabled,
                    "timestamp": now_ms,
                }
            )
            counts["messages"] += 1
        if len(self._deliveries) > self.history_limit:
            del self._deliveries[: len(self._deliveries) - self.history_limit]
        counts[api] += 1
        self._known_users[user_id] = None
        self._changed.notify_all()
        if self._listeners:
            records = self._deliveries[-len(messages):] if messages else []
            for listener in self._listeners:
                listener(records)
        return sent

    def _violation(self, method: str, path: str, message: str, details: list[dict[str, str]], body: Any) -> None:
        self._violations.append(
            {
                "time": time.time(),
                "method": method,
                "path": path,
                "message": message,
                "details": details,
                "body": body,
            }
        )
        log.warning("LINE emulator: %s %s rejected: %s %s", method, path, message, details)

    # ------------------------------------------------------------------ the API core
    def handle(self, method: str, path: str, headers: dict[str, str], raw_body: bytes) -> _Reply:
        """Serve one Messaging API request (headers with lower-case names)."""
        route = self._route(method, path)
        if route is None:
            return self._count("notFound", _Reply(404, {"message": "Not found"}))
        if isinstance(route, _Reply):
            return self._count("methodNotAllowed", route)
        kind = route
        if headers.get("authorization") != self._auth_header:
            return self._count(
                "unauthorized",
                _Reply(
                    401,
                    {"message": "Authentication failed. Confirm that the access token in the authorization "
                     "header is valid."},
                ),
            )
        fault = self._take_fault(path)
        if fault is not None:
            return self._count(kind, fault)
        if method == "GET":
            return self._count(kind, self._get(kind, path))

        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            with self._lock:
                self._violation(method, path, "The request body is not valid JSON", [], raw_body[:2000].decode(
                    "utf-8", "replace"))
            return self._count(kind, _Reply(400, {"message": "The request body has 1 error(s)",
                                                  "details": [{"message": "invalid JSON", "property": ""}]}))
        errors = spec.validate_messaging_request(method, path, body, documented_limits=self.documented_limits)
        if errors:
            details = [e.as_detail() for e in errors]
            message = f"The request body has {len(errors)} error(s)"
            with self._lock:
                self._violation(method, path, message, details, body)
            return self._count(kind, _Reply(400, {"message": message, "details": details}))

        retry_key = headers.get("x-line-retry-key")
        if retry_key is not None:
            if kind not in _RETRY_KEY_APIS:
                with self._lock:
                    self._violation(method, path, "X-Line-Retry-Key is not supported by this API", [], body)
                return self._count(kind, _Reply(400, {"message": "X-Line-Retry-Key is not supported by this API"}))
            if not _UUID.match(retry_key):
                message = "The value for the 'X-Line-Retry-Key' header is invalid"
                with self._lock:
                    self._violation(method, path, message, [{"message": "must be a UUID",
                                                             "property": "X-Line-Retry-Key"}], body)
                return self._count(kind, _Reply(400, {"message": message}))
        if kind == "validate":
            return self._count(kind, _Reply(200, {}))
        return self._count(kind, self._send(kind, body, retry_key))

    def _route(self, method: str, path: str) -> str | _Reply | None:
        kind = _SEND_PATHS.get(path)
        if kind is None and path in _VALIDATE_PATHS:
            kind = "validate"
        if kind is not None:
            return kind if method == "POST" else _Reply(405, {"message": "Method not allowed"})
        if path == "/v2/bot/info":
            kind = "info"
        elif _CONTENT.match(path):
            kind = "content"
        elif _PROFILE.match(path):
            kind = "profile"
        if kind is None:
            return None
        return kind if method == "GET" else _Reply(405, {"message": "Method not allowed"})

    def _count(self, kind: str, reply: _Reply) -> _Reply:
        with self._lock:
            self._api_counts[kind] += 1
            self._status_counts[reply.status] += 1
        if not any(name == "x-line-request-id" for name, _ in reply.headers):
            reply.headers.append(("x-line-request-id", str(uuid.uuid4())))
        return reply

    def _take_fault(self, path: str) -> _Reply | None:
        with self._lock:
            for fault in self._faults:
                if fault.remaining > 0 and (fault.pattern == path or fnmatch.fnmatchcase(path, fault.pattern)):
                    status = fault.statuses[fault.served % len(fault.statuses)]
                    fault.served += 1
                    fault.remaining -= 1
                    self._faults = [f for f in self._faults if f.remaining > 0]
                    headers = [("Retry-After", str(fault.retry_after))] if status == 429 else []
                    return _Reply(status, {"message": _FAULT_MESSAGES.get(status, "Error")}, headers)
        return None

    def _get(self, kind: str, path: str) -> _Reply:
        if kind == "info":
            return _Reply(
                200,
                {
                    "userId": self.bot_user_id,
                    "basicId": self.bot_basic_id,
                    "displayName": self.bot_display_name,
                    "chatMode": "bot",
                    "markAsReadMode": "auto",
                },
            )
        if kind == "profile":
            user_id = _PROFILE.match(path).group(1)  # type: ignore[union-attr]
            with self._lock:
                profile = self._profiles.get(user_id)
                known = user_id in self._known_users
            if profile is None and (known or user_id.startswith("U")):
                profile = {"displayName": f"テスト利用者{user_id[-4:]}", "userId": user_id, "language": "ja"}
            return _Reply(200, profile) if profile else _Reply(404, {"message": "Not found"})
        match = _CONTENT.match(path)
        message_id, suffix = match.group(1), match.group(2)  # type: ignore[union-attr]
        with self._lock:
            stored = self._content.get(message_id)
        if stored is None:
            return _Reply(404, {"message": "Not found"})
        if suffix == "/transcoding":
            return _Reply(200, {"status": "succeeded"})
        content_type, data = stored
        return _Reply(200, data, content_type=content_type)

    def _send(self, kind: str, body: dict[str, Any], retry_key: str | None) -> _Reply:
        request_id = str(uuid.uuid4())
        headers = [("x-line-request-id", request_id)]
        messages = body.get("messages", [])
        silent = bool(body.get("notificationDisabled", False))
        with self._lock:
            if kind == "loading":
                self._loading.append(
                    {"userId": body["chatId"], "loadingSeconds": body.get("loadingSeconds", 20),
                     "timestamp": int(time.time() * 1000)}
                )
                self._changed.notify_all()
                return _Reply(202, {}, headers)
            if kind == "reply":
                token = self._tokens.get(body["replyToken"])
                expired = token is not None and self._clock() - token.issued_at > self.reply_token_ttl
                if token is None or token.used or expired:
                    reason = "unknown" if token is None else ("used" if token.used else "expired")
                    self._token_failures.append(
                        {"replyToken": body["replyToken"], "reason": reason, "time": time.time(),
                         "userId": token.user_id if token else None}
                    )
                    return _Reply(400, {"message": "Invalid reply token"}, headers)
                token.used = True
                sent = self._deliver(
                    token.user_id, "reply", messages, request_id, webhook_event_id=token.webhook_event_id,
                    reply_token=body["replyToken"], notification_disabled=silent,
                )
                return _Reply(200, {"sentMessages": sent}, headers)
            if retry_key is not None and retry_key in self._retry_keys:
                accepted_id, sent = self._retry_keys[retry_key]
                conflict: dict[str, Any] = {"message": "The retry key is already accepted"}
                if sent:
                    conflict["sentMessages"] = sent
                return _Reply(409, conflict, [*headers, ("x-line-accepted-request-id", accepted_id)])
            sent = []
            status = 200
            if kind == "push":
                sent = self._deliver(body["to"], "push", messages, request_id, retry_key=retry_key,
                                     notification_disabled=silent)
                response: dict[str, Any] = {"sentMessages": sent}
            elif kind == "multicast":
                for user_id in body["to"]:
                    self._deliver(user_id, "multicast", messages, request_id, retry_key=retry_key,
                                  notification_disabled=silent)
                response = {}
            elif kind == "broadcast":
                for user_id in list(self._known_users):
                    self._deliver(user_id, "broadcast", messages, request_id, retry_key=retry_key,
                                  notification_disabled=silent)
                response = {}
            else:  # narrowcast: audiences are not emulated; record the request only
                self._narrowcasts.append({"requestId": request_id, "body": body, "timestamp": int(time.time() * 1000)})
                status, response = 202, {}
            if retry_key is not None:
                self._retry_keys[retry_key] = (request_id, sent)
            return _Reply(status, response, headers)

    # ------------------------------------------------------------------ control API
    def handle_control(self, method: str, path: str, query: str, raw_body: bytes) -> _Reply:
        """Serve /_emulator/* (JSON)."""
        try:
            body = json.loads(raw_body) if raw_body else {}
        except ValueError:
            return _Reply(400, {"message": "invalid JSON"})
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        name = path.removeprefix("/_emulator/").strip("/")
        try:
            if name == "reply-tokens" and method == "POST":
                return _Reply(200, {"replyToken": self.issue_reply_token(body["userId"], body["webhookEventId"])})
            if name == "messages" and method == "GET":
                after = int(params.get("after", 0))
                wait = min(float(params.get("wait", 0)), 300.0)
                user_id = params.get("userId") or None
                found = self.wait_for_messages(user_id, after, wait, int(params.get("count", 1)))
                return _Reply(200, {"messages": found, "lastSeq": self.last_seq})
            if name == "content" and method == "POST":
                data = base64.b64decode(body["dataBase64"], validate=True)
                self.add_content(str(body["messageId"]), data, body.get("contentType", "application/octet-stream"))
                return _Reply(200, {})
            if name == "faults" and method == "POST":
                self.inject_fault(body["path"], body["statuses"], body.get("count"),
                                  retry_after=int(body.get("retryAfter", 1)))
                return _Reply(200, {})
            if name == "faults" and method == "GET":
                with self._lock:
                    pending = [{"path": f.pattern, "statuses": f.statuses, "remaining": f.remaining}
                               for f in self._faults]
                return _Reply(200, {"faults": pending})
            if name == "profiles" and method == "POST":
                extra = {k: v for k, v in body.items() if k not in {"userId", "displayName"}}
                self.set_profile(body["userId"], body["displayName"], **extra)
                return _Reply(200, {})
            if name == "violations" and method == "GET":
                return _Reply(200, {"violations": self.violations})
            if name == "token-failures" and method == "GET":
                return _Reply(200, {"tokenFailures": self.token_failures})
            if name == "loading" and method == "GET":
                return _Reply(200, {"events": self.loading_events})
            if name == "stats" and method == "GET":
                return _Reply(200, self.stats())
            if name == "info" and method == "GET":
                return _Reply(200, {"botUserId": self.bot_user_id, "replyTokenTtl": self.reply_token_ttl})
            if name == "reset" and method == "POST":
                self.reset()
                return _Reply(200, {})
        except (KeyError, TypeError, ValueError) as exc:
            return _Reply(400, {"message": f"bad control request: {exc!r}"})
        return _Reply(404, {"message": "Not found"})

    # ------------------------------------------------------------------ WSGI
    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "") or "/"
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        raw = environ["wsgi.input"].read(length) if length > 0 else b""
        if path.startswith("/_emulator/"):
            reply = self.handle_control(method, path, environ.get("QUERY_STRING", ""), raw)
        else:
            headers = {"authorization": environ.get("HTTP_AUTHORIZATION", "")}
            retry_key = environ.get("HTTP_X_LINE_RETRY_KEY")
            if retry_key is not None:
                headers["x-line-retry-key"] = retry_key
            reply = self.handle(method, path, headers, raw)
        if isinstance(reply.body, bytes | bytearray):
            payload = bytes(reply.body)
            content_type = reply.content_type
        else:
            payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json"
        start_response(
            _status_line(reply.status),
            [("Content-Type", content_type), ("Content-Length", str(len(payload))), *reply.headers],
        )
        return [payload]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.wsgi_app(environ, start_response)


# ---------------------------------------------------------------------- serving
class _QuietHandler(WSGIRequestHandler):
    """No per-request access log: it costs more than the request itself under load."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@dataclass
class EmulatorHandle:
    """A running emulator server: ``url`` (no trailing slash), ``emulator``, ``stop()``."""

    url: str
    emulator: LineEmulator
    server: Any  # KeepAliveWSGIServer or werkzeug's BaseWSGIServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _server(host: str, port: int, emulator: LineEmulator, server: str) -> Any:
    if server == "keepalive":
        return KeepAliveWSGIServer((host, port), emulator.wsgi_app)
    if server == "werkzeug":
        werkzeug_server = make_server(host, port, emulator.wsgi_app, threaded=True, request_handler=_QuietHandler)
        werkzeug_server.daemon_threads = True  # type: ignore[attr-defined]
        return werkzeug_server
    raise ValueError(f"unknown server {server!r} (keepalive or werkzeug)")


def run_emulator_in_thread(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    channel_access_token: str,
    reply_token_ttl: float = 60.0,
    emulator: LineEmulator | None = None,
    server: str = "keepalive",
    **emulator_options: Any,
) -> EmulatorHandle:
    """Start the emulator in a daemon thread (port 0 = a free port).

    ``server="keepalive"`` (default) is a threaded HTTP/1.1 keep-alive server; ``"werkzeug"`` is
    werkzeug's threaded dev server, which closes every connection and is ~3x slower.
    """
    emulator = emulator or LineEmulator(
        channel_access_token, reply_token_ttl=reply_token_ttl, **emulator_options
    )
    http_server = _server(host, port, emulator, server)
    thread = threading.Thread(target=http_server.serve_forever, name="line-emulator", daemon=True)
    thread.start()
    return EmulatorHandle(f"http://{host}:{http_server.server_port}", emulator, http_server, thread)


def run_emulator(
    host: str = "127.0.0.1",
    port: int = 8081,
    *,
    channel_access_token: str,
    reply_token_ttl: float = 60.0,
    server: str = "keepalive",
    **emulator_options: Any,
) -> None:
    """Serve the emulator in the foreground until interrupted (for ``kawasaki-bot emulator``)."""
    emulator = LineEmulator(channel_access_token, reply_token_ttl=reply_token_ttl, **emulator_options)
    http_server = _server(host, port, emulator, server)
    log.info("LINE emulator on http://%s:%s (bot user %s)", host, http_server.server_port, emulator.bot_user_id)
    try:
        http_server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        http_server.server_close()


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m integrations.line.emulator [--host H] [--port P] [--ttl S] [--server werkzeug]``.

    The channel access token comes from ``--token`` or ``LINE_CHANNEL_ACCESS_TOKEN``.
    """
    import argparse
    import os

    parser = argparse.ArgumentParser(description="LINE Messaging API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", "dev-channel-access-token"))
    parser.add_argument("--ttl", type=float, default=60.0, help="reply token lifetime in seconds")
    parser.add_argument("--server", choices=("keepalive", "werkzeug"), default="keepalive")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    run_emulator(args.host, args.port, channel_access_token=args.token, reply_token_ttl=args.ttl, server=args.server)


# ---------------------------------------------------------------------- client
class EmulatorClient:
    """requests-based client of the ``/_emulator/`` control API (usable from any process)."""

    def __init__(self, base_url: str, *, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def _call(self, method: str, name: str, *, json_body: Any = None, params: Any = None,
              timeout: float | None = None) -> Any:
        response = self.session.request(
            method, f"{self.base_url}/_emulator/{name}", json=json_body, params=params,
            timeout=timeout or self.timeout,
        )
        response.raise_for_status()
        return response.json()

    def issue_reply_token(self, user_id: str, webhook_event_id: str) -> str:
        return self._call("POST", "reply-tokens", json_body={"userId": user_id, "webhookEventId": webhook_event_id})[
            "replyToken"
        ]

    def add_content(self, message_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self._call("POST", "content", json_body={"messageId": message_id, "contentType": content_type,
                                                 "dataBase64": base64.b64encode(data).decode("ascii")})

    def set_profile(self, user_id: str, display_name: str, **extra: Any) -> None:
        self._call("POST", "profiles", json_body={"userId": user_id, "displayName": display_name, **extra})

    def messages(self, user_id: str | None = None, after: int = 0, wait: float = 0.0,
                 count: int = 1) -> dict[str, Any]:
        """``{"messages": [...], "lastSeq": N}``; with ``wait`` it long-polls for ``count`` new ones."""
        params: dict[str, Any] = {"after": after, "wait": wait, "count": count}
        if user_id:
            params["userId"] = user_id
        return self._call("GET", "messages", params=params, timeout=wait + self.timeout)

    def wait_for_messages(self, user_id: str | None, count: int = 1, timeout: float = 10.0, *,
                          after: int = 0) -> list[dict[str, Any]]:
        """The first ``count`` messages after ``after``; raises ``TimeoutError`` if they don't come."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            found = self.messages(user_id, after, wait=max(0.0, remaining), count=count)["messages"]
            if len(found) >= count:
                return found[:count]
            if remaining <= 0:
                raise TimeoutError(f"{len(found)} of {count} messages for {user_id} within {timeout}s")

    def last_seq(self) -> int:
        return int(self.stats()["lastSeq"])

    def inject_fault(self, path: str, statuses: Sequence[int], count: int | None = None, *,
                     retry_after: int = 1) -> None:
        body: dict[str, Any] = {"path": path, "statuses": list(statuses), "retryAfter": retry_after}
        if count is not None:
            body["count"] = count
        self._call("POST", "faults", json_body=body)

    def violations(self) -> list[dict[str, Any]]:
        return self._call("GET", "violations")["violations"]

    def token_failures(self) -> list[dict[str, Any]]:
        return self._call("GET", "token-failures")["tokenFailures"]

    def loading_events(self) -> list[dict[str, Any]]:
        return self._call("GET", "loading")["events"]

    def stats(self) -> dict[str, Any]:
        return self._call("GET", "stats")

    def info(self) -> dict[str, Any]:
        return self._call("GET", "info")

    def reset(self) -> None:
        self._call("POST", "reset")


if __name__ == "__main__":
    main()
