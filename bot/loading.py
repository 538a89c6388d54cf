"""The loading animation for turns that take longer than a moment.

One scheduler thread per process instead of a timer thread per turn: starting a thread for every
turn cost more than most turns themselves under load.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


class Pending:
    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class DelayedCalls:
    """Run ``fn(arg)`` after ``delay_s`` unless cancelled first (cancel is a flag, no lock)."""

    def __init__(self, name: str = "delayed-calls") -> None:
        self._heap: list[tuple[float, int, Pending, Callable[[str], None], str]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._name = name
        self._thread: threading.Thread | None = None

    def call_later(self, delay_s: float, fn: Callable[[str], None], arg: str) -> Pending:
        handle = Pending()
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), handle, fn, arg))
            if self._heap[0][2] is handle:
                self._cond.notify()
        return handle

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    # Drop cancelled entries at the head so the heap stays small under load.
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    if timeout is not None and timeout <= 0:
                        break
                    self._cond.wait(timeout)
                _due, _seq, handle, fn, arg = heapq.heappop(self._heap)
            if handle.cancelled:
                continue
            try:
                fn(arg)
            except Exception:  # best effort: never kill the scheduler
                log.exception("delayed call failed")
