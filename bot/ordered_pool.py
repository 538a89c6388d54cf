"""Runs one consumer's deliveries on several threads, each user's deliveries one at a time, in order.

A consumer owns a set of partitions (see bot/queue.py). Handling them on one thread made a resident
wait behind every other resident hashed to the same consumer, and even one thread per partition made
two residents who share a partition wait for each other (with 32 residents on 64 partitions, 12
pairs did, at 1.7x the others' latency). Ordering is owed per user, not per partition: here each
user (the event's ordering key) keeps a FIFO of its deliveries and runs on at most one thread at a
time, and a free thread takes the user who has waited longest. Operations by partition (drop what is
queued, wait until idle) cover every user of that partition, because the partition is what a
consumer owns and hands over.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.queue import Delivery

Key = tuple[int, str]  # (partition, ordering key)


class OrderedPool:
    """Per-user FIFO queues served round-robin by ``threads`` handler threads."""

    def __init__(self, handle: Callable[[Delivery], None], threads: int, name: str = "handler") -> None:
        self._handle = handle
        self._cv = threading.Condition()
        self._queues: dict[Key, deque[Delivery]] = {}
        self._ready: deque[Key] = deque()  # users with queued work that no thread is running
        self._running: set[Key] = set()
        self._pending = 0  # queued + running
        self._blocked: set[int] = set()  # partitions whose later events must wait in Redis
        self._closed = False
        self._threads = [
            threading.Thread(target=self._serve, name=f"{name}-{i}", daemon=True) for i in range(threads)
        ]

    def start(self) -> None:
        for t in self._threads:
            t.start()

    # -- reader side ------------------------------------------------------------
    def submit(self, deliveries: Iterable[Delivery]) -> None:
        with self._cv:
            for d in deliveries:
                if d.partition in self._blocked:
                    continue  # stays pending in Redis, behind the event that failed
                key = (d.partition, d.ordering_key)
                queue = self._queues.get(key)
                if queue is None:
                    queue = self._queues[key] = deque()
                    if key not in self._running:
                        self._ready.append(key)
                queue.append(d)
                self._pending += 1
            self._cv.notify_all()

    @property
    def pending(self) -> int:
        """Deliveries handed over and not yet finished (queued or running)."""
        with self._cv:
            return self._pending

    def wait_below(self, limit: int, timeout: float) -> bool:
        """Block until fewer than ``limit`` deliveries are pending (back-pressure for the reader)."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending < limit, timeout)

    def idle(self, partition: int) -> bool:
        with self._cv:
            return not self._busy({partition})

    def discard(self, partitions: Iterable[int] | None = None, *, block: bool = False) -> int:
        """Drop queued (not running) deliveries; they stay pending in Redis for whoever owns them next.

        With ``block``, later submissions for these partitions are dropped too, until ``unblock``.
        """
        wanted = None if partitions is None else set(partitions)
        dropped = 0
        with self._cv:
            if block and wanted is not None:
                self._blocked |= wanted
            for key in [k for k in self._queues if wanted is None or k[0] in wanted]:
                queue = self._queues.pop(key)
                dropped += len(queue)
                self._pending -= len(queue)
                if key in self._ready:
                    self._ready.remove(key)
            self._cv.notify_all()
        return dropped

    def unblock(self) -> None:
        with self._cv:
            self._blocked.clear()

    def wait_idle(self, partitions: Iterable[int] | None = None, timeout: float = 30.0) -> bool:
        """Block until the given partitions (default: all) have nothing queued or running."""
        wanted = None if partitions is None else set(partitions)
        with self._cv:
            return self._cv.wait_for(lambda: self._pending == 0 if wanted is None else not self._busy(wanted),
                                     timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Drop what is queued, let running deliveries finish, stop the threads."""
        self.discard()
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))

    def _busy(self, partitions: set[int]) -> bool:  # the lock held
        return any(k[0] in partitions for k in self._running) or any(k[0] in partitions for k in self._queues)

    # -- handler threads ------------------------------------------------------------
    def _take(self) -> Delivery | None:
        with self._cv:
            while not self._ready:
                if self._closed:
                    return None
                self._cv.wait()
            key = self._ready.popleft()
            self._running.add(key)
            return self._queues[key].popleft()

    def _finish(self, delivery: Delivery) -> None:
        with self._cv:
            key = (delivery.partition, delivery.ordering_key)
            self._running.discard(key)
            self._pending -= 1
            queue = self._queues.get(key)
            if queue:
                self._ready.append(key)  # to the back: users take turns
            elif queue is not None:
                del self._queues[key]
            self._cv.notify_all()

    def _serve(self) -> None:
        while (delivery := self._take()) is not None:
            try:
                self._handle(delivery)
            finally:
                self._finish(delivery)
