"""Dialog-script versions in SQL, so every worker can finish a form on the version it started."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.db import Database
from bot.storage.models import ScriptSnapshot


class SqlSnapshotStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: set[str] = set()

    def put(self, content_hash: str, text: str) -> None:
        if content_hash in self._known:
            return
        insert = postgresql.insert if self.db.engine.dialect.name == "postgresql" else sqlite.insert
        stmt = insert(ScriptSnapshot).values(
            content_hash=content_hash, script_id=_script_id(text), version="", text=text
        ).on_conflict_do_nothing(index_elements=["content_hash"])
        with self.db.session() as s:
            s.execute(stmt)
        self._known.add(content_hash)

    def get(self, content_hash: str) -> str | None:
        with self.db.session() as s:
            return s.scalar(select(ScriptSnapshot.text).where(ScriptSnapshot.content_hash == content_hash))


def _script_id(text: str) -> str:
    # The bundle is YAML/JSON text; its id is informative only, the hash is the key.
    for line in text.splitlines():
        stripped = line.strip().strip('"{,')
        if stripped.startswith("id:"):
            return stripped[3:].strip().strip("'\"")[:128]
    return hashlib.sha256(text.encode()).hexdigest()[:16]
