"""The event queue: Redis Streams, partitioned by user, consumed under leases.

Delivery properties (see docs/reliability.md):

* Enqueue is atomic with duplicate suppression: one Lua script sets the
  `seen:<webhookEventId>` key and XADDs the event, so a redelivered event is
  dropped and an acknowledged one is never half-enqueued.
* Every user maps to one of `partitions` streams. A partition is consumed by
  at most one consumer at a time (a lease key with a TTL, renewed by a keeper
  thread), so one user's events are handled in arrival order even with many
  workers.
* Entries are acknowledged (XACK + XDEL) only after processing. When a consumer
  dies its leases expire; the next owner first claims the partition's pending
  entries (XAUTOCLAIM) and processes them in ID order, then new ones. This is
  at-least-once; effects are made idempotent by the turn store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis

log = logging.getLogger(__name__)

GROUP = "workers"

_ENQUEUE_LUA = """
-- KEYS: seen_1, stream_1, seen_2, stream_2, ...   ARGV: ttl, payload_1, payload_2, ...
local ttl = tonumber(ARGV[1])
local out = {}
for i = 1, #KEYS, 2 do
  local payload = ARGV[(i + 1) / 2 + 1]
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
    redis.call('XADD', KEYS[i + 1], '*', 'e', payload)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""

_ACQUIRE_LUA = """
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

_RENEW_LUA = """
-- KEYS: the leases to renew; returns 1/0 per key (0 = no longer ours)
local out = {}
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    out[i] = redis.call('PEXPIRE', KEYS[i], ARGV[2])
  else
    out[i] = 0
  end
end
return out
"""

_RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One webhook event to enqueue."""

    dedup_key: str
    partition_key: str
    payload: dict


@dataclass(slots=True)
class Delivery:
    """One event handed to a consumer; acknowledged only after processing."""

    partition: int
    entry_id: str
    payload: dict
    consumer_id: str
    claimed: bool = False  # taken over from another consumer (a possible re-run)
    acked: bool = False  # the handler already acknowledged it (in its own final transaction)


class TransientError(Exception):
    """A dependency is down for a while: retry the same event later, in order."""


class Queue:
    def __init__(
        self,
        client: redis.Redis,
        *,
        partitions: int = 64,
        prefix: str = "kb",
        dedup_ttl_s: int = 3 * 24 * 3600,
        lease_ttl_ms: int = 10_000,
        in_process: bool = False,
    ) -> None:
        self.r = client
        self.partitions = partitions
        self.prefix = prefix
        self.dedup_ttl_s = dedup_ttl_s
        self.lease_ttl_ms = lease_ttl_ms
        # The in-process stand-in cannot block on XREADGROUP, so enqueue wakes consumers.
        self.in_process = in_process
        self._wakeup = threading.Condition()
        self._enqueue = self.r.register_script(_ENQUEUE_LUA)
        self._acquire = self.r.register_script(_ACQUIRE_LUA)
        self._renew = self.r.register_script(_RENEW_LUA)
        self._release = self.r.register_script(_RELEASE_LUA)
        self._groups_ready = False

    # -- keys -------------------------------------------------------------
    def stream_key(self, partition: int) -> str:
        return f"{self.prefix}:q:{partition}"

    def lease_key(self, partition: int) -> str:
        return f"{self.prefix}:lease:{partition}"

    def seen_key(self, dedup_key: str) -> str:
        return f"{self.prefix}:seen:{dedup_key}"

    @property
    def consumers_key(self) -> str:
        return f"{self.prefix}:consumers"

    @property
    def dead_letter_key(self) -> str:
        return f"{self.prefix}:dlq"

    def partition_of(self, partition_key: str) -> int:
        return zlib.crc32(partition_key.encode()) % self.partitions

    # -- producer side ----------------------------------------------------
    def ensure_groups(self) -> None:
        pipe = self.r.pipeline(transaction=False)
        for p in range(self.partitions):
            # Start at 0: a stream created by an early XADD must not skip its entries.
            pipe.xgroup_create(self.stream_key(p), GROUP, id="0", mkstream=True)
        for result in pipe.execute(raise_on_error=False):
            if isinstance(result, Exception) and "BUSYGROUP" not in str(result):
                raise result
        self._groups_ready = True

    def enqueue(self, items: list[QueueItem]) -> list[bool]:
        """Enqueue events atomically; returns, per item, False when it was a duplicate."""
        if not items:
            return []
        keys: list[str] = []
        args: list[str] = [str(self.dedup_ttl_s)]
        for item in items:
            keys += [self.seen_key(item.dedup_key), self.stream_key(self.partition_of(item.partition_key))]
            args.append(json.dumps(item.payload, ensure_ascii=False, separators=(",", ":")))
        result = self._enqueue(keys=keys, args=args)
        if self.in_process:
            with self._wakeup:
                self._wakeup.notify_all()
        return [bool(x) for x in result]

    # -- leases -------------------------------------------------------------
    def try_acquire(self, partition: int, consumer_id: str) -> bool:
        """Take a free lease, or re-take our own (after a Redis hiccup)."""
        return bool(self._acquire(keys=[self.lease_key(partition)], args=[consumer_id, self.lease_ttl_ms]))

    def renew(self, partition: int, consumer_id: str) -> bool:
        return self.renew_many([partition], consumer_id) == [partition]

    def renew_many(self, partitions: list[int], consumer_id: str) -> list[int]:
        """Renew several leases in one call; returns the partitions still ours."""
        if not partitions:
            return []
        keys = [self.lease_key(p) for p in partitions]
        results = self._renew(keys=keys, args=[consumer_id, self.lease_ttl_ms])
        return [p for p, ok in zip(partitions, results, strict=True) if ok]

    def release(self, partition: int, consumer_id: str) -> None:
        self._release(keys=[self.lease_key(partition)], args=[consumer_id])

    def owner(self, partition: int) -> str | None:
        value = self.r.get(self.lease_key(partition))
        return value.decode() if isinstance(value, bytes) else value

    # -- consumer side ----------------------------------------------------
    def heartbeat(self, consumer_id: str, ttl_ms: int) -> int:
        """Register a live consumer; returns how many consumers are alive."""
        now = int(time.time() * 1000)
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(self.consumers_key, {consumer_id: now + ttl_ms})
        pipe.zremrangebyscore(self.consumers_key, "-inf", now)
        pipe.zcard(self.consumers_key)
        return int(pipe.execute()[-1])

    def leave(self, consumer_id: str) -> None:
        self.r.zrem(self.consumers_key, consumer_id)

    def claim_pending(self, partition: int, consumer_id: str, count: int = 100) -> list[Delivery]:
        """Take over every pending entry of a partition we now own (oldest first)."""
        out: list[Delivery] = []
        start = "0-0"
        while True:
            result = self.r.xautoclaim(
                self.stream_key(partition), GROUP, consumer_id, min_idle_time=0, start_id=start, count=count
            )
            start, entries = result[0], result[1]
            for entry_id, fields in entries:
                if fields is None:  # deleted while pending
                    continue
                out.append(self._delivery(partition, entry_id, fields, consumer_id, claimed=True))
            if start in (b"0-0", "0-0") or not entries:
                break
        out.sort(key=lambda d: _entry_order(d.entry_id))
        return out

    def read_new(self, partitions: Iterable[int], consumer_id: str, count: int, block_ms: int) -> list[Delivery]:
        streams = {self.stream_key(p): ">" for p in partitions}
        if not streams:
            self._idle_wait(block_ms)
            return []
        block = None if self.in_process else block_ms
        try:
            result = self.r.xreadgroup(GROUP, consumer_id, streams, count=count, block=block)
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis lost its data (restart without persistence)
                log.warning("queue groups missing; recreating", extra={"error": str(exc)})
                self.ensure_groups()
                return []
            raise
        if not result and self.in_process:
            self._idle_wait(block_ms)
            result = self.r.xreadgroup(GROUP, consumer_id, streams, count=count)
        out: list[Delivery] = []
        for stream, entries in result or []:
            name = stream.decode() if isinstance(stream, bytes) else stream
            partition = int(name.rsplit(":", 1)[1])
            for entry_id, fields in entries:
                out.append(self._delivery(partition, entry_id, fields, consumer_id))
        return out

    def _idle_wait(self, block_ms: int) -> None:
        if self.in_process:
            with self._wakeup:
                self._wakeup.wait(block_ms / 1000)
        else:
            time.sleep(block_ms / 1000)

    def ack(self, delivery: Delivery) -> None:
        pipe = self.r.pipeline(transaction=True)
        self.ack_in(pipe, delivery)
        pipe.execute()

    def ack_in(self, pipe: redis.client.Pipeline, delivery: Delivery) -> None:
        """Queue the ack on a caller's transaction (so 'answered' and 'acked' happen together).

        The caller sets ``delivery.acked`` once that transaction has run.
        """
        key = self.stream_key(delivery.partition)
        pipe.xack(key, GROUP, delivery.entry_id)
        pipe.xdel(key, delivery.entry_id)

    def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Park an event that cannot be processed, for an operator to inspect and replay."""
        self.r.xadd(
            self.dead_letter_key,
            {"e": json.dumps(delivery.payload, ensure_ascii=False), "reason": reason[:500]},
            maxlen=100_000,
        )
        self.ack(delivery)

    def backlog(self) -> int:
        pipe = self.r.pipeline(transaction=False)
        for p in range(self.partitions):
            pipe.xlen(self.stream_key(p))
        return sum(int(x) for x in pipe.execute())

    def stats(self) -> dict:
        now = int(time.time() * 1000)
        return {
            "backlog": self.backlog(),
            "consumers": int(self.r.zcount(self.consumers_key, now, "+inf")),
            "dead_letters": int(self.r.xlen(self.dead_letter_key)),
        }

    @staticmethod
    def _delivery(partition: int, entry_id, fields: dict, consumer_id: str, claimed: bool = False) -> Delivery:
        eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        raw = fields.get(b"e", fields.get("e"))
        if isinstance(raw, bytes):
            raw = raw.decode()
        try:
            payload = json.loads(raw)
        except (TypeError, ValueError):
            payload = {"_unreadable": True}
        return Delivery(partition, eid, payload, consumer_id, claimed)


def _entry_order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


Handler = Callable[[Delivery], None]


@dataclass
class Consumer:
    """One sequential consumer: owns a fair share of partitions and processes them in order."""

    queue: Queue
    handler: Handler
    consumer_id: str = field(default_factory=lambda: f"c-{uuid.uuid4().hex[:12]}")
    batch: int = 32
    block_ms: int = 1000
    transient_retry_max_s: float = 300.0
    owned: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_rebalance: float = 0.0

    def rebalance(self) -> None:
        """Heartbeat, then grow or shrink the owned partitions towards a fair share."""
        q = self.queue
        alive = q.heartbeat(self.consumer_id, ttl_ms=q.lease_ttl_ms)
        target = math.ceil(q.partitions / max(alive, 1))
        acquired: list[int] = []
        with self._lock:
            kept = set(q.renew_many(sorted(self.owned), self.consumer_id))
            for p in self.owned - kept:
                log.warning("lease lost", extra={"partition": p, "consumer": self.consumer_id})
            self.owned &= kept
            while len(self.owned) > target:
                p = self.owned.pop()
                q.release(p, self.consumer_id)
            if len(self.owned) < target:
                start = random.randrange(q.partitions)
                for i in range(q.partitions):
                    p = (start + i) % q.partitions
                    if p in self.owned:
                        continue
                    if q.try_acquire(p, self.consumer_id):
                        self.owned.add(p)
                        acquired.append(p)
                        if len(self.owned) >= target:
                            break
        # Outside the lock, so the keeper thread can renew leases during a long drain.
        for p in acquired:
            self._drain_pending(p)

    def renew_leases(self) -> None:
        """Called by the keeper thread so a long turn does not lose its partitions."""
        with self._lock:
            owned = list(self.owned)
        self.queue.renew_many(owned, self.consumer_id)
        self.queue.heartbeat(self.consumer_id, ttl_ms=self.queue.lease_ttl_ms)

    def _drain_pending(self, partition: int) -> None:
        for delivery in self.queue.claim_pending(partition, self.consumer_id):
            self._process(delivery)

    def poll_once(self) -> int:
        now = time.monotonic()
        if now >= self._next_rebalance:
            self.rebalance()
            self._next_rebalance = now + min(1.0, self.queue.lease_ttl_ms / 4000)
        with self._lock:
            owned = sorted(self.owned)
        deliveries = self.queue.read_new(owned, self.consumer_id, self.batch, self.block_ms)
        for delivery in deliveries:
            self._process(delivery)
        return len(deliveries)

    def _process(self, delivery: Delivery) -> None:
        started = time.monotonic()
        delay = 0.2
        attempts = 0
        while True:
            try:
                self.handler(delivery)
                if not delivery.acked:
                    self.queue.ack(delivery)
                return
            except TransientError as exc:
                if time.monotonic() - started > self.transient_retry_max_s:
                    log.error("giving up after transient errors", extra={"entry": delivery.entry_id})
                    self.queue.dead_letter(delivery, f"transient: {exc}")
                    return
                log.warning("transient error; retrying", extra={"entry": delivery.entry_id, "error": str(exc)})
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
            except redis.ConnectionError:
                raise  # the consumer loop waits for Redis; the entry stays pending
            except Exception as exc:  # a bug or a poison event: never block the partition forever
                attempts += 1
                log.exception("event handler failed", extra={"entry": delivery.entry_id, "attempt": attempts})
                if attempts >= 3:
                    self.queue.dead_letter(delivery, f"{type(exc).__name__}: {exc}")
                    return

    def run(self, stop: threading.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                self.poll_once()
                backoff = 0.2
            except redis.ConnectionError as exc:
                log.warning("redis unavailable; consumer waiting", extra={"error": str(exc)})
                with self._lock:
                    self.owned.clear()  # leases will be re-acquired (and pending claimed) on return
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("consumer loop error")
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.shutdown()

    def shutdown(self) -> None:
        with self._lock:
            owned = list(self.owned)
            self.owned.clear()
        try:
            for p in owned:
                self.queue.release(p, self.consumer_id)
            self.queue.leave(self.consumer_id)
        except redis.RedisError:
            pass


class LeaseKeeper(threading.Thread):
    """Renews the leases of local consumers while they are busy with a long turn."""

    def __init__(self, consumers: list[Consumer], interval_s: float, stop: threading.Event) -> None:
        super().__init__(name="lease-keeper", daemon=True)
        self.consumers = consumers
        self.interval_s = interval_s
        self.stop_event = stop

    def run(self) -> None:
        while not self.stop_event.wait(self.interval_s):
            for consumer in self.consumers:
                with contextlib.suppress(redis.RedisError):
                    consumer.renew_leases()
