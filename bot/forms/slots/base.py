"""What every slot type implements, and the small value objects passed between engine and types."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar

from bot.conversation.incoming import Location

if TYPE_CHECKING:
    from bot.forms.script import Script

JST = timezone(timedelta(hours=9), "JST")


@dataclass(frozen=True)
class Answer:
    """One resident input aimed at the current question, already decoded by the engine."""

    kind: str  # "text" | "choice" | "date" | "location" | "image" | any other Incoming kind
    text: str | None = None
    choice: int | None = None  # index of a tapped choice button
    done: bool = False  # multi-choice "決定"
    params: dict[str, str] = field(default_factory=dict)  # LINE datetimepicker params
    location: Location | None = None
    content_ref: str | None = None
    message_id: str | None = None


@dataclass(frozen=True)
class Ctx:
    script: Script
    values: dict[str, Any]
    now: datetime
    scratch: Any = None  # per-question work in progress (multi-choice selection)

    @property
    def today(self) -> date:
        now = self.now if self.now.tzinfo else self.now.replace(tzinfo=JST)
        return now.astimezone(JST).date()


@dataclass(frozen=True)
class Ok:
    value: Any
    ack: str | None = None  # short confirmation shown before the next question


@dataclass(frozen=True)
class Invalid:
    reason: str  # machine code for analytics, e.g. "too_short"
    message: str  # Japanese: what was wrong
    example: str | None = None  # overrides the slot's example


@dataclass(frozen=True)
class Pending:
    """A multi-step answer in progress (e.g. multi-choice selection); nothing is stored yet."""

    scratch: Any
    message: str | None = None


Outcome = Ok | Invalid | Pending

# Abstract quick-reply actions a type asks for; the engine turns them into LINE actions.
#   {"kind": "choice", "label": str, "index": int}
#   {"kind": "value", "label": str, "value": str}       (parsed as if typed)
#   {"kind": "done", "label": str}                        (multi-choice finish)
#   {"kind": "datetimepicker", "label": str, "initial"/"min"/"max": "YYYY-MM-DD"}
#   {"kind": "location" | "camera" | "cameraRoll", "label": str}
QuickAction = dict[str, Any]
SpecProblem = tuple[str, str, str]  # (key inside the slot, what is wrong, how to fix)


class SlotType:
    name: ClassVar[str] = ""
    default_example: ClassVar[str] = ""
    # Incoming kinds this type can ever accept (anything else is rejected before parsing).
    accepts: ClassVar[frozenset[str]] = frozenset({"text"})
    # Free-text types accept almost anything, so an off-topic message there is just an answer.
    free_text: ClassVar[bool] = False
    # Extra slot keys this type understands (checked by the validator).
    options: ClassVar[frozenset[str]] = frozenset()

    def parse(self, slot: dict[str, Any], answer: Answer, ctx: Ctx) -> Outcome:
        raise NotImplementedError

    def display(self, slot: dict[str, Any], value: Any) -> str:
        return "" if value is None else str(value)

    def quick_actions(self, slot: dict[str, Any], ctx: Ctx) -> list[QuickAction]:
        return []

    def example(self, slot: dict[str, Any]) -> str:
        return str(slot.get("example") or self.default_example)

    def check(self, slot: dict[str, Any], script: Script) -> list[SpecProblem]:
        """Meaning checks on the slot definition beyond the JSON Schema."""
        return []

    def wrong_kind(self, kind: str) -> Invalid:
        what = {"sticker": "スタンプ", "image": "画像", "location": "位置情報", "video": "動画",
                "audio": "音声", "file": "ファイル"}.get(kind, "このメッセージ")
        return Invalid("wrong_kind", f"{what}ではお答えいただけない質問です。文字で入力してください。")
