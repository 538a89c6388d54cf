"""Parse queued LINE webhook events with line-bot-sdk's models into `Incoming`."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from linebot.v3.webhooks import (
    AudioMessageContent,
    Event,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    UserSource,
    VideoMessageContent,
)

from bot.conversation.incoming import Incoming, IncomingKind, Location

log = logging.getLogger(__name__)
_INT64 = 2**63  # webhook.yml: timestamp is an int64 of milliseconds


@dataclass(frozen=True, slots=True)
class ParsedEvent:
    event_id: str
    event_type: str
    user_id: str | None
    reply_token: str | None
    is_redelivery: bool
    timestamp_ms: int
    incoming: Incoming | None  # None: nothing to answer (unhandled type, group chat, unparseable)
    note: str = ""


def _message_incoming(event: MessageEvent, user_id: str, event_id: str, ts: int) -> Incoming:
    msg = event.message
    common = {"user_id": user_id, "event_id": event_id, "timestamp_ms": ts}
    if isinstance(msg, TextMessageContent):
        return Incoming(kind="text", text=msg.text, message_id=msg.id, **common)
    if isinstance(msg, LocationMessageContent):
        loc = Location(msg.latitude, msg.longitude, msg.address, msg.title)
        return Incoming(kind="location", location=loc, message_id=msg.id, **common)
    kinds: list[tuple[type, IncomingKind]] = [
        (ImageMessageContent, "image"),
        (StickerMessageContent, "sticker"),
        (VideoMessageContent, "video"),
        (AudioMessageContent, "audio"),
        (FileMessageContent, "file"),
    ]
    for cls, kind in kinds:
        if isinstance(msg, cls):
            return Incoming(kind=kind, message_id=getattr(msg, "id", None), **common)
    return Incoming(kind="other", message_id=getattr(msg, "id", None), **common)


def parse_event(raw: dict, redacted: list[str] | tuple[str, ...] = ()) -> ParsedEvent:
    """Never raises: a malformed or unknown event becomes a ParsedEvent without `incoming`."""
    raw = raw if isinstance(raw, dict) else {}
    event_id = str(raw.get("webhookEventId") or "")
    event_type = str(raw.get("type") or "unknown")
    delivery = raw.get("deliveryContext") if isinstance(raw.get("deliveryContext"), dict) else {}
    redelivery = bool(delivery.get("isRedelivery", False))
    ts = raw.get("timestamp")
    # Outside int64 (or a bool) it is no time at all; a huge int made `ts / 1000` raise OverflowError
    # in the processor, so the event went to the dead-letter stream unanswered (tests/hostile).
    ts = ts if isinstance(ts, int) and not isinstance(ts, bool) and -_INT64 <= ts < _INT64 else 0
    try:
        event = Event.from_dict(raw)
    except Exception as exc:  # pydantic validation errors, unknown discriminators
        return ParsedEvent(event_id, event_type, None, None, redelivery, ts, None, f"unparseable: {type(exc).__name__}")
    source = getattr(event, "source", None)
    user_id = source.user_id if isinstance(source, UserSource) else None
    reply_token = getattr(event, "reply_token", None)
    if user_id is None:
        # Group and room chats: this account serves one-to-one chats only.
        return ParsedEvent(event_id, event_type, None, reply_token, redelivery, ts, None, "not a user chat")
    if raw.get("mode") == "standby":
        # A module channel holds the chat; LINE: in standby the bot "shouldn't send any messages".
        return ParsedEvent(event_id, event_type, user_id, reply_token, redelivery, ts, None, "standby mode")
    common = {"user_id": user_id, "event_id": event_id, "timestamp_ms": ts}
    incoming: Incoming | None
    if isinstance(event, MessageEvent):
        incoming = _message_incoming(event, user_id, event_id, ts)
        if redacted and incoming.kind == "text":
            incoming = replace(incoming, redacted=tuple(str(r) for r in redacted))
    elif isinstance(event, PostbackEvent):
        params = {k: str(v) for k, v in (event.postback.params or {}).items() if v is not None}
        incoming = Incoming(kind="postback", postback_data=event.postback.data, postback_params=params, **common)
    elif isinstance(event, FollowEvent):
        incoming = Incoming(kind="follow", **common)
    elif isinstance(event, UnfollowEvent):
        incoming = Incoming(kind="unfollow", **common)
    else:
        incoming = None
    return ParsedEvent(event_id, event_type, user_id, reply_token, redelivery, ts, incoming)
