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

from bot.ordered_pool import OrderedPool
from bot.partition_load import PartitionLoad

log = logging.getLogger(__name__)

GROUP = "workers"
# A consumer offers a partition when its load exceeds the mean by this much (and by this share of
# it), at most once per cooldown: with half-life 2 s loads, others' figures lag a few seconds.
BALANCE_MIN_GAP = 10.0
BALANCE_GAP_SHARE = 0.1
BALANCE_COOLDOWN_S = 3.0

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


def ordering_key(event: dict) -> str:
    """Whose events must be handled in order: the user, group or room the event comes from.

    It picks the partition at enqueue and the FIFO inside a consumer (bot/ordered_pool.py).
    """
    source = event.get("source")
    if isinstance(source, dict):
        for key in ("userId", "groupId", "roomId"):
            value = source.get(key)
            if isinstance(value, str) and value:
                return value
    return "_unknown"


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

    @property
    def ordering_key(self) -> str:
        """The event's ordering key; without an event, the whole partition is one key."""
        event = self.payload.get("event")
        return ordering_key(event) if isinstance(event, dict) else ""


class TransientError(Exception):
    """A dependency is down for a while: retry the same event later, in order."""


class PartitionMoved(TransientError):
    """The partition's lease belongs to another consumer now; it will process the event itself."""


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

    @property
    def load_key(self) -> str:
        return f"{self.prefix}:load"

    @property
    def handoff_key(self) -> str:
        return f"{self.prefix}:handoff"

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
        pipe = self.r.pipeline(transaction=False)
        pipe.zrem(self.consumers_key, consumer_id)
        pipe.hdel(self.load_key, consumer_id)
        pipe.execute()

    # -- moving load between consumers (see bot/partition_load.py) -----------------
    def heartbeat_with_load(self, consumer_id: str, ttl_ms: int, load: float) -> dict[str, float]:
        """``heartbeat`` that also records this consumer's recent load, in the same round trip.

        Returns the loads of all live consumers (this one included), so ``len`` is how many are alive.
        """
        now = int(time.time() * 1000)
        pipe = self.r.pipeline(transaction=False)
        pipe.zadd(self.consumers_key, {consumer_id: now + ttl_ms})
        pipe.zremrangebyscore(self.consumers_key, "-inf", now)
        pipe.hset(self.load_key, consumer_id, f"{load:.2f}")
        pipe.zrangebyscore(self.consumers_key, now, "+inf")
        pipe.hgetall(self.load_key)
        *_, alive, loads = pipe.execute()
        alive_ids = {a.decode() if isinstance(a, bytes) else a for a in alive}
        out: dict[str, float] = {}
        dead: list = []
        for k, v in loads.items():
            cid = k.decode() if isinstance(k, bytes) else k
            if cid in alive_ids:
                out[cid] = float(v)
            else:
                dead.append(k)
        if dead:
            self.r.hdel(self.load_key, *dead)
        return out

    def offer(self, partition: int, load: float, ttl_ms: int) -> None:
        """Say that ``partition`` (just released) should go to a less busy consumer."""
        self.r.zadd(self.handoff_key, {f"{partition}:{load:.2f}": int(time.time() * 1000) + ttl_ms})

    def offers(self) -> list[tuple[int, float, str]]:
        """Open offers as (partition, load, member), oldest first; expired ones are dropped."""
        now = int(time.time() * 1000)
        pipe = self.r.pipeline(transaction=False)
        pipe.zremrangebyscore(self.handoff_key, "-inf", now)
        pipe.zrange(self.handoff_key, 0, -1)
        out = []
        for m in pipe.execute()[1]:
            member = m.decode() if isinstance(m, bytes) else m
            p, _, load = member.partition(":")
            out.append((int(p), float(load or 0), member))
        return out

    def withdraw_offer(self, member: str) -> None:
        self.r.zrem(self.handoff_key, member)

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
    """Owns a fair share of partitions and processes each user's events in order.

    With ``threads`` > 1 the reader hands deliveries to an OrderedPool: different users run on
    different threads, one user's events one at a time and in order. With 1 they run in the reader's
    own thread (``poll_once`` returns when they are done).
    """

    queue: Queue
    handler: Handler
    consumer_id: str = field(default_factory=lambda: f"c-{uuid.uuid4().hex[:12]}")
    batch: int = 32  # the most deliveries read and not yet finished
    block_ms: int = 1000
    transient_retry_max_s: float = 300.0
    threads: int = 1
    owned: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_rebalance: float = 0.0
    _pool: OrderedPool | None = None
    _redis_lost: threading.Event = field(default_factory=threading.Event)
    _load: PartitionLoad = field(default_factory=PartitionLoad)
    _given: dict[int, float] = field(default_factory=dict)  # partition -> not before (monotonic)
    _taken: dict[int, float] = field(default_factory=dict)  # partition -> keep at least until
    _next_offer: float = 0.0

    def __post_init__(self) -> None:
        if self.threads > 1:
            self._pool = OrderedPool(self._process_pooled, self.threads, name=f"handler-{self.consumer_id}")
            self._pool.start()

    def rebalance(self) -> None:
        """Heartbeat, then grow or shrink the owned partitions towards a fair share.

        A fair share is first a count (``ceil(partitions / live consumers)``). On top of that, a
        consumer well above the mean load offers one busy partition (released, and announced in
        ``kb:handoff``), a consumer below the mean takes offered partitions even beyond its count,
        and the count rule then makes it give back its least busy idle one: a swap.
        """
        q = self.queue
        self._load.decay()
        with self._lock:
            owned_now = set(self.owned)
        loads = q.heartbeat_with_load(self.consumer_id, q.lease_ttl_ms, self._load.total(owned_now))
        alive = len(loads)
        target = math.ceil(q.partitions / max(alive, 1))
        now = time.monotonic()
        self._given = {p: t for p, t in self._given.items() if t > now}
        self._taken = {p: t for p, t in self._taken.items() if t > now}
        acquired: list[int] = []
        with self._lock:
            kept = set(q.renew_many(sorted(self.owned), self.consumer_id))
            lost = self.owned - kept
            for p in lost:
                log.warning("lease lost", extra={"partition": p, "consumer": self.consumer_id})
                self._load.forget(p)
            if lost and self._pool is not None:
                self._pool.discard(lost)  # their new owner claims them from Redis
            self.owned &= kept
            my_load = self._load.total(self.owned)
            mean = sum(loads.values()) / len(loads) if loads else my_load
            excess = len(self.owned) - target
            # The least busy go first; a partition just taken over stays a while.
            for p in sorted(self.owned, key=lambda x: (self._load.of(x), x)):
                if excess <= 0:
                    break
                # Only hand over a partition with nothing queued or running here, so that its
                # next owner never runs one user's events beside ours.
                if p not in self._taken and (self._pool is None or self._pool.idle(p)):
                    self._release(p)
                    excess -= 1
            self._offer_if_busy(my_load, mean, len(loads))
            if len(loads) > 1 and my_load < mean:
                for p, load, member in q.offers():
                    if p not in self.owned and p not in self._given and q.try_acquire(p, self.consumer_id):
                        q.withdraw_offer(member)
                        self.owned.add(p)
                        self._load.seed(p, load)
                        self._taken[p] = now + 10.0
                        acquired.append(p)
                        log.info("partition taken over for balance", extra={"partition": p, "load": load})
                        break  # one at a time: the loads are re-read next round
            if len(self.owned) < target:
                start = random.randrange(q.partitions)
                for i in range(q.partitions):
                    p = (start + i) % q.partitions
                    if p in self.owned or p in self._given:
                        continue
                    if q.try_acquire(p, self.consumer_id):
                        self.owned.add(p)
                        acquired.append(p)
                        if len(self.owned) >= target:
                            break
        # Outside the lock, so the keeper thread can renew leases during a long drain.
        for p in acquired:
            self._drain_pending(p)

    def _release(self, partition: int) -> None:  # the lock held
        self.owned.discard(partition)
        self._load.forget(partition)
        self.queue.release(partition, self.consumer_id)

    def _offer_if_busy(self, my_load: float, mean: float, consumers: int) -> None:  # the lock held
        """Well above the mean: release the busy partition whose move best evens things out."""
        now = time.monotonic()
        gap = my_load - mean
        if consumers < 2 or now < self._next_offer or gap <= max(BALANCE_MIN_GAP, BALANCE_GAP_SHARE * mean):
            return
        idle = [p for p in self.owned if p not in self._taken and (self._pool is None or self._pool.idle(p))]
        p = self._load.choose_offer(idle, gap)
        if p is None:
            return
        load = self._load.of(p)
        self._release(p)
        self.queue.offer(p, load, ttl_ms=self.queue.lease_ttl_ms)
        self._given[p] = now + 3.0  # not ours to take back at once; if nobody takes it, we will
        self._next_offer = now + BALANCE_COOLDOWN_S  # let the others' published loads catch up
        log.info("partition offered for balance", extra={"partition": p, "load": round(load, 1),
                                                          "mine": round(my_load, 1), "mean": round(mean, 1)})

    def renew_leases(self) -> None:
        """Called by the keeper thread so a long turn does not lose its partitions."""
        with self._lock:
            owned = list(self.owned)
        self.queue.renew_many(owned, self.consumer_id)
        self.queue.heartbeat(self.consumer_id, ttl_ms=self.queue.lease_ttl_ms)

    def _drain_pending(self, partition: int) -> None:
        if self._pool is not None:
            # Events we read from this partition before losing it may still be queued or running
            # here; the claim below returns them again, so drop ours and let the running one end.
            self._pool.discard([partition])
            self._pool.wait_idle([partition], timeout=self.transient_retry_max_s)
            self._pool.submit(self.queue.claim_pending(partition, self.consumer_id))
            return
        for delivery in self.queue.claim_pending(partition, self.consumer_id):
            self._process(delivery)

    def poll_once(self) -> int:
        if self._redis_lost.is_set():
            raise redis.ConnectionError("a handler lost its Redis connection")
        now = time.monotonic()
        if now >= self._next_rebalance:
            self.rebalance()
            self._next_rebalance = now + min(1.0, self.queue.lease_ttl_ms / 4000)
        with self._lock:
            owned = sorted(self.owned)
        if self._pool is None:
            deliveries = self.queue.read_new(owned, self.consumer_id, self.batch, self.block_ms)
            for delivery in deliveries:
                self._process(delivery)
            return len(deliveries)
        if not self._pool.wait_below(self.batch, timeout=self.block_ms / 1000):
            return 0
        room = self.batch - self._pool.pending
        deliveries = self.queue.read_new(owned, self.consumer_id, room, self.block_ms)
        self._pool.submit(deliveries)
        return len(deliveries)

    def _process_pooled(self, delivery: Delivery) -> None:
        try:
            self._process(delivery)
        except redis.ConnectionError as exc:
            # The event stays pending in Redis. Its partition's later events must not overtake it:
            # drop them here, and let the reader start over (re-take leases, claim pending in order).
            assert self._pool is not None
            self._pool.discard([delivery.partition], block=True)
            self._redis_lost.set()
            log.warning("redis unavailable during a turn", extra={"entry": delivery.entry_id, "error": str(exc)})

    def _forget_partitions(self) -> None:
        """After losing Redis: hold nothing locally; leases are re-taken and pending claimed on return."""
        if self._pool is not None:
            self._pool.discard()
            self._pool.wait_idle(timeout=self.transient_retry_max_s)
            self._pool.unblock()
        self._redis_lost.clear()
        with self._lock:
            self.owned.clear()

    def _process(self, delivery: Delivery) -> None:
        self._load.note(delivery.partition)
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
                if isinstance(exc, PartitionMoved):
                    # Not acked: it stays pending for the partition's new owner, who claims it.
                    log.warning("partition moved; leaving the event to its owner", extra={"entry": delivery.entry_id})
                    with self._lock:
                        self.owned.discard(delivery.partition)
                    if self._pool is not None:
                        self._pool.discard([delivery.partition])
                    return
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
                self._forget_partitions()  # leases will be re-acquired (and pending claimed) on return
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                log.exception("consumer loop error")
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.shutdown()

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.close()  # queued events stay pending for the next owner; running ones finish
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
