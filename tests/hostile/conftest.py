"""The hostile-input stack: web app + worker on real Redis (the session's own db) and PostgreSQL, LINE emulator.

Module-scoped so hypothesis can drive many examples through one running stack; every test ends by
checking the stack still answers a normal signed message and sent nothing LINE would reject.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from hostile_stack import SECRET, TOKEN, HostileStack
from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import load_settings
from bot.services import Services
from bot.worker import WorkerRuntime
from integrations.line.emulator import run_emulator_in_thread
from integrations.line.webhook_sender import WebhookSender


@pytest.fixture(scope="session")
def hostile_nlu():
    from bot.nlu.embedded import EmbeddedNlu

    return EmbeddedNlu.load_or_train()


@pytest.fixture(scope="module")
def hostile_redis_url(redis_base_url: str, redis_test_db: int) -> Iterator[str]:
    """The session's own Redis database (claimed by tests/conftest.py), flushed around the module."""
    base = redis_base_url.rsplit("/", 1)[0] if redis_base_url.count("/") > 2 else redis_base_url
    url = f"{base}/{redis_test_db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def hstack(hostile_redis_url: str, pg_database: str, hostile_nlu) -> Iterator[HostileStack]:
    emulator = run_emulator_in_thread(channel_access_token=TOKEN)
    settings = replace(
        load_settings(),
        channel_secret=SECRET,
        channel_access_token=TOKEN,
        line_api_base_url=emulator.url,
        line_data_api_base_url=emulator.url,
        redis_url=hostile_redis_url,
        database_url=pg_database,
        partitions=8,
        lease_ttl_ms=2000,
        dev_line=False,
    )
    services = Services(settings)
    services.__dict__["nlu"] = hostile_nlu  # pre-fill the cached property: no second training
    app = create_app(settings, services)
    runtime = WorkerRuntime(services, concurrency=2)
    runtime.start()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    callback = f"http://127.0.0.1:{server.server_port}/callback"
    stack = HostileStack(
        app=app, client=app.test_client(), host="127.0.0.1", port=server.server_port, callback_url=callback,
        emulator=emulator, services=services, runtime=runtime,
        sender=WebhookSender(callback, SECRET, emulator.emulator), redis=services.redis,
    )
    try:
        yield stack
    finally:
        server.shutdown()
        server.server_close()
        runtime.stop()
        services.close()
        violations = emulator.emulator.violations
        emulator.stop()
    assert violations == [], f"the bot sent requests LINE would reject: {violations}"


def pytest_terminal_summary(terminalreporter) -> None:
    from hostile_tally import TRIED, report_lines

    if TRIED:
        terminalreporter.section("hostile inputs tried")
        for line in report_lines():
            terminalreporter.write_line(line)
