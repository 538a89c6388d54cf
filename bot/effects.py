"""Side effects a turn asks for, applied by the worker after the pure core ran."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.logging_setup import user_hash
from bot.queue import TransientError
from bot.storage.db import Database
from bot.storage.models import AnalyticsEvent

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analytics:
    name: str
    procedure_id: str | None = None
    props: dict = field(default_factory=dict)


class EffectRunner:
    """Applies effects; returns extra messages some effects produce (e.g. a receipt)."""

    def __init__(self, db: Database, *, salt: str = "") -> None:
        self.db = db
        self.salt = salt
        self.handlers: dict[type, Any] = {}

    def register(self, effect_type: type, handler) -> None:
        self.handlers[effect_type] = handler

    def run(self, effects: list[Any], *, user_id: str, event_id: str) -> list[dict]:
        extra: list[dict] = []
        analytics = [e for e in effects if isinstance(e, Analytics)]
        try:
            for effect in effects:
                handler = self.handlers.get(type(effect))
                if handler is not None:
                    extra += handler(effect, user_id=user_id, event_id=event_id) or []
            if analytics:
                self._record(analytics, user_id=user_id, event_id=event_id)
        except (OperationalError, InterfaceError) as exc:
            raise TransientError(f"database unavailable: {type(exc).__name__}") from exc
        return extra

    def _record(self, events: list[Analytics], *, user_id: str, event_id: str) -> None:
        uh = user_hash(user_id, self.salt)
        with self.db.session() as s:
            if self.db.engine.dialect.name == "postgresql":
                # Counters, not applications: do not wait for the WAL flush (~3 ms a turn). A database
                # crash may lose the last moments of counts; submissions keep full durability.
                s.execute(text("SET LOCAL synchronous_commit TO OFF"))
            s.add_all(
                AnalyticsEvent(name=e.name, user_hash=uh, procedure_id=e.procedure_id, event_id=event_id, props=e.props)
                for e in events
            )
