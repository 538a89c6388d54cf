"""Crash points for reliability tests: die like `kill -9` at the worst moment, once.

Set `KB_CRASHPOINT=<name>` in a worker's environment; the first time the code passes that point the
process exits immediately (no cleanup, no ack). A marker file under KB_VAR_DIR makes the restarted
worker pass through, so the test can check what a re-run does. Unset in production: a no-op.
"""

from __future__ import annotations

import os
from pathlib import Path


def crashpoint(name: str) -> None:
    if os.environ.get("KB_CRASHPOINT") != name:
        return
    marker = Path(os.environ.get("KB_VAR_DIR", "var")) / f"crashpoint-{name}.done"
    if marker.exists():
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("crashed\n")
    os._exit(137)
