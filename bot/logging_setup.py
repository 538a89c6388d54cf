"""Structured (JSON lines) logging.

Privacy rule: message text never goes to INFO or above. Log records carry ids
(event id, user hash) through `extra=`, not free text about the resident.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time

_STD_ATTRS = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)


def setup_logging(level: str | None = None, stream=None, *, keep_existing: bool = False) -> None:
    level = level or os.environ.get("LOG_LEVEL", "INFO")
    root = logging.getLogger()
    if keep_existing and any(getattr(h, "_kb", False) for h in root.handlers):
        return
    for handler in list(root.handlers):
        if getattr(handler, "_kb", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._kb = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # urllib3 logs full URLs at DEBUG only; keep library chatter down.
    logging.getLogger("urllib3").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def user_hash(user_id: str, salt: str = "") -> str:
    """A short, stable pseudonym for a LINE user id (for logs and analytics)."""
    return hashlib.sha256((salt + user_id).encode()).hexdigest()[:16]


def now_ms() -> int:
    return int(time.time() * 1000)
