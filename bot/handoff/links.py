"""Tracked hand-off links: `PUBLIC_BASE_URL/go/<token>`.

The token is the signed link itself (itsdangerous, key derived from the channel secret): it carries
the procedure, the exact target address the bot chose, a pseudonym of the resident, the source
(chat | qr | poster), the facility and the time it was issued. Nothing is stored when a link is
issued, so issuing stays a pure function of its inputs; the web side verifies the signature and the
age before it redirects, so it can only ever send a resident to an address the bot put in a token.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from itsdangerous import BadData, URLSafeSerializer

LINK_TTL_S = 7 * 24 * 3600
SOURCES = ("chat", "qr", "poster")
_SALT = "kb.go-link.v1"
_NAMESPACE = uuid.UUID("6f1d3c52-3e0b-4b8e-9a51-0c4c1a9e7d21")


@dataclass(frozen=True)
class LinkPayload:
    token_id: str
    procedure_id: str
    channel: str
    target: str
    user_hash: str
    source: str
    facility: str | None
    issued_at: int  # epoch seconds

    def to_wire(self) -> dict:
        return {"i": self.token_id, "p": self.procedure_id, "c": self.channel, "u": self.target,
                "h": self.user_hash, "s": self.source, "f": self.facility, "t": self.issued_at}

    @classmethod
    def from_wire(cls, raw: object) -> LinkPayload:
        if not isinstance(raw, dict):
            raise ValueError("payload is not an object")
        try:
            payload = cls(token_id=str(raw["i"]), procedure_id=str(raw["p"]), channel=str(raw.get("c") or ""),
                          target=str(raw["u"]), user_hash=str(raw.get("h") or ""), source=str(raw.get("s") or "chat"),
                          facility=(str(raw["f"]) if raw.get("f") else None), issued_at=int(raw["t"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad payload: {type(exc).__name__}") from exc
        if not is_safe_target(payload.target):
            raise ValueError("target is not an https address")
        return payload


@dataclass(frozen=True)
class Verified:
    """Result of checking a token: `payload` is set only when the signature is valid."""

    status: str  # "ok" | "expired" | "invalid"
    payload: LinkPayload | None = None


def is_safe_target(url: str) -> bool:
    """Only absolute https addresses with a host are ever issued or followed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme == "https" and bool(parts.hostname) and not any(c in url for c in "\r\n\t ")


def derive_key(channel_secret: str) -> bytes:
    """A key of its own for links, so a leaked link key is not the webhook signing secret."""
    return hmac.new(channel_secret.encode(), b"kawasaki-bot/go-link/v1", hashlib.sha256).digest()


def token_id_for(event_id: str, procedure_id: str) -> str:
    """Deterministic per (event, procedure): a re-run of the same turn issues the same link."""
    return uuid.uuid5(_NAMESPACE, f"{event_id}:{procedure_id}").hex[:16]


class LinkIssuer:
    def __init__(self, channel_secret: str, public_base_url: str, *, ttl_s: int = LINK_TTL_S) -> None:
        self._serializer = URLSafeSerializer(derive_key(channel_secret), salt=_SALT)
        self.base_url = public_base_url.rstrip("/")
        self.ttl_s = ttl_s

    def token(self, payload: LinkPayload) -> str:
        if not is_safe_target(payload.target):
            raise ValueError(f"refusing to issue a link to a non-https address: {payload.target!r}")
        if payload.source not in SOURCES:
            raise ValueError(f"unknown source {payload.source!r}")
        return str(self._serializer.dumps(payload.to_wire()))

    def url(self, payload: LinkPayload) -> str:
        return f"{self.base_url}/go/{self.token(payload)}"

    def issue(self, *, procedure_id: str, channel: str, target: str, user_hash: str, now: datetime,
              event_id: str, source: str = "chat", facility: str | None = None) -> tuple[str, LinkPayload]:
        payload = LinkPayload(token_id=token_id_for(event_id, procedure_id), procedure_id=procedure_id,
                              channel=channel, target=target, user_hash=user_hash, source=source,
                              facility=facility, issued_at=int(now.timestamp()))
        return self.url(payload), payload

    def verify(self, token: str, now: datetime) -> Verified:
        if not token or len(token) > 2000:
            return Verified("invalid")
        try:
            raw = self._serializer.loads(token)
            payload = LinkPayload.from_wire(raw)
        except (BadData, ValueError, UnicodeError):
            return Verified("invalid")
        age = now.timestamp() - payload.issued_at
        if age > self.ttl_s or age < -300:  # issued "in the future" beyond clock skew: not ours
            return Verified("expired", payload)
        return Verified("ok", payload)
