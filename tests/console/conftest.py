"""A real bot stack for the console tests: werkzeug server in a thread, worker, LINE emulator,
real Redis and PostgreSQL (tests/conftest.py fixtures)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests
from console_helpers import PASSWORD, csrf_token
from sqlalchemy import delete
from stack_support import flushed_redis_db, running_stack

from bot.services import Services
from integrations.line.emulator import EmulatorHandle

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


def _clean(services: Services) -> None:
    """Published versions would override dialogs/ for later tests on this session's database."""
    from bot.forms.versions import ScriptVersion
    from bot.staff.models import AuditEntry, StaffUser

    with services.db.session() as s:
        s.execute(delete(ScriptVersion))
        s.execute(delete(StaffUser))
        s.execute(delete(AuditEntry))


def start_console_stack(redis_url: str, database_url: str, nlu, *, dev_line: bool = False) -> Iterator[ConsoleStack]:
    with running_stack(redis_url, database_url, secret=SECRET, token=TOKEN, nlu=nlu, before_start=_clean,
                       dev_line=dev_line) as rs:
        try:
            yield ConsoleStack(rs.base_url, rs.emulator, rs.services, rs.app)
        finally:
            _clean(rs.services)


@pytest.fixture
def console_redis_url(redis_base_url: str, redis_test_db: int) -> Iterator[str]:
    """The session's own Redis database (claimed by tests/conftest.py, so two test runs on one
    machine never share it), flushed before and after each test."""
    with flushed_redis_db(redis_base_url, redis_test_db) as url:
        yield url


@pytest.fixture
def console(console_redis_url: str, pg_database: str, embedded_nlu) -> Iterator[ConsoleStack]:
    yield from start_console_stack(console_redis_url, pg_database, embedded_nlu)


@pytest.fixture
def open_console(console_redis_url: str, pg_database: str, embedded_nlu) -> Iterator[ConsoleStack]:
    """Embedded-defaults behaviour: dev LINE credentials, so the simulator is open to everyone."""
    yield from start_console_stack(console_redis_url, pg_database, embedded_nlu, dev_line=True)
