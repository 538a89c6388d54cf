"""Side effects a turn asks for, applied by the worker after the pure core ran."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import InterfaceError, OperationalError

from bot.queue import TransientError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Analytics:
    name: str
    procedure_id: str | None = None
    props: dict = field(default_factory=dict)


class EffectRunner:
    """Applies effects; returns extra messages some effects produce (e.g. a receipt)."""

    def __init__(self, *, salt: str = "") -> None:
        self.salt = salt  # for the pseudonymous user hash of analytics rows
        self.handlers: dict[type, Any] = {}

    def register(self, effect_type: type, handler) -> None:
        self.handlers[effect_type] = handler

    def run(self, effects: list[Any], *, user_id: str, event_id: str) -> list[dict]:
        """Apply the effects that have a handler. ``Analytics`` have none: the turn commit puts
        them in the Redis outbox and bot/analytics/outbox.py copies them to SQL in batches."""
        extra: list[dict] = []
        try:
            for effect in effects:
                handler = self.handlers.get(type(effect))
                if handler is not None:
                    extra += handler(effect, user_id=user_id, event_id=event_id) or []
        except (OperationalError, InterfaceError) as exc:
            raise TransientError(f"database unavailable: {type(exc).__name__}") from exc
        return extra
