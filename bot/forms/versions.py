"""Dialog-script versions edited in the staff console: drafts and published versions, in SQL.

A published version overrides the repository file with the same script id; the newest published
row of a script is live. Rollback publishes an old text again as a new row, so history only grows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base
from bot.storage.db import Database
from bot.storage.models import utcnow


class ScriptVersion(Base):
    __tablename__ = "script_versions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    script_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # "draft" | "published"
    number: Mapped[int] = mapped_column(Integer, default=0)  # 1, 2, ... per script for published rows
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


@dataclass(frozen=True)
class Published:
    script_id: str
    number: int
    text: str
    row_id: int


class SqlScriptVersions:
    """What the registry needs (a cheap change marker, the live published texts, drafts by hash)
    plus what the console writes."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- read by every worker -------------------------------------------------------------------
    def marker(self) -> int:
        """Changes whenever something is published (max row id of published rows); one indexed query."""
        with self.db.session() as s:
            return int(s.scalar(select(func.max(ScriptVersion.id)).where(ScriptVersion.kind == "published")) or 0)

    def live(self) -> dict[str, Published]:
        """The newest published version of every script that has one."""
        newest = (select(ScriptVersion.script_id, func.max(ScriptVersion.id).label("mid"))
                  .where(ScriptVersion.kind == "published").group_by(ScriptVersion.script_id).subquery())
        with self.db.session() as s:
            rows = s.scalars(select(ScriptVersion).join(newest, ScriptVersion.id == newest.c.mid)).all()
        return {r.script_id: Published(r.script_id, r.number, r.text, r.id) for r in rows}

    def draft_text(self, content_hash: str) -> str | None:
        with self.db.session() as s:
            return s.scalar(select(ScriptVersion.text).where(ScriptVersion.content_hash == content_hash)
                            .order_by(ScriptVersion.id.desc()).limit(1))

    # -- written by the console -----------------------------------------------------------------
    def save(self, script_id: str, kind: str, text: str, content_hash: str, *, author: str, note: str = "") -> ScriptVersion:
        with self.db.session() as s:
            number = 0
            if kind == "published":
                last = s.scalar(select(func.max(ScriptVersion.number)).where(
                    ScriptVersion.script_id == script_id, ScriptVersion.kind == "published"))
                number = int(last or 0) + 1
            row = ScriptVersion(script_id=script_id, kind=kind, number=number, text=text,
                                content_hash=content_hash, author=author, note=note[:300], created_at=utcnow())
            s.add(row)
            s.flush()
            return row

    def history(self, script_id: str) -> list[ScriptVersion]:
        with self.db.session() as s:
            return list(s.scalars(select(ScriptVersion).where(
                ScriptVersion.script_id == script_id, ScriptVersion.kind == "published")
                .order_by(ScriptVersion.id.desc())))

    def get(self, row_id: int) -> ScriptVersion | None:
        with self.db.session() as s:
            return s.get(ScriptVersion, row_id)
