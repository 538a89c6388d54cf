"""Build, sign and send LINE webhook requests to the bot, as the LINE Platform does.

``EventFactory`` builds spec-conformant webhook events (every type in webhook.yml) with
ULID-style ``webhookEventId``s, millisecond timestamps and reply tokens issued by the emulator.
``WebhookSender`` wraps events in a CallbackRequest, validates it against webhook.yml, signs it
(``X-Line-Signature``) and POSTs it to the bot's callback URL.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import random
import secrets
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import requests

from integrations.line import spec

__all__ = [
    "REPLYABLE_EVENT_TYPES",
    "EventFactory",
    "TokenSource",
    "WebhookSender",
    "WebhookSpecViolation",
    "new_webhook_event_id",
    "sign",
]

# Event types that carry a reply token (webhook.yml: replyToken is defined on them).
REPLYABLE_EVENT_TYPES = frozenset(
    {"message", "follow", "join", "memberJoined", "postback", "videoPlayComplete", "beacon", "accountLink",
     "membership"}
)
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class TokenSource(Protocol):
    """What the factory needs from the emulator: ``LineEmulator`` and ``EmulatorClient`` both fit."""

    def issue_reply_token(self, user_id: str, webhook_event_id: str) -> str: ...

    def add_content(self, message_id: str, data: bytes, content_type: str = ...) -> None: ...


class WebhookSpecViolation(ValueError):
    """The webhook body this module built does not conform to webhook.yml."""

    def __init__(self, errors: list[spec.SpecError]):
        self.errors = errors
        super().__init__("; ".join(f"{e.pointer or '/'}: {e.message}" for e in errors))


def sign(body: bytes, channel_secret: str) -> str:
    """The ``X-Line-Signature`` value: base64 of HMAC-SHA256 of the body keyed by the channel secret."""
    digest = hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def new_webhook_event_id(now_ms: int | None = None) -> str:
    """A 26-character ULID (48-bit millisecond time + 80 random bits, Crockford base32)."""
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    value = (ms << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


def _message_id() -> str:
    return str(random.randrange(10**17, 10**18))


class EventFactory:
    """Builds webhook event objects; reply-able events get a reply token from ``token_source``."""

    def __init__(self, token_source: TokenSource | None = None, *, clock: Callable[[], float] = time.time):
        self.token_source = token_source
        self._clock = clock

    # ------------------------------------------------------------------ building blocks
    def _event(self, event_type: str, source: dict[str, Any] | None, **fields: Any) -> dict[str, Any]:
        now_ms = int(self._clock() * 1000)
        event: dict[str, Any] = {"type": event_type, "timestamp": now_ms, "mode": "active"}
        if source is not None:
            event["source"] = source
        event_id = new_webhook_event_id(now_ms)
        event["webhookEventId"] = event_id
        event["deliveryContext"] = {"isRedelivery": False}
        if event_type in REPLYABLE_EVENT_TYPES:
            chat_id = (source or {}).get("groupId") or (source or {}).get("roomId") or (source or {}).get("userId")
            event["replyToken"] = self._reply_token(chat_id or "", event_id)
        event.update(fields)
        return event

    def _reply_token(self, chat_id: str, event_id: str) -> str:
        if self.token_source is None:  # not replayable against an emulator, but well-formed
            return secrets.token_hex(16)
        return self.token_source.issue_reply_token(chat_id, event_id)

    @staticmethod
    def user(user_id: str) -> dict[str, Any]:
        return {"type": "user", "userId": user_id}

    @staticmethod
    def group(group_id: str, user_id: str | None = None) -> dict[str, Any]:
        source = {"type": "group", "groupId": group_id}
        if user_id:
            source["userId"] = user_id
        return source

    @staticmethod
    def room(room_id: str, user_id: str | None = None) -> dict[str, Any]:
        source = {"type": "room", "roomId": room_id}
        if user_id:
            source["userId"] = user_id
        return source

    def _message(self, user_id: str, content: dict[str, Any], source: dict[str, Any] | None) -> dict[str, Any]:
        content = {"id": content.pop("id", None) or _message_id(), **content}
        return self._event("message", source or self.user(user_id), message=content)

    # ------------------------------------------------------------------ message events
    def text(self, user_id: str, text: str, *, source: dict[str, Any] | None = None,
             quoted_message_id: str | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"type": "text", "text": text, "quoteToken": secrets.token_urlsafe(24)}
        if quoted_message_id:
            content["quotedMessageId"] = quoted_message_id
        return self._message(user_id, content, source)

    def image(self, user_id: str, *, message_id: str | None = None, image_set: dict[str, Any] | None = None,
              source: dict[str, Any] | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"type": "image", "id": message_id, "contentProvider": {"type": "line"},
                                   "quoteToken": secrets.token_urlsafe(24)}
        if image_set:
            content["imageSet"] = image_set
        return self._message(user_id, content, source)

    def video(self, user_id: str, *, message_id: str | None = None, duration: int = 5000,
              source: dict[str, Any] | None = None) -> dict[str, Any]:
        content = {"type": "video", "id": message_id, "duration": duration, "contentProvider": {"type": "line"},
                   "quoteToken": secrets.token_urlsafe(24)}
        return self._message(user_id, content, source)

    def audio(self, user_id: str, *, message_id: str | None = None, duration: int = 3000,
              source: dict[str, Any] | None = None) -> dict[str, Any]:
        content = {"type": "audio", "id": message_id, "duration": duration, "contentProvider": {"type": "line"}}
        return self._message(user_id, content, source)

    def file(self, user_id: str, file_name: str, file_size: int, *, message_id: str | None = None,
             source: dict[str, Any] | None = None) -> dict[str, Any]:
        content = {"type": "file", "id": message_id, "fileName": file_name, "fileSize": file_size}
        return self._message(user_id, content, source)

    def location(self, user_id: str, latitude: float, longitude: float, *, title: str | None = None,
                 address: str | None = None, source: dict[str, Any] | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"type": "location", "latitude": latitude, "longitude": longitude}
        if title is not None:
            content["title"] = title
        if address is not None:
            content["address"] = address
        return self._message(user_id, content, source)

    def sticker(self, user_id: str, package_id: str = "446", sticker_id: str = "1988", *,
                resource_type: str = "STATIC", keywords: list[str] | None = None,
                source: dict[str, Any] | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"type": "sticker", "packageId": package_id, "stickerId": sticker_id,
                                   "stickerResourceType": resource_type, "quoteToken": secrets.token_urlsafe(24)}
        if keywords:
            content["keywords"] = keywords
        return self._message(user_id, content, source)

    # ------------------------------------------------------------------ other events
    def follow(self, user_id: str, *, is_unblocked: bool = False) -> dict[str, Any]:
        return self._event("follow", self.user(user_id), follow={"isUnblocked": is_unblocked})

    def unfollow(self, user_id: str) -> dict[str, Any]:
        return self._event("unfollow", self.user(user_id))

    def join(self, group_id: str) -> dict[str, Any]:
        return self._event("join", self.group(group_id))

    def leave(self, group_id: str) -> dict[str, Any]:
        return self._event("leave", self.group(group_id))

    def member_joined(self, group_id: str, user_ids: Iterable[str]) -> dict[str, Any]:
        members = [self.user(u) for u in user_ids]
        return self._event("memberJoined", self.group(group_id), joined={"members": members})

    def member_left(self, group_id: str, user_ids: Iterable[str]) -> dict[str, Any]:
        members = [self.user(u) for u in user_ids]
        return self._event("memberLeft", self.group(group_id), left={"members": members})

    def postback(self, user_id: str, data: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """``params`` as LINE sends them: {"date": "2026-12-01"}, {"time": "10:00"},
        {"datetime": "2026-12-01T10:00"}, or rich-menu switch {"newRichMenuAliasId": ..., "status": ...}."""
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = dict(params)
        return self._event("postback", self.user(user_id), postback=postback)

    def video_play_complete(self, user_id: str, tracking_id: str) -> dict[str, Any]:
        return self._event("videoPlayComplete", self.user(user_id), videoPlayComplete={"trackingId": tracking_id})

    def beacon(self, user_id: str, hwid: str = "d41d8cd98f", beacon_type: str = "enter",
               dm: str | None = None) -> dict[str, Any]:
        beacon = {"hwid": hwid, "type": beacon_type}
        if dm is not None:
            beacon["dm"] = dm
        return self._event("beacon", self.user(user_id), beacon=beacon)

    def account_link(self, user_id: str, nonce: str, result: str = "ok") -> dict[str, Any]:
        return self._event("accountLink", self.user(user_id), link={"result": result, "nonce": nonce})

    def membership(self, user_id: str, kind: str = "joined", membership_id: int = 1) -> dict[str, Any]:
        return self._event("membership", self.user(user_id),
                           membership={"type": kind, "membershipId": membership_id})

    def module_attached(self, user_id: str, bot_id: str, scopes: list[str]) -> dict[str, Any]:
        return self._event("module", self.user(user_id),
                           module={"type": "attached", "botId": bot_id, "scopes": list(scopes)})

    def module_detached(self, user_id: str, bot_id: str, reason: str = "bot_deleted") -> dict[str, Any]:
        return self._event("module", self.user(user_id),
                           module={"type": "detached", "botId": bot_id, "reason": reason})

    def activated(self, user_id: str, expire_at_ms: int | None = None) -> dict[str, Any]:
        expire = expire_at_ms if expire_at_ms is not None else int((self._clock() + 3600) * 1000)
        return self._event("activated", self.user(user_id), chatControl={"expireAt": expire})

    def deactivated(self, user_id: str) -> dict[str, Any]:
        return self._event("deactivated", self.user(user_id))

    def bot_suspended(self) -> dict[str, Any]:
        return self._event("botSuspended", None)

    def bot_resumed(self) -> dict[str, Any]:
        return self._event("botResumed", None)

    def delivery(self, data: str) -> dict[str, Any]:
        """A LINE notification message (PNP) delivery completion event."""
        return self._event("delivery", None, delivery={"data": data})

    def unsend(self, user_id: str, message_id: str) -> dict[str, Any]:
        return self._event("unsend", self.user(user_id), unsend={"messageId": message_id})


class WebhookSender:
    """Signs and POSTs webhook bodies to the bot's callback, like the LINE Platform."""

    def __init__(
        self,
        callback_url: str,
        channel_secret: str,
        token_source: TokenSource | None = None,
        *,
        destination: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.callback_url = callback_url
        self.channel_secret = channel_secret
        self.token_source = token_source
        self.events = EventFactory(token_source)
        self.session = session or requests.Session()
        self.timeout = timeout
        self._destination = destination
        self.last_events: list[dict[str, Any]] = []

    @property
    def destination(self) -> str:
        """The bot's user ID, as LINE puts it in ``destination`` (from the emulator when possible)."""
        if self._destination is None:
            source = self.token_source
            bot_id = getattr(source, "bot_user_id", None)
            if bot_id is None and hasattr(source, "info"):
                bot_id = source.info()["botUserId"]  # type: ignore[union-attr]
            self._destination = bot_id or "U" + hashlib.md5(self.channel_secret.encode()).hexdigest()
        return self._destination

    def build_body(self, events: dict[str, Any] | list[dict[str, Any]], *, destination: str | None = None) -> bytes:
        """The CallbackRequest JSON (compact, UTF-8, like LINE's), validated against webhook.yml."""
        event_list = [events] if isinstance(events, dict) else list(events)
        body = {"destination": destination or self.destination, "events": event_list}
        errors = spec.validate_webhook_body(body)
        if errors:
            raise WebhookSpecViolation(errors)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def send(
        self,
        events: dict[str, Any] | list[dict[str, Any]],
        *,
        destination: str | None = None,
        signature: str | None = None,
    ) -> requests.Response:
        """POST the events; ``signature`` overrides the computed X-Line-Signature (e.g. a bad one)."""
        body = self.build_body(events, destination=destination)
        self.last_events = [events] if isinstance(events, dict) else list(events)
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Line-Signature": sign(body, self.channel_secret) if signature is None else signature,
            "User-Agent": "LineBotWebhook/2.0",
        }
        return self.session.post(self.callback_url, data=body, headers=headers, timeout=self.timeout)

    def redeliver(self, event: dict[str, Any]) -> requests.Response:
        """Send ``event`` again as a redelivery: same webhookEventId, ``isRedelivery`` true."""
        again = copy.deepcopy(event)
        again["deliveryContext"] = {"isRedelivery": True}
        return self.send(again)

    # ------------------------------------------------------------------ conveniences
    def text(self, user_id: str, text: str) -> requests.Response:
        return self.send(self.events.text(user_id, text))

    def postback(self, user_id: str, data: str, params: dict[str, str] | None = None) -> requests.Response:
        return self.send(self.events.postback(user_id, data, params))

    def follow(self, user_id: str, *, is_unblocked: bool = False) -> requests.Response:
        return self.send(self.events.follow(user_id, is_unblocked=is_unblocked))

    def unfollow(self, user_id: str) -> requests.Response:
        return self.send(self.events.unfollow(user_id))

    def location(self, user_id: str, latitude: float, longitude: float, *, title: str | None = None,
                 address: str | None = None) -> requests.Response:
        return self.send(self.events.location(user_id, latitude, longitude, title=title, address=address))

    def sticker(self, user_id: str, package_id: str = "446", sticker_id: str = "1988") -> requests.Response:
        return self.send(self.events.sticker(user_id, package_id, sticker_id))

    def image(self, user_id: str, content: bytes, content_type: str = "image/jpeg") -> requests.Response:
        """Register ``content`` in the emulator under a new message ID, then send the image event."""
        if self.token_source is None:
            raise RuntimeError("image() needs an emulator (token_source) to hold the content")
        message_id = _message_id()
        self.token_source.add_content(message_id, content, content_type)
        return self.send(self.events.image(user_id, message_id=message_id))
