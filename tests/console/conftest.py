"""A real bot stack for the console tests: werkzeug server in a thread, worker, LINE emulator,
real Redis and PostgreSQL (tests/conftest.py fixtures)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace

import pytest
import requests
from console_helpers import PASSWORD, csrf_token
from sqlalchemy import delete
from werkzeug.serving import make_server

from bot.app import create_app
from bot.config import load_settings
from bot.services import Services
from bot.worker import WorkerRuntime
from integrations.line.emulator import EmulatorHandle, run_emulator_in_thread

SECRET = "console-test-channel-secret"
TOKEN = "console-test-channel-access-token"


@dataclass
class ConsoleStack:
    base_url: str
    emulator: EmulatorHandle
    services: Services
    app: object

    def user(self, name: str, role: str, password: str = PASSWORD) -> str:
        from bot.staff.accounts import create_user

        create_user(self.services.db, name, role, password, actor="test")
        return name

    def login(self, name: str, password: str = PASSWORD) -> requests.Session:
        """A requests session logged in through the real login form (CSRF token included)."""
        http = requests.Session()
        token = csrf_token(http.get(f"{self.base_url}/admin/login").text)
        r = http.post(f"{self.base_url}/admin/login", data={"name": name, "password": password, "csrf_token": token},
                      allow_redirects=False)
        assert r.status_code == 302, r.text[:500]
        return http


@pytest.fixture(scope="session")
def console_nlu():
    from bot.nlu.embedded import EmbeddedNlu

    return EmbeddedNlu.load_or_train()


def _clean(services: Services) -> None:
    """Published versions would override dialogs/ for later tests on this session's database."""
    from bot.forms.versions import ScriptVersion
    from bot.staff.models import AuditEntry, StaffUser

    with services.db.session() as s:
        s.execute(delete(ScriptVersion))
        s.execute(delete(StaffUser))
        s.execute(delete(AuditEntry))


def start_console_stack(redis_url: str, database_url: str, nlu, *, dev_line: bool = False) -> Iterator[ConsoleStack]:
    emulator = run_emulator_in_thread(channel_access_token=TOKEN)
    settings = replace(load_settings(), channel_secret=SECRET, channel_access_token=TOKEN,
                       line_api_base_url=emulator.url, line_data_api_base_url=emulator.url,
                       redis_url=redis_url, database_url=database_url, partitions=8, lease_ttl_ms=2000,
                       dev_line=dev_line)
    services = Services(settings)
    services.__dict__["nlu"] = nlu
    _clean(services)
    app = create_app(settings, services)
    runtime = WorkerRuntime(services, concurrency=2)
    runtime.start()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stack = ConsoleStack(f"http://127.0.0.1:{server.server_port}", emulator, services, app)
    try:
        yield stack
    finally:
        server.shutdown()
        runtime.stop()
        _clean(services)
        services.close()
        violations = emulator.emulator.violations
        emulator.stop()
    assert violations == [], f"the bot sent requests LINE would reject: {violations}"


@pytest.fixture
def console_redis_url(redis_base_url: str, redis_test_db: int) -> Iterator[str]:
    """The session's own Redis database (claimed by tests/conftest.py, so two test runs on one
    machine never share it), flushed before and after each test."""
    import redis

    base = redis_base_url.rsplit("/", 1)[0] if redis_base_url.count("/") > 2 else redis_base_url
    url = f"{base}/{redis_test_db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def console(console_redis_url: str, pg_database: str, console_nlu) -> Iterator[ConsoleStack]:
    yield from start_console_stack(console_redis_url, pg_database, console_nlu)


@pytest.fixture
def open_console(console_redis_url: str, pg_database: str, console_nlu) -> Iterator[ConsoleStack]:
    """Embedded-defaults behaviour: dev LINE credentials, so the simulator is open to everyone."""
    yield from start_console_stack(console_redis_url, pg_database, console_nlu, dev_line=True)
