"""Apply Alembic migrations programmatically (`kawasaki-bot db upgrade`, embedded start)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    if url.startswith("postgresql"):
        # Serialize concurrent upgrades (several processes starting at once).
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(741305)")
            cfg = alembic_config(url)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        engine.dispose()
    else:
        path = url.split("///", 1)[-1] if url.startswith("sqlite") else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)  # a fresh checkout has no var/ yet
        command.upgrade(alembic_config(url), revision)
    log.info("database migrated", extra={"revision": revision})


def revision(url: str, message: str) -> None:
    command.revision(alembic_config(url), message=message, autogenerate=True)
