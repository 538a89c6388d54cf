"""LINE Messaging API message objects (camelCase dicts) within the documented limits, and the
postback data the form's buttons carry."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

MAX_MESSAGES = 5
MAX_QUICK = 13
MAX_LABEL = 20
MAX_TEXT = 5000
MAX_ALT = 400
MAX_DATA = 300
POSTBACK_PREFIX = "f="


def is_form_postback(data: str | None) -> bool:
    """True for postback data produced by a chat form's buttons."""
    return bool(data) and data.startswith(POSTBACK_PREFIX)  # type: ignore[union-attr]


def encode(action: str, instance_id: str, **fields: Any) -> str:
    data = urlencode({"f": action, "i": instance_id[:8], **{k: v for k, v in fields.items() if v is not None}})
    if len(data) > MAX_DATA:
        raise ValueError("postback data too long")
    return data


def decode(data: str) -> dict[str, str]:
    return dict(parse_qsl(data, keep_blank_values=True))


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def postback_item(label: str, data: str, display: str | None = None) -> dict[str, Any]:
    label = clip(label, MAX_LABEL)
    return {"type": "action", "action": {"type": "postback", "label": label, "data": data,
                                         "displayText": clip(display or label, 300)}}


def text_message(text: str, quick: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": "text", "text": clip(text or "　", MAX_TEXT)}
    if quick:
        msg["quickReply"] = {"items": quick[:MAX_QUICK]}
    return msg


def flex_summary(title: str, rows: list[tuple[str, str]], footer_note: str, buttons: list[tuple[str, str, str]],
                 quick: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A bubble listing label/value rows with action buttons (label, data, style)."""
    body: list[dict[str, Any]] = []
    for label, value in rows:
        body.append({"type": "box", "layout": "vertical", "margin": "md", "contents": [
            {"type": "text", "text": clip(label or "　", 100), "size": "xs", "color": "#888888", "wrap": True},
            {"type": "text", "text": clip(value or "（なし）", 500), "size": "sm", "wrap": True},
        ]})
    if footer_note:
        body.append({"type": "separator", "margin": "lg"})
        body.append({"type": "text", "text": clip(footer_note, 1000), "size": "xs", "wrap": True, "margin": "lg",
                     "color": "#555555"})
    footer = [{"type": "button", "style": style, "height": "sm",
               "action": {"type": "postback", "label": clip(label, MAX_LABEL), "data": data, "displayText": label}}
              for label, data, style in buttons]
    alt = title + "\n" + "\n".join(f"{lbl}：{val}" for lbl, val in rows) + ("\n" + footer_note if footer_note else "")
    msg: dict[str, Any] = {
        "type": "flex",
        "altText": clip(alt, MAX_ALT),
        "contents": {
            "type": "bubble",
            "header": {"type": "box", "layout": "vertical", "contents": [
                {"type": "text", "text": clip(title, 100), "weight": "bold", "size": "md", "wrap": True}]},
            "body": {"type": "box", "layout": "vertical", "contents": body},
            "footer": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer},
        },
    }
    if quick:
        msg["quickReply"] = {"items": quick[:MAX_QUICK]}
    return msg


def cap(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most five messages a turn: merge leading plain texts when there are more."""
    msgs = list(messages)
    while len(msgs) > MAX_MESSAGES:
        a, b = msgs[0], msgs[1]
        if a.get("type") == "text" and b.get("type") == "text" and "quickReply" not in a:
            msgs[:2] = [{**b, "text": clip(a["text"] + "\n\n" + b["text"], MAX_TEXT)}]
        else:
            msgs.pop(0)
    return msgs
