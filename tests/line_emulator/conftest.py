from __future__ import annotations

from collections.abc import Iterator

import pytest
from line_fake_bot import SECRET, TOKEN, FakeBot, start_fake_bot

from integrations.line.emulator import EmulatorClient, EmulatorHandle, run_emulator_in_thread


@pytest.fixture
def emu() -> Iterator[EmulatorHandle]:
    handle = run_emulator_in_thread(channel_access_token=TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def client(emu: EmulatorHandle) -> EmulatorClient:
    return EmulatorClient(emu.url)


@pytest.fixture
def fake_bot(emu: EmulatorHandle) -> Iterator[tuple[FakeBot, str]]:
    bot, server, callback_url = start_fake_bot(SECRET, TOKEN, emu.url)
    yield bot, callback_url
    server.shutdown()
    server.server_close()
