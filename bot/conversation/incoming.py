"""What a resident sent, reduced to what the conversation core needs.

The worker builds an `Incoming` from a parsed LINE webhook event; the pure core
(router, dialog engine) only ever sees this, never LINE SDK objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

IncomingKind = Literal[
    "text",
    "postback",
    "location",
    "image",
    "sticker",
    "video",
    "audio",
    "file",
    "follow",
    "unfollow",
    "other",
]


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    address: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    kind: IncomingKind
    user_id: str
    event_id: str
    timestamp_ms: int
    text: str | None = None
    postback_data: str | None = None
    # LINE postback params, e.g. {"date": "2026-12-03"} from a datetime picker.
    postback_params: dict[str, str] = field(default_factory=dict)
    location: Location | None = None
    # LINE message id (for image/video/audio/file content download).
    message_id: str | None = None
    # Reference to content the shell already downloaded and stored (image slots).
    content_ref: str | None = None
    # Sensitive numbers removed from the text before it was queued ("mynumber", "card").
    redacted: tuple[str, ...] = ()
