"""Run the Rasa NLU server: what the Procfile's `nlu` line starts.

    rasa run --enable-api -m <model> --port ${RASA_PORT:-5005} -i ${RASA_HOST:-127.0.0.1}

No credentials or endpoints files are needed: the server only answers `/model/parse` (and /status,
/version). Telemetry is always off.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from integrations.rasa import paths, venv

DEFAULT_PORT = 5005
DEFAULT_HOST = "127.0.0.1"


def serve_command(model: Path, port: int | None = None, host: str | None = None) -> list[str]:
    port = port or int(os.environ.get("RASA_PORT") or DEFAULT_PORT)
    host = host or os.environ.get("RASA_HOST") or DEFAULT_HOST
    return [
        str(venv.rasa_executable()), "run", "--enable-api",
        "-m", str(model.resolve()),
        "--port", str(port),
        "-i", host,
    ]


def start(model: Path, port: int | None = None, host: str | None = None, **popen_kwargs) -> subprocess.Popen:
    """Start the server as a child process (tests, supervisors)."""
    return subprocess.Popen(
        serve_command(model, port, host), env=paths.rasa_env(), cwd=paths.var_dir(), **popen_kwargs
    )


def exec_server(model: Path, port: int | None = None, host: str | None = None) -> None:
    """Replace this process with the Rasa server, so the process manager's signals reach it."""
    cmd = serve_command(model, port, host)
    paths.var_dir().mkdir(parents=True, exist_ok=True)
    os.chdir(paths.var_dir())
    os.execve(cmd[0], cmd, paths.rasa_env())
