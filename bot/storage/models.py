"""SQL models owned by the core. Each capability keeps its models next to its code;
this module imports them all so Alembic sees one metadata."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


def utcnow() -> datetime:
    return datetime.now(UTC)


class AnalyticsEvent(Base):
    """One step that matters to the city's numbers. No message text, only a user pseudonym."""

    __tablename__ = "analytics_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    user_hash: Mapped[str] = mapped_column(String(32), default="")
    procedure_id: Mapped[str | None] = mapped_column(String(128), index=True, nullable=True)
    event_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    props: Mapped[dict] = mapped_column(JSON, default=dict)
    # The Redis outbox entry it came from: a flush retried after a crash inserts nothing twice.
    outbox_id: Mapped[str | None] = mapped_column(String(40), nullable=True, unique=True)


class ScriptSnapshot(Base):
    """The exact text of every dialog-script version a resident started, by content hash."""

    __tablename__ = "script_snapshots"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    script_id: Mapped[str] = mapped_column(String(128), index=True)
    version: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def all_models() -> None:
    """Import every module that defines models (for Alembic and create_all)."""
    import bot.catalog.models
    import bot.forms.versions
    import bot.handoff.models
    import bot.qr.models
    import bot.staff.models
    import bot.submissions.models  # noqa: F401
