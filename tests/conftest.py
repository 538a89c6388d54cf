"""Shared fixtures: real Redis and PostgreSQL (fail, not skip, under CI), the LINE emulator."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import redis

IN_CI = bool(os.environ.get("CI"))
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def need_service(reason: str) -> None:
    """A missing service fails the test under CI and skips it on a developer machine."""
    if IN_CI:
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_base_url() -> str:
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        need_service(f"Redis at {url}: {exc}")
    return url


def _redis_server(url: str) -> str:
    return url.rsplit("/", 1)[0] if url.count("/") > 2 else url


@pytest.fixture(scope="session")
def redis_test_db(redis_base_url: str) -> Iterator[int]:
    """A Redis database number claimed by this test session alone (db 1-15, lock keys in db 0).

    Test runs in parallel on one machine (a developer's and a CI clone's) must not flush each other.
    """
    admin = redis.Redis.from_url(_redis_server(redis_base_url) + "/0")
    for n in range(1, 16):
        if admin.set(f"kbtest:dblock:{n}", os.getpid(), nx=True, ex=7200):
            break
    else:
        pytest.fail("no free Redis test database (1-15): stale kbtest:dblock:* keys in db 0?")
    yield n
    admin.delete(f"kbtest:dblock:{n}")
    admin.close()


@pytest.fixture
def redis_url(redis_base_url: str, redis_test_db: int) -> Iterator[str]:
    """This session's own Redis database, flushed before and after the test."""
    from stack_support import flushed_redis_db

    with flushed_redis_db(redis_base_url, redis_test_db) as url:
        yield url


@pytest.fixture(scope="session")
def embedded_nlu():
    """One trained embedded NLU for the whole session (training is the slow part of a stack)."""
    from bot.nlu.embedded import EmbeddedNlu

    return EmbeddedNlu.load_or_train()


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    from bot.config import normalize_database_url

    url = normalize_database_url(os.environ.get("DATABASE_URL") or DEFAULT_PG)
    if not url.startswith("postgresql"):
        need_service(f"DATABASE_URL is not PostgreSQL: {url}")
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(url, connect_args={"connect_timeout": 2})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        need_service(f"PostgreSQL at {url}: {type(exc).__name__}")
    return url


@pytest.fixture(scope="session")
def pg_database(pg_server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped after."""
    from sqlalchemy import create_engine, text

    from bot.storage.migrate import upgrade

    name = f"kbt_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = pg_server_url.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
