"""Redis connection: the real server from REDIS_URL, or an in-process stand-in."""

from __future__ import annotations

import threading
from typing import Any

import redis

_fake_server: Any = None  # fakeredis.FakeServer, imported only when used (it and Lua cost memory)
_fake_lock = threading.Lock()


def connect(redis_url: str | None) -> tuple[redis.Redis, bool]:
    """Return (client, in_process). All in-process clients share one fake server."""
    global _fake_server
    if redis_url:
        client = redis.Redis.from_url(
            redis_url,
            socket_connect_timeout=2,
            socket_timeout=10,  # above the queue's 1 s XREADGROUP block
            health_check_interval=15,
            retry_on_timeout=False,
        )
        return client, False
    import fakeredis

    with _fake_lock:
        if _fake_server is None:
            _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_fake_server), True
