"""Applications filed through chat forms."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base
from bot.storage.models import utcnow

STATUSES = ("受付", "処理中", "完了", "差し戻し")


class Submission(Base):
    __tablename__ = "submissions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # = the form instance id
    # The unique form instance makes a redelivered or double-tapped 送信 a no-op (no check-then-insert).
    receipt_no: Mapped[str] = mapped_column(String(20), unique=True)
    procedure_id: Mapped[str] = mapped_column(String(128), index=True)
    script_id: Mapped[str] = mapped_column(String(128))
    script_version: Mapped[str] = mapped_column(String(64))
    script_hash: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(16), default="受付", index=True)
    user_id_enc: Mapped[str] = mapped_column(Text)  # LINE user id, encrypted (status notices)
    user_hash: Mapped[str] = mapped_column(String(32), index=True)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # non-personal answers
    personal_enc: Mapped[str] = mapped_column(Text, default="")  # personal answers, encrypted
    summary_enc: Mapped[str] = mapped_column(Text, default="")  # what the resident confirmed, encrypted
    notify: Mapped[dict] = mapped_column(JSON, default=dict)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
