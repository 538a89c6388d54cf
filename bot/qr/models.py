"""SQL tables of QR posters: the facilities where posters hang and the start codes they carry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.base import Base
from bot.storage.models import utcnow


class Facility(Base):
    """A place where posters hang (ward office, library, ...); the code appears in the numbers."""

    __tablename__ = "facilities"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "ward-kawasaki"
    name: Mapped[str] = mapped_column(String(200))
    ward: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # e.g. "川崎区"
    kind: Mapped[str] = mapped_column(String(32), default="other")  # ward_office | library | other ...
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StartCode(Base):
    """A short code (e.g. "QR-7K2M") pre-filled by a poster's QR; one per procedure and facility,
    so a reprinted poster carries the same code and old prints keep working."""

    __tablename__ = "qr_codes"
    __table_args__ = (UniqueConstraint("procedure_id", "facility_code", name="uq_qr_codes_procedure_facility"),)

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    procedure_id: Mapped[str] = mapped_column(String(128), index=True)
    facility_code: Mapped[str] = mapped_column(ForeignKey("facilities.code"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
