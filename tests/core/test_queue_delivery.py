"""The queue's delivery properties on real Redis and on the in-process stand-in."""

from __future__ import annotations

import threading
import time

import fakeredis
import pytest
import redis

from bot.queue import Consumer, Delivery, Queue, QueueItem


def _items(user: str, n: int, start: int = 0) -> list[QueueItem]:
    return [QueueItem(f"{user}-{i}", user, {"user": user, "seq": i}) for i in range(start, start + n)]


@pytest.fixture(params=["redis", "in-process"])
def queue(request, redis_url) -> Queue:
    if request.param == "redis":
        client = redis.Redis.from_url(redis_url)
        q = Queue(client, partitions=8, prefix="kbtq", lease_ttl_ms=600)
    else:
        q = Queue(fakeredis.FakeRedis(server=fakeredis.FakeServer()), partitions=8, prefix="kbtq",
                  lease_ttl_ms=600, in_process=True)
    q.ensure_groups()
    yield q


def test_duplicates_are_enqueued_once(queue: Queue) -> None:
    assert queue.enqueue(_items("U1", 3)) == [True, True, True]
    assert queue.enqueue(_items("U1", 4)) == [False, False, False, True]
    assert queue.backlog() == 4


def test_one_users_events_stay_in_order_across_consumers(queue: Queue) -> None:
    seen: dict[str, list[int]] = {}
    lock = threading.Lock()

    def handler(d: Delivery) -> None:
        time.sleep(0.0005)
        with lock:
            seen.setdefault(d.payload["user"], []).append(d.payload["seq"])

    stop = threading.Event()
    consumers = [Consumer(queue, handler, block_ms=50) for _ in range(3)]
    threads = [threading.Thread(target=c.run, args=(stop,)) for c in consumers]
    for t in threads:
        t.start()
    users = [f"U{i}" for i in range(6)]
    for chunk in range(5):
        for u in users:
            queue.enqueue(_items(u, 10, start=chunk * 10))
    deadline = time.time() + 20
    while time.time() < deadline and sum(len(v) for v in seen.values()) < 300:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(5)
    for u in users:
        assert seen[u] == list(range(50)), u
    assert queue.backlog() == 0


def test_a_dead_consumers_pending_events_are_taken_over_in_order(queue: Queue) -> None:
    queue.enqueue(_items("U9", 5))
    processed: list[int] = []

    class Crash(BaseException):
        """Stands in for kill -9: the consumer stops mid-event, nothing is acked."""

    def dying(d: Delivery) -> None:
        if d.payload["seq"] == 2:
            raise Crash
        processed.append(d.payload["seq"])

    victim = Consumer(queue, dying, block_ms=50)
    with pytest.raises(Crash):
        while True:
            victim.poll_once()
    assert processed == [0, 1]
    # The victim never releases its leases; a survivor waits for them to expire.
    survivor = Consumer(queue, lambda d: processed.append(d.payload["seq"]), block_ms=50)
    deadline = time.time() + 10
    while time.time() < deadline and len(processed) < 5:
        survivor.poll_once()
    assert processed == [0, 1, 2, 3, 4]
    assert queue.backlog() == 0


def test_a_poison_event_is_dead_lettered_and_the_partition_moves_on(queue: Queue) -> None:
    queue.enqueue(_items("U7", 3))
    done: list[int] = []

    def handler(d: Delivery) -> None:
        if d.payload["seq"] == 1:
            raise ValueError("cannot handle")
        done.append(d.payload["seq"])

    c = Consumer(queue, handler, block_ms=50)
    deadline = time.time() + 5
    while time.time() < deadline and len(done) < 2:
        c.poll_once()
    assert done == [0, 2]
    assert queue.stats()["dead_letters"] == 1


def test_partitions_are_shared_fairly(queue: Queue) -> None:
    a = Consumer(queue, lambda d: None, block_ms=10)
    b = Consumer(queue, lambda d: None, block_ms=10)
    a.rebalance()
    assert len(a.owned) == 8
    b.rebalance()  # b sees 2 consumers but a still holds everything
    a.rebalance()  # a shrinks to its share
    b.rebalance()
    assert len(a.owned) == 4 and len(b.owned) == 4
    assert not a.owned & b.owned
