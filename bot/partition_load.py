"""How busy each owned partition has been lately, for moving work between worker processes.

Partitions are shared between consumers by count. With many residents that spreads the work evenly,
but with few active ones (or one very active chat) one worker process can hold most of it: in the
closed-loop benchmark with 32 residents, the split was often 19 to 13, and the busier process's
residents waited longer. Each consumer therefore counts the events it handled per partition (an
exponentially decaying count, half-life ``half_life_s``), publishes its total with its heartbeat, and
a consumer well above the mean offers one busy partition to the others (bot/queue.py).
"""

from __future__ import annotations

import threading
import time


class PartitionLoad:
    def __init__(self, half_life_s: float = 2.0) -> None:
        self.half_life_s = half_life_s
        self._counts: dict[int, float] = {}
        self._lock = threading.Lock()
        self._at = time.monotonic()

    def note(self, partition: int) -> None:
        """One event of ``partition`` was handled."""
        with self._lock:
            self._counts[partition] = self._counts.get(partition, 0.0) + 1.0

    def decay(self) -> None:
        with self._lock:
            now = time.monotonic()
            factor = 0.5 ** ((now - self._at) / self.half_life_s)
            self._at = now
            self._counts = {p: c * factor for p, c in self._counts.items() if c * factor >= 0.01}

    def of(self, partition: int) -> float:
        with self._lock:
            return self._counts.get(partition, 0.0)

    def total(self, partitions: set[int]) -> float:
        with self._lock:
            return sum(c for p, c in self._counts.items() if p in partitions)

    def forget(self, partition: int) -> None:
        with self._lock:
            self._counts.pop(partition, None)

    def seed(self, partition: int, load: float) -> None:
        """A partition taken over from another consumer arrives with the load it had there."""
        with self._lock:
            self._counts[partition] = max(self._counts.get(partition, 0.0), load)

    def choose_offer(self, candidates: list[int], gap: float) -> int | None:
        """The partition whose move brings this consumer closest to the mean (0 < load < 2 * gap)."""
        with self._lock:
            loads = [(abs(self._counts.get(p, 0.0) - gap), p) for p in candidates
                     if 0.0 < self._counts.get(p, 0.0) < 2 * gap]
        return min(loads)[1] if loads else None
