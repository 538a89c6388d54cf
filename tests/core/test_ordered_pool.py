"""A consumer's handler threads: users in parallel, each user's events in order, on real Redis."""

from __future__ import annotations

import threading
import time

import fakeredis
import pytest
import redis

from bot.ordered_pool import OrderedPool
from bot.queue import Consumer, Delivery, Queue, QueueItem


@pytest.fixture(params=["redis", "in-process"])
def queue(request, redis_url) -> Queue:
    """Real Redis, and the in-process stand-in that `kawasaki-bot serve` uses on embedded defaults."""
    if request.param == "redis":
        q = Queue(redis.Redis.from_url(redis_url), partitions=8, prefix="kbtpp", lease_ttl_ms=2000)
    else:
        q = Queue(fakeredis.FakeRedis(server=fakeredis.FakeServer()), partitions=8, prefix="kbtpp",
                  lease_ttl_ms=2000, in_process=True)
    q.ensure_groups()
    return q


def _item(user: str, seq: int) -> QueueItem:
    """A queued event as the webhook stores it: the user is the event's source."""
    return QueueItem(f"{user}-{seq}", user, {"event": {"source": {"type": "user", "userId": user}},
                                              "user": user, "seq": seq})


def _users_in_distinct_partitions(queue: Queue, n: int) -> list[str]:
    users: dict[int, str] = {}
    i = 0
    while len(users) < n:
        users.setdefault(queue.partition_of(f"U{i}"), f"U{i}")
        i += 1
    return list(users.values())


def _run(consumers: list[Consumer], until, timeout: float = 15.0) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in consumers]
    for t in threads:
        t.start()
    deadline = time.time() + timeout
    while time.time() < deadline and not until():
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join(10)


def test_a_slow_resident_does_not_hold_up_another_on_the_same_consumer(queue: Queue) -> None:
    slow, quick = _users_in_distinct_partitions(queue, 2)
    finished: dict[str, float] = {}

    def handler(d: Delivery) -> None:
        if d.payload["user"] == slow:
            time.sleep(0.3)
        finished[f"{d.payload['user']}-{d.payload['seq']}"] = time.monotonic()

    consumer = Consumer(queue, handler, block_ms=50, threads=4)
    queue.enqueue([_item(slow, i) for i in range(3)])
    queue.enqueue([_item(quick, 0)])
    _run([consumer], lambda: len(finished) == 4)
    assert len(finished) == 4
    # One thread per consumer would have run the quick resident's event after the slow one's.
    assert finished[f"{quick}-0"] < finished[f"{slow}-0"]


def test_two_residents_who_share_a_partition_do_not_wait_for_each_other(queue: Queue) -> None:
    first = "U0"
    second = next(f"U{i}" for i in range(1, 1000) if queue.partition_of(f"U{i}") == queue.partition_of(first))
    finished: dict[str, float] = {}

    def handler(d: Delivery) -> None:
        if d.payload["user"] == first:
            time.sleep(0.3)
        finished[f"{d.payload['user']}-{d.payload['seq']}"] = time.monotonic()

    queue.enqueue([_item(first, 0), _item(first, 1), _item(second, 0)])
    _run([Consumer(queue, handler, block_ms=50, threads=2)], lambda: len(finished) == 3)
    assert len(finished) == 3
    assert finished[f"{second}-0"] < finished[f"{first}-0"] < finished[f"{first}-1"]


def test_each_users_events_stay_in_order_on_many_threads(queue: Queue) -> None:
    seen: dict[str, list[int]] = {}
    lock = threading.Lock()

    running: set[str] = set()
    overlaps: list[str] = []

    def handler(d: Delivery) -> None:
        user = d.payload["user"]
        with lock:
            if user in running:
                overlaps.append(user)
            running.add(user)
        time.sleep(0.001)
        with lock:
            running.discard(user)
            seen.setdefault(user, []).append(d.payload["seq"])

    users = [f"U{i}" for i in range(20)]
    for chunk in range(4):
        queue.enqueue([_item(u, i)
                       for u in users for i in range(chunk * 10, chunk * 10 + 10)])
    consumers = [Consumer(queue, handler, block_ms=50, threads=4, batch=16) for _ in range(2)]
    _run(consumers, lambda: sum(len(v) for v in seen.values()) >= 800, timeout=30)
    assert not overlaps, "one user's events ran on two threads at once"
    for u in users:
        assert seen[u] == list(range(40)), u
    assert queue.backlog() == 0


def test_a_redis_failure_mid_turn_is_retried_before_the_users_later_events(queue: Queue) -> None:
    (user,) = _users_in_distinct_partitions(queue, 1)
    done: list[int] = []
    failed = threading.Event()

    def handler(d: Delivery) -> None:
        if d.payload["seq"] == 2 and not failed.is_set():
            failed.set()
            raise redis.ConnectionError("connection reset")  # the entry stays pending
        time.sleep(0.005)
        done.append(d.payload["seq"])

    queue.enqueue([_item(user, i) for i in range(6)])
    consumer = Consumer(queue, handler, block_ms=50, threads=3)
    _run([consumer], lambda: len(done) == 6)
    assert failed.is_set()
    assert done == [0, 1, 2, 3, 4, 5]
    assert queue.backlog() == 0


def test_a_busy_partition_is_not_handed_over_while_it_runs(queue: Queue) -> None:
    (user,) = _users_in_distinct_partitions(queue, 1)
    partition = queue.partition_of(user)
    release = threading.Event()
    started = threading.Event()

    def handler(d: Delivery) -> None:
        started.set()
        release.wait(10)

    a = Consumer(queue, handler, block_ms=50, threads=2)
    a.rebalance()
    assert partition in a.owned
    queue.enqueue([_item(user, 0)])
    a.poll_once()
    assert started.wait(5)
    b = Consumer(queue, lambda d: None, block_ms=50)
    b.rebalance()
    a.rebalance()  # a shrinks to its share of 8, but keeps the partition that is running
    assert len(a.owned) == 4 and partition in a.owned
    release.set()
    a.shutdown()
    b.shutdown()


def test_pool_discard_and_block_keep_later_events_out() -> None:
    ran: list[int] = []
    gate = threading.Event()

    def handle(d: Delivery) -> None:
        gate.wait(5)
        ran.append(d.payload["seq"])

    pool = OrderedPool(handle, threads=2)
    pool.start()

    def delivery(seq: int, partition: int = 0) -> Delivery:
        return Delivery(partition, f"1-{seq}", {"event": {"source": {"userId": "U1"}}, "seq": seq}, "c")

    pool.submit([delivery(0), delivery(1), delivery(2)])
    time.sleep(0.05)
    assert pool.pending == 3 and not pool.idle(0)
    assert pool.discard([0], block=True) == 2  # 0 is running; 1 and 2 wait in Redis instead
    pool.submit([delivery(3)])  # blocked: dropped
    gate.set()
    assert pool.wait_idle(timeout=5)
    assert ran == [0] and pool.pending == 0
    pool.unblock()
    pool.submit([delivery(4)])
    assert pool.wait_idle(timeout=5)
    assert ran == [0, 4]
    pool.close()


@pytest.fixture
def redis_queue(redis_url) -> Queue:
    """Real Redis only: balancing is between worker processes, which the in-process stand-in never has."""
    q = Queue(redis.Redis.from_url(redis_url), partitions=8, prefix="kbtpp", lease_ttl_ms=2000)
    q.ensure_groups()
    return q


def test_a_busy_consumer_hands_partitions_to_an_idle_one(redis_queue: Queue) -> None:
    """Residents whose partitions all sit on one consumer: some of them move to the other one."""
    queue = redis_queue
    a = Consumer(queue, lambda d: None, block_ms=50, threads=2)
    b = Consumer(queue, lambda d: None, block_ms=50, threads=2)
    a.rebalance()
    b.rebalance()
    a.rebalance()  # a shrinks to 4 of 8
    b.rebalance()
    assert len(a.owned) == 4 and len(b.owned) == 4
    busy = sorted(a.owned)
    users = [next(f"U{i}" for i in range(1, 10_000) if queue.partition_of(f"U{i}") == p) for p in busy]
    handled_by: dict[str, list[str]] = {"a": [], "b": []}
    seen: dict[str, list[int]] = {u: [] for u in users}
    lock = threading.Lock()

    def handler_for(name: str):
        def handle(d: Delivery) -> None:
            time.sleep(0.002)
            with lock:
                handled_by[name].append(d.payload["user"])
                seen[d.payload["user"]].append(d.payload["seq"])
        return handle

    a.handler, b.handler = handler_for("a"), handler_for("b")
    stop = threading.Event()
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in (a, b)]
    for t in threads:
        t.start()
    seq = 0
    deadline = time.time() + 12
    while time.time() < deadline and not handled_by["b"][-50:]:
        queue.enqueue([_item(u, seq) for u in users])  # ~4 users x 100 events/s, all on a at first
        seq += 1
        time.sleep(0.01)
    for _ in range(100):  # a little more, now that the load is shared
        queue.enqueue([_item(u, seq) for u in users])
        seq += 1
        time.sleep(0.01)
    deadline = time.time() + 10
    while time.time() < deadline and sum(len(v) for v in seen.values()) < seq * len(users):
        time.sleep(0.05)
    b_owned = set(b.owned)  # before stopping: a stopped consumer releases everything
    stop.set()
    for t in threads:
        t.join(10)
    assert len(handled_by["b"]) >= 50, "no busy partition moved to the idle consumer"
    assert b_owned & set(busy), "the idle consumer owns none of the busy partitions"
    for u in users:  # moving partitions kept every user's events, once and in order
        assert seen[u] == list(range(seq)), u
