"""What the pure engine asks the shell to do; the shell performs these (SQL, analytics store)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class SubmitForm:
    """Store one application (exactly once per instance_id), then send completion_messages()."""

    instance_id: str
    procedure_id: str
    script_id: str
    script_version: str
    answers: dict[str, Any]  # slot id → JSON value, only slots that were asked and answered
    personal_fields: tuple[str, ...]  # slot ids in `answers` to encrypt at rest
    script_hash: str = ""
    notify: dict[str, Any] = field(default_factory=dict)  # the script's `submission.notify`
    summary: tuple[tuple[str, str], ...] = ()  # (label, display text) as the resident confirmed it

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Analytics:
    """form_started, question_answered, validation_failed, form_completed, form_cancelled."""

    name: str
    props: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Effect = SubmitForm | Analytics
