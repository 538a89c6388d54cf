"""Where the running app gets its catalog from (SQL when configured, else the repository file)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.catalog.index import Catalog
from bot.catalog.loader import DEFAULT_CATALOG_FILE, load_catalog_file
from bot.catalog.models import Procedure
from bot.catalog.sync import load_records, sync_catalog

log = logging.getLogger(__name__)
_lock = threading.Lock()
_file_cache: dict[tuple[str, float], Catalog] = {}
_sql_cache: dict[int, tuple[tuple, Catalog]] = {}


def catalog_from_file(path: Path | str = DEFAULT_CATALOG_FILE) -> Catalog:
    """Catalog straight from a YAML file, cached until the file changes."""
    path = Path(path).resolve()
    key = (str(path), path.stat().st_mtime)
    with _lock:
        cat = _file_cache.get(key)
        if cat is None:
            data = load_catalog_file(path)
            cat = Catalog(data.procedures, version=data.version)
            _file_cache.clear()
            _file_cache[key] = cat
        return cat


def catalog_from_session(session: Session) -> Catalog:
    records = load_records(session)
    versions = sorted({r.catalog_version for r in records if r.origin == "repo"})
    return Catalog(records, version=versions[-1] if versions else "")


def _signature(session: Session) -> tuple:
    count, latest = session.execute(select(func.count(), func.max(Procedure.updated_at))).one()
    versions = session.scalars(select(Procedure.catalog_version).distinct()).all()
    return count, str(latest), tuple(sorted(versions))


def get_catalog(session_factory: Callable[[], Session] | None = None,
                path: Path | str = DEFAULT_CATALOG_FILE, *, sync: bool = True) -> Catalog:
    """The catalog the bot routes against.

    Without a session factory (no database configured) it is read from `path`. With one, it is
    read from SQL after bringing the `repo` rows up to the file (`sync_catalog`: idempotent, never
    downgrades a newer database), so a fresh database and a new release both just work. The
    search index is rebuilt only when the table changed since the last call.
    """
    if session_factory is None:
        return catalog_from_file(path)
    with session_factory() as session:
        if sync:
            try:
                result = sync_catalog(session, load_catalog_file(path))
                session.commit()
                if result.changed:
                    log.info("catalog synced from %s: +%d ~%d -%d", Path(path).name, len(result.inserted),
                             len(result.updated), len(result.deleted))
                elif result.skipped:
                    log.warning("catalog not synced: %s", result.skipped)
            except IntegrityError:  # another process synced the same rows at the same moment
                session.rollback()
        sig = _signature(session)
        with _lock:
            cached = _sql_cache.get(id(session_factory))
            if cached and cached[0] == sig:
                return cached[1]
        cat = catalog_from_session(session)
        with _lock:
            _sql_cache[id(session_factory)] = (sig, cat)
        return cat
