"""Messaging API adapter over line-bot-sdk v3.

Reply first; push when the reply token is spent or expired. 429/5xx are retried
with backoff. A push always carries an `X-Line-Retry-Key`, derived from the event
when the caller gives one, so a retried or re-processed push is never delivered
twice (LINE answers 409 to the duplicate).
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass
from typing import Literal

# Module paths, not the package: its __init__ would load every API of the SDK (bot/line_sdk.py).
from linebot.v3.messaging.api.messaging_api import MessagingApi
from linebot.v3.messaging.api.messaging_api_blob import MessagingApiBlob
from linebot.v3.messaging.api_client import ApiClient
from linebot.v3.messaging.configuration import Configuration
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.messaging.models.show_loading_animation_request import ShowLoadingAnimationRequest

log = logging.getLogger(__name__)

SendStatus = Literal["sent", "duplicate", "invalid_token", "rejected", "failed"]
_RETRY_NAMESPACE = uuid.UUID("6f1c5c1e-5b7a-4d0e-9a55-6b6177617361")


def retry_key_for(seed: str) -> str:
    """A stable UUID for a logical send (e.g. the webhookEventId), for X-Line-Retry-Key."""
    return str(uuid.uuid5(_RETRY_NAMESPACE, seed))


@dataclass(frozen=True, slots=True)
class SendResult:
    status: SendStatus
    http_status: int | None = None
    detail: str = ""

    @property
    def delivered(self) -> bool:
        # 409 on a retry key means LINE already accepted this exact push.
        return self.status in ("sent", "duplicate")


class LineApi:
    def __init__(
        self,
        *,
        base_url: str,
        data_base_url: str,
        access_token: str,
        max_attempts: int = 4,
        backoff_base_s: float = 0.2,
        timeout_s: float = 10.0,
    ) -> None:
        conf = Configuration(host=base_url, access_token=access_token)
        conf.connection_pool_maxsize = 32
        blob_conf = Configuration(host=data_base_url, access_token=access_token)
        self._client = ApiClient(conf)
        self._blob_client = ApiClient(blob_conf)
        self.api = MessagingApi(self._client)
        self.blob = MessagingApiBlob(self._blob_client)
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.timeout_s = timeout_s

    def close(self) -> None:
        self._client.close()
        self._blob_client.close()

    # -- sending ------------------------------------------------------------
    # Our messages are plain Messaging API JSON, checked against LINE's OpenAPI spec in the tests.
    # Building the SDK's pydantic models from them and serialising them back cost ~9 ms per Flex
    # answer (measured, bench/), so the body goes as JSON through the SDK's own ApiClient (same
    # host configuration, auth, retries and errors as MessagingApi.reply_message / push_message).
    def reply(self, reply_token: str, messages: list[dict]) -> SendResult:
        body = {"replyToken": reply_token, "messages": messages}
        return self._send(lambda: self._post("/v2/bot/message/reply", body), kind="reply")

    def push(self, to: str, messages: list[dict], retry_key: str | None = None) -> SendResult:
        body = {"to": to, "messages": messages}
        headers = {"X-Line-Retry-Key": retry_key or str(uuid.uuid4())}
        return self._send(lambda: self._post("/v2/bot/message/push", body, headers), kind="push")

    def _post(self, path: str, body: dict, headers: dict | None = None) -> None:
        self._client.call_api(
            path, "POST",
            header_params={"Accept": "application/json", "Content-Type": "application/json", **(headers or {})},
            body=body,
            auth_settings=["Bearer"],
            # No response model: we never read sentMessages, and parsing it into pydantic models
            # was ~5 % of a worker's CPU per turn. Errors still raise ApiException with the body.
            response_types_map={},
            _request_timeout=self.timeout_s,
        )

    def _send(self, call, *, kind: str) -> SendResult:
        for attempt in range(1, self.max_attempts + 1):
            try:
                call()
                return SendResult("sent", 200)
            except ApiException as exc:
                status = exc.status or 0
                body = (exc.body or b"")[:300]
                detail = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
                if status == 409 and kind == "push":
                    return SendResult("duplicate", 409, detail)
                if status == 400 and kind == "reply" and "reply token" in detail.lower():
                    return SendResult("invalid_token", 400, detail)
                if status == 429 or status >= 500:
                    if attempt < self.max_attempts:
                        time.sleep(self._delay(attempt, exc))
                        continue
                    log.error("messaging api gave up", extra={"api": kind, "status": status})
                    return SendResult("failed", status, detail)
                log.error("messaging api rejected request", extra={"api": kind, "status": status, "detail": detail})
                return SendResult("rejected", status, detail)
            except Exception as exc:  # connection errors, timeouts
                if attempt < self.max_attempts:
                    time.sleep(self._delay(attempt, None))
                    continue
                log.error("messaging api unreachable", extra={"api": kind, "error": type(exc).__name__})
                return SendResult("failed", None, type(exc).__name__)
        return SendResult("failed")

    def _delay(self, attempt: int, exc: ApiException | None) -> float:
        if exc is not None and exc.headers:
            retry_after = dict(exc.headers).get("Retry-After") or dict(exc.headers).get("retry-after")
            if retry_after and retry_after.isdigit():
                return min(float(retry_after), 10.0)
        return self.backoff_base_s * (2 ** (attempt - 1)) * (0.5 + random.random())

    # -- other calls ----------------------------------------------------------
    def show_loading(self, chat_id: str, seconds: int = 5) -> None:
        """The typing indicator, for turns that take longer than a moment (best effort)."""
        try:
            self.api.show_loading_animation(
                ShowLoadingAnimationRequest(chatId=chat_id, loadingSeconds=seconds), _request_timeout=2.0
            )
        except Exception as exc:
            log.info("loading animation not shown", extra={"error": type(exc).__name__})

    def get_content(self, message_id: str) -> bytes:
        return bytes(self.blob.get_message_content(message_id, _request_timeout=self.timeout_s))
