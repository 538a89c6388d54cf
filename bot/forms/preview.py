"""Walk a dialog script in the terminal with the pure engine (for staff checking their edits).

Type an answer, or the number of a button. `/loc 35.53,139.70 住所` sends a location, `/image`
a photo, `/quit` stops. Nothing is stored or sent anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.conversation.incoming import Incoming, Location
from bot.forms import engine
from bot.forms.script import Script
from bot.forms.slots.base import JST

InputFn = Callable[[str], str]
OutputFn = Callable[[str], None]


def render_message(msg: dict[str, Any]) -> list[str]:
    """A LINE message as terminal lines (buttons are numbered separately)."""
    if msg.get("type") == "text":
        return [msg["text"]]
    if msg.get("type") == "flex":
        bubble = msg["contents"]
        out = ["┌ " + bubble["header"]["contents"][0]["text"]]
        for box in bubble["body"]["contents"]:
            if box.get("type") == "box":
                out.append(f"│ {box['contents'][0]['text']}：{box['contents'][1]['text']}")
            elif box.get("type") == "text":
                out.append("│ " + box["text"].replace("\n", "\n│ "))
        out.append("└")
        return out
    return [f"[{msg.get('type')}] {msg.get('altText', '')}"]


def run_preview(script: Script, *, input_fn: InputFn = input, output_fn: OutputFn = print,
                now: datetime | None = None, instance_id: str = "preview0") -> dict[str, Any]:
    now = now or datetime.now(JST)
    result = engine.start(script, now=now, instance_id=instance_id)
    seq = 0
    while True:
        buttons: list[dict[str, Any]] = []
        for msg in result.messages:
            for line in render_message(msg):
                output_fn(line)
            buttons = [i["action"] for i in (msg.get("quickReply") or {}).get("items", [])] or buttons
        if result.status == "submitted":
            output_fn("（送信されました。本番では受付番号を発行して次のメッセージを送ります）")
            for msg in engine.completion_messages(script, result.state, "PREVIEW-0001"):
                for line in render_message(msg):
                    output_fn(line)
            return result.state
        if result.status == "cancelled":
            return result.state
        if result.status == "off_topic":
            output_fn("（フォームとは別の話題として扱われます。本番ではボットが答えたあと、次の案内を出します）")
            for msg in engine.resume_messages(script, result.state):
                output_fn(msg["text"])
                buttons = [i["action"] for i in msg["quickReply"]["items"]]
        if buttons:
            output_fn("  " + "  ".join(f"[{n}] {a.get('label')}" for n, a in enumerate(buttons, 1)))
        try:
            line = input_fn("> ").strip()
        except EOFError:
            return result.state
        if line == "/quit":
            return result.state
        seq += 1
        incoming = _to_incoming(line, buttons, input_fn, seq)
        if incoming is None:
            output_fn("（入力を読み取れませんでした）")
            result = engine.StepResult(result.state, [], [], "active")
            continue
        result = engine.step(script, result.state, incoming, now=now)


def _to_incoming(line: str, buttons: list[dict[str, Any]], input_fn: InputFn, seq: int) -> Incoming | None:
    base: dict[str, Any] = {"user_id": "preview", "event_id": f"preview-{seq}", "timestamp_ms": seq}
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        action = buttons[int(line) - 1]
        kind = action.get("type")
        if kind == "postback":
            return Incoming(kind="postback", postback_data=action["data"], **base)
        if kind == "datetimepicker":
            day = input_fn("日付（YYYY-MM-DD）> ").strip()
            return Incoming(kind="postback", postback_data=action["data"], postback_params={"date": day}, **base)
        if kind == "location":
            return _location(input_fn("緯度,経度[,住所]> "), base)
        if kind in ("camera", "cameraRoll"):
            return Incoming(kind="image", message_id=f"m{seq}", content_ref=f"preview://image/{seq}", **base)
    if line.startswith("/loc"):
        return _location(line[4:], base)
    if line == "/image":
        return Incoming(kind="image", message_id=f"m{seq}", content_ref=f"preview://image/{seq}", **base)
    return Incoming(kind="text", text=line, **base)


def _location(text: str, base: dict[str, Any]) -> Incoming | None:
    parts = [p.strip() for p in text.strip().split(",", 2)]
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (ValueError, IndexError):
        return None
    address = parts[2] if len(parts) > 2 else None
    return Incoming(kind="location", location=Location(lat, lon, address), **base)
