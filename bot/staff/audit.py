"""The audit log: one row per change made in the console (or a login event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff.models import AuditEntry
from bot.storage.db import Database
from bot.storage.models import utcnow


def record(session: Session, actor: str, action: str, target: str, before: str = "", after: str = "",
           **detail: Any) -> None:
    """Add an entry inside the caller's transaction, so the change and its record commit together."""
    session.add(AuditEntry(at=utcnow(), actor=actor[:64], action=action[:64], target=target[:200],
                           before=before[:2000], after=after[:2000], detail=detail))


def recent(db: Database, *, limit: int = 200, action_prefix: str = "") -> list[AuditEntry]:
    with db.session() as s:
        q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if action_prefix:
            q = q.where(AuditEntry.action.startswith(action_prefix))
        return list(s.scalars(q))
