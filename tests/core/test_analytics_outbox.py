"""The analytics outbox: written with the turn commit, copied to SQL once, never lost."""

from __future__ import annotations

import threading
import time
import uuid

import fakeredis
import pytest
import redis
from sqlalchemy import func, select

from bot.analytics.outbox import AnalyticsFlusher, encode, stream_key
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import AnalyticsEvent
from bot.turn_store import TurnStore


@pytest.fixture(params=["redis+postgresql", "in-process+sqlite"])
def parts(request, redis_url, pg_database, tmp_path):
    prefix = f"kbto{uuid.uuid4().hex[:6]}"
    if request.param == "redis+postgresql":
        client = redis.Redis.from_url(redis_url)
        db = Database(pg_database)
        in_process = False
    else:
        client = fakeredis.FakeRedis(server=fakeredis.FakeServer())
        url = f"sqlite:///{tmp_path}/a.db"
        upgrade(url)
        db = Database(url)
        in_process = True
    yield client, db, prefix, in_process
    db.dispose()


def _count(db: Database, event_id: str) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(AnalyticsEvent).where(AnalyticsEvent.event_id == event_id))


def _commit(store: TurnStore, event_id: str, names: list[str]) -> None:
    store.commit(event_id=event_id, user_id="U" + "1" * 32, session={"k": 1}, formsave=None, messages=[],
                 analytics=[encode(n, "sodaigomi", {"slot": "items"}, user_hash="abc", event_id=event_id,
                                   at_ms=1_700_000_000_000) for n in names])


def test_turn_commit_puts_analytics_in_the_outbox_and_the_flush_copies_them_once(parts) -> None:
    client, db, prefix, in_process = parts
    store = TurnStore(client, prefix=prefix, session_ttl_s=60, form_resume_ttl_s=60)
    event_id = f"E{uuid.uuid4().hex}"
    _commit(store, event_id, ["form_started", "question_answered"])
    assert client.xlen(stream_key(prefix)) == 2
    flusher = AnalyticsFlusher(client, db, prefix=prefix, in_process=in_process, block_ms=10)
    flusher.ensure_group()
    assert flusher.flush_once() == 2
    assert _count(db, event_id) == 2
    assert client.xlen(stream_key(prefix)) == 0  # acknowledged and deleted
    with db.session() as s:
        row = s.execute(select(AnalyticsEvent).where(AnalyticsEvent.event_id == event_id,
                                                     AnalyticsEvent.name == "form_started")).scalar_one()
    assert row.procedure_id == "sodaigomi" and row.user_hash == "abc" and row.props == {"slot": "items"}
    assert row.created_at.year == 2023  # the turn's time, not the flush's


def test_a_flusher_that_died_after_inserting_is_taken_over_without_doubling(parts, monkeypatch) -> None:
    client, db, prefix, in_process = parts
    store = TurnStore(client, prefix=prefix, session_ttl_s=60, form_resume_ttl_s=60)
    event_id = f"E{uuid.uuid4().hex}"
    _commit(store, event_id, ["a", "b", "c"])
    dying = AnalyticsFlusher(client, db, prefix=prefix, in_process=in_process, block_ms=10)
    dying.ensure_group()

    class Crash(Exception):
        pass

    def crash_before_ack(*_a, **_k):
        raise Crash

    # The rows are committed in SQL, then the process dies before XACK.
    monkeypatch.setattr(client, "pipeline", crash_before_ack)
    with pytest.raises(Crash):
        dying.flush_once()
    monkeypatch.undo()
    assert _count(db, event_id) == 3
    heir = AnalyticsFlusher(client, db, prefix=prefix, in_process=in_process, block_ms=10, claim_idle_ms=0)
    assert heir.flush_once() == 3  # claimed the dead one's pending entries
    assert _count(db, event_id) == 3  # unique outbox_id: nothing inserted twice
    assert client.xlen(stream_key(prefix)) == 0


def test_analytics_wait_in_redis_while_sql_is_down(parts) -> None:
    client, db, prefix, in_process = parts
    store = TurnStore(client, prefix=prefix, session_ttl_s=60, form_resume_ttl_s=60)
    event_id = f"E{uuid.uuid4().hex}"
    down = Database("postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=1")
    flusher = AnalyticsFlusher(client, down, prefix=prefix, in_process=in_process, block_ms=10)
    flusher.ensure_group()
    stop = threading.Event()
    thread = flusher.start(stop)
    _commit(store, event_id, ["message_received"])
    time.sleep(1.0)
    assert client.xlen(stream_key(prefix)) == 1  # still there, pending
    stop.set()
    thread.join(15)
    down.dispose()
    # The database is back: a flusher (a restarted worker) copies it.
    heir = AnalyticsFlusher(client, db, prefix=prefix, in_process=in_process, block_ms=10, claim_idle_ms=0)
    heir.flush_once()
    assert _count(db, event_id) == 1
