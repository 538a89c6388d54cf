"""The NLU result shared by every NLU back end (embedded and Rasa)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class NluResult:
    text: str
    intent: IntentScore
    # Best first; includes `intent` as its first element.
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[dict, ...] = ()
    backend: str = "embedded"
    extra: dict = field(default_factory=dict)
