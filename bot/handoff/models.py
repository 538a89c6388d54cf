"""SQL table of clicks on tracked hand-off links (`/go/<token>`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base
from bot.storage.models import utcnow


class HandoffClick(Base):
    """One GET of a valid tracked link: who (pseudonym), what, from where, when. No message text."""

    __tablename__ = "handoff_clicks"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(32), index=True)  # the link issued (a card shown once)
    procedure_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="")
    user_hash: Mapped[str] = mapped_column(String(32), default="", index=True)
    source: Mapped[str] = mapped_column(String(16), default="chat")  # chat | qr | poster
    facility_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    clicked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
