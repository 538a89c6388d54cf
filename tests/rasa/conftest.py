"""A real Rasa server for the tests: built, trained and started once per session.

Under CI (env CI set) everything is built if needed and any failure fails the tests. On a developer
machine without .rasa-venv/ the Rasa tests skip (building it takes ~3 minutes: `kawasaki-bot rasa setup`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from integrations.rasa import paths, serve, train, venv

IN_CI = bool(os.environ.get("CI"))
FIXTURE_DATA = Path(__file__).parent / "fixtures" / "nlu"
READY_TIMEOUT = 240.0  # loading TensorFlow + the model takes ~60 s on 2 busy cores


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def training_data_dir() -> Path:
    """The real nlu_data/nlu when it has data, else the small fixture."""
    try:
        train.training_files(paths.NLU_DIR)
    except train.RasaTrainError:
        return FIXTURE_DATA
    return paths.NLU_DIR


@pytest.fixture(scope="session")
def rasa_venv() -> Path:
    if not IN_CI and not venv.is_built():
        pytest.skip(f"Rasa venv {paths.venv_dir()} not built: run `kawasaki-bot rasa setup` (~3 min)")
    return venv.build(echo=False)  # a no-op when up to date; raises (fails) when it cannot be built


@pytest.fixture(scope="session")
def rasa_data_dir() -> Path:
    return training_data_dir()


@pytest.fixture(scope="session")
def rasa_model(rasa_venv: Path, rasa_data_dir: Path) -> Path:
    return train.train(paths.CONFIG, rasa_data_dir, echo=False).model


class RasaServer:
    """A `rasa run --enable-api` child process that can be stopped and restarted on the same port."""

    def __init__(self, model: Path, port: int, log_path: Path) -> None:
        self.model = model
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.startup_seconds = 0.0

    def start(self) -> None:
        started = time.monotonic()
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = serve.start(self.model, port=self.port, host="127.0.0.1", stdout=log,
                                stderr=subprocess.STDOUT)
        log.close()
        deadline = started + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"rasa run exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status = requests.get(self.url + "/status", timeout=1).json()
                if status.get("model_file"):
                    break
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        else:
            self.stop()
            raise RuntimeError(f"rasa run not ready after {READY_TIMEOUT:.0f}s:\n{self.log_tail()}")
        # The first parse builds TensorFlow's graph (~1 s); keep it out of the timed requests.
        requests.post(self.url + "/model/parse", json={"text": "こんにちは"}, timeout=60).raise_for_status()
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self) -> int:
        assert self.proc is not None
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


@pytest.fixture(scope="session")
def rasa_server(rasa_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaServer]:
    server = RasaServer(rasa_model, _free_port(), tmp_path_factory.mktemp("rasa") / "rasa.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
