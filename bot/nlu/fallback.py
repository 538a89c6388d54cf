"""An NLU that prefers a primary back end (the Rasa server) and falls back to another (embedded).

A circuit breaker: after the primary fails, messages go straight to the fallback for `retry_after`
seconds, so a dead server costs one timeout per retry period instead of one per message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from bot.nlu.result import NluResult
from integrations.rasa.client import NluUnavailable

log = logging.getLogger(__name__)


class Nlu(Protocol):
    def parse(self, text: str) -> NluResult: ...


class FallbackNlu:
    def __init__(
        self,
        primary: Nlu,
        fallback: Nlu,
        *,
        retry_after: float = 5.0,
        backend: str = "rasa",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.retry_after = retry_after
        self.backend = backend
        self._clock = clock
        self._lock = threading.Lock()
        self._degraded = False
        self._retry_at = 0.0
        self._probing = False  # one thread re-tries the primary; the others keep using the fallback
        self._since = datetime.now(UTC)
        self._last_error: str | None = None

    def parse(self, text: str) -> NluResult:
        if not self._should_try_primary():
            return self.fallback.parse(text)
        try:
            result = self.primary.parse(text)
        except NluUnavailable as exc:
            self._trip(exc)
            return self.fallback.parse(text)
        self._recover()
        return result

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "backend": self.backend,
                "state": "degraded" if self._degraded else "ok",
                "since": self._since.isoformat(timespec="seconds"),
                **({"last_error": self._last_error} if self._degraded else {}),
            }

    @property
    def degraded(self) -> bool:
        return self._degraded

    def _should_try_primary(self) -> bool:
        with self._lock:
            if not self._degraded:
                return True
            if self._probing or self._clock() < self._retry_at:
                return False
            self._probing = True
            return True

    def _trip(self, exc: NluUnavailable) -> None:
        with self._lock:
            first = not self._degraded
            self._probing = False
            self._retry_at = self._clock() + self.retry_after
            self._last_error = str(exc)
            if first:
                self._degraded = True
                self._since = datetime.now(UTC)
        if first:
            # Once per outage; the exception text names the endpoint and the failure, never the message.
            log.warning(
                "%s NLU unavailable (%s); using the fallback NLU, retrying every %.1fs",
                self.backend, exc, self.retry_after,
            )

    def _recover(self) -> None:
        with self._lock:
            if not self._degraded:
                return
            down_for = datetime.now(UTC) - self._since
            self._degraded = False
            self._probing = False
            self._since = datetime.now(UTC)
            self._last_error = None
        log.warning("%s NLU recovered after %.1fs", self.backend, down_for.total_seconds())
