"""Settings read from the environment (the contract in ARCHITECTURE.md).

Unset variables mean the embedded defaults: SQLite under var/, an in-process
Redis stand-in, the embedded NLU and a local LINE emulator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

# Development credentials used only on embedded defaults (the emulator accepts them).
DEV_CHANNEL_SECRET = "dev-channel-secret-kawasaki"
DEV_CHANNEL_ACCESS_TOKEN = "dev-channel-access-token-kawasaki"
DEV_BOT_BASIC_ID = "@kawasaki-dev"

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return float(raw) if raw else default


def normalize_database_url(url: str) -> str:
    """Accept plain `postgres://` / `postgresql://` URLs as hosting platforms give them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    channel_secret: str
    channel_access_token: str
    line_api_base_url: str
    line_data_api_base_url: str
    bot_basic_id: str
    public_base_url: str
    redis_url: str | None
    database_url: str
    rasa_url: str | None
    port: int
    var_dir: Path
    # Queue / delivery tuning (see docs/reliability.md).
    partitions: int = 64
    lease_ttl_ms: int = 10_000
    dedup_ttl_s: int = 3 * 24 * 3600
    session_ttl_s: int = 30 * 60
    form_resume_ttl_s: int = 24 * 3600
    reply_token_window_s: float = 50.0
    max_body_bytes: int = 1024 * 1024
    max_text_chars: int = 1000
    loading_after_s: float = 0.8
    worker_concurrency: int = 4
    # A separate worker yields the CPU to the web process on a shared machine: LINE waits for the
    # webhook's 200, while queued turns can wait a moment (0 = do not change the priority).
    worker_nice: int = 19
    # True when LINE credentials were not given: dev values and the emulator are used.
    dev_line: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def embedded_redis(self) -> bool:
        return not self.redis_url

    @property
    def sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    env = os.environ
    port = _int("PORT", 8000)
    var_dir = Path(env.get("KB_VAR_DIR", str(PROJECT_ROOT / "var")))
    secret = env.get("LINE_CHANNEL_SECRET")
    token = env.get("LINE_CHANNEL_ACCESS_TOKEN")
    dev_line = not (secret and token)
    db_url = env.get("DATABASE_URL") or f"sqlite:///{var_dir / 'kawasaki.db'}"
    return Settings(
        channel_secret=secret or DEV_CHANNEL_SECRET,
        channel_access_token=token or DEV_CHANNEL_ACCESS_TOKEN,
        line_api_base_url=env.get("LINE_API_BASE_URL", "https://api.line.me").rstrip("/"),
        line_data_api_base_url=env.get("LINE_DATA_API_BASE_URL", "https://api-data.line.me").rstrip("/"),
        bot_basic_id=env.get("LINE_BOT_BASIC_ID", DEV_BOT_BASIC_ID),
        public_base_url=env.get("PUBLIC_BASE_URL", f"http://localhost:{port}").rstrip("/"),
        redis_url=env.get("REDIS_URL") or None,
        database_url=normalize_database_url(db_url),
        rasa_url=(env.get("RASA_URL") or None),
        port=port,
        var_dir=var_dir,
        partitions=_int("KB_QUEUE_PARTITIONS", 64),
        lease_ttl_ms=_int("KB_LEASE_TTL_MS", 10_000),
        dedup_ttl_s=_int("KB_DEDUP_TTL_S", 3 * 24 * 3600),
        session_ttl_s=_int("KB_SESSION_TTL_S", 30 * 60),
        form_resume_ttl_s=_int("KB_FORM_RESUME_TTL_S", 24 * 3600),
        reply_token_window_s=_float("KB_REPLY_TOKEN_WINDOW_S", 50.0),
        max_body_bytes=_int("KB_MAX_BODY_BYTES", 1024 * 1024),
        loading_after_s=_float("KB_LOADING_AFTER_S", 0.8),
        worker_concurrency=_int("KB_WORKER_CONCURRENCY", 4),
        worker_nice=_int("KB_WORKER_NICE", 19),
        dev_line=dev_line,
    )
