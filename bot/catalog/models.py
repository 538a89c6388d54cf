"""SQL table of the procedure catalog (migrations are generated from this model)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base


def _now() -> datetime:
    return datetime.now(UTC)


class Procedure(Base):
    __tablename__ = "procedures"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    category: Mapped[str] = mapped_column(String(200), default="")
    audience: Mapped[list[str]] = mapped_column(JSON, default=list)
    channel: Mapped[str] = mapped_column(String(20))
    online_now: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    requirements: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    apply: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A string or {section, phone, phone_label, ward_based, note}.
    contact: Mapped[Any] = mapped_column(JSON, nullable=True)
    eta: Mapped[str | None] = mapped_column(String(300), nullable=True)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    variants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sources: Mapped[list[Any]] = mapped_column(JSON, default=list)
    unverified: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Keys of the catalog file not modelled above (source, notes, ...), kept for staff.
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    catalog_version: Mapped[str] = mapped_column(String(64), default="")
    origin: Mapped[str] = mapped_column(String(10), default="repo", index=True)  # "repo" | "import"
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, onupdate=_now)
