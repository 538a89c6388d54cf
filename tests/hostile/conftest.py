"""The hostile-input stack: web app + worker on real Redis (the session's own db) and PostgreSQL, LINE emulator.

Module-scoped so hypothesis can drive many examples through one running stack; every test ends by
checking the stack still answers a normal signed message and sent nothing LINE would reject.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile_stack import SECRET, TOKEN, HostileStack
from stack_support import flushed_redis_db, running_stack

from integrations.line.webhook_sender import WebhookSender


@pytest.fixture(scope="module")
def hostile_redis_url(redis_base_url: str, redis_test_db: int) -> Iterator[str]:
    """The session's own Redis database (claimed by tests/conftest.py), flushed around the module."""
    with flushed_redis_db(redis_base_url, redis_test_db) as url:
        yield url


@pytest.fixture(scope="module")
def hstack(hostile_redis_url: str, pg_database: str, embedded_nlu) -> Iterator[HostileStack]:
    with running_stack(hostile_redis_url, pg_database, secret=SECRET, token=TOKEN, nlu=embedded_nlu) as rs:
        yield HostileStack(
            app=rs.app, client=rs.app.test_client(), host="127.0.0.1", port=rs.port, callback_url=rs.callback_url,
            emulator=rs.emulator, services=rs.services, runtime=rs.runtime,
            sender=WebhookSender(rs.callback_url, SECRET, rs.emulator.emulator), redis=rs.services.redis,
        )


def pytest_terminal_summary(terminalreporter) -> None:
    from hostile_tally import TRIED, report_lines

    if TRIED:
        terminalreporter.section("hostile inputs tried")
        for line in report_lines():
            terminalreporter.write_line(line)
