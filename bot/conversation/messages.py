"""Builders for LINE Messaging API message objects (plain dicts, camelCase)."""

from __future__ import annotations

MAX_LABEL = 20
MAX_QUICK_REPLY = 13
MAX_TEXT = 5000


def label(text: str) -> str:
    """Quick-reply / button labels are at most 20 characters in LINE."""
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def text(body: str, quick_replies: list[dict] | None = None) -> dict:
    msg: dict = {"type": "text", "text": body[:MAX_TEXT]}
    if quick_replies:
        msg["quickReply"] = {"items": quick_replies[:MAX_QUICK_REPLY]}
    return msg


def qr_message(lbl: str, send_text: str | None = None) -> dict:
    return {"type": "action", "action": {"type": "message", "label": label(lbl), "text": send_text or lbl}}


def qr_postback(lbl: str, data: str, display_text: str | None = None) -> dict:
    action = {"type": "postback", "label": label(lbl), "data": data}
    if display_text:
        action["displayText"] = display_text
    return {"type": "action", "action": action}


def uri_button(lbl: str, uri: str) -> dict:
    return {"type": "uri", "label": label(lbl), "uri": uri}
