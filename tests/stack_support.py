"""One in-process bot stack for the test suites that need the whole bot (integration, hostile, console).

The web app in a werkzeug server thread, a worker runtime, real Redis and PostgreSQL, and the LINE
emulator in a thread. Every stack ends by asserting the bot sent nothing LINE would reject.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

import redis
from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import load_settings
from bot.services import Services
from bot.worker import WorkerRuntime
from integrations.line.emulator import EmulatorHandle, run_emulator_in_thread


@dataclass
class RunningStack:
    base_url: str
    port: int
    emulator: EmulatorHandle
    services: Services
    runtime: WorkerRuntime
    app: object

    @property
    def callback_url(self) -> str:
        return f"{self.base_url}/callback"


@contextmanager
def running_stack(redis_url: str, database_url: str, *, secret: str, token: str, nlu=None,
                  reply_token_ttl: float = 60.0, before_start: Callable[[Services], None] | None = None,
                  **overrides) -> Iterator[RunningStack]:
    """Start the stack; ``overrides`` replace Settings fields (defaults: 8 partitions, 2 s leases)."""
    emulator = run_emulator_in_thread(channel_access_token=token, reply_token_ttl=reply_token_ttl)
    fields = {"partitions": 8, "lease_ttl_ms": 2000, "dev_line": False, **overrides}
    settings = replace(load_settings(), channel_secret=secret, channel_access_token=token,
                       line_api_base_url=emulator.url, line_data_api_base_url=emulator.url,
                       redis_url=redis_url, database_url=database_url, **fields)
    services = Services(settings)
    if nlu is not None:
        services.__dict__["nlu"] = nlu  # pre-fill the cached property: no second training
    if before_start is not None:
        before_start(services)
    app = create_app(settings, services)
    runtime = WorkerRuntime(services, concurrency=2)
    runtime.start()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stack = RunningStack(f"http://127.0.0.1:{server.server_port}", server.server_port, emulator, services,
                         runtime, app)
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


@contextmanager
def flushed_redis_db(redis_base_url: str, db: int) -> Iterator[str]:
    """The URL of Redis database ``db`` on the server of ``redis_base_url``, flushed before and after."""
    base = redis_base_url.rsplit("/", 1)[0] if redis_base_url.count("/") > 2 else redis_base_url
    url = f"{base}/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
