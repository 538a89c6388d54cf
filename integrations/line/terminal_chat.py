"""A Japanese terminal chat with the bot through the real webhook path and the LINE emulator.

Each typed line becomes a signed text webhook event; the bot's answers are read from the emulator
(long-poll) and rendered as text.  Quick-reply items and template / flex buttons become numbered
choices ("[1] ソファ"); typing the number triggers the action as LINE would (message → text event,
postback → postback event, datetime picker → asks for the value, uri → shows the link, location →
asks for coordinates).  ``input_fn`` / ``output_fn`` make it scriptable from tests.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from integrations.line.emulator import EmulatorClient
from integrations.line.webhook_sender import WebhookSender

__all__ = ["ChatSession", "render_message", "run_chat"]

HELP = """\
使い方:
  文字を入力して Enter … ボットに送信します
  番号（例: 1）      … 表示された選択肢を選びます
  /follow            … 友だち追加（フォロー）します
  /location 緯度 経度 [住所] … 位置情報を送ります（例: /location 35.5308 139.7029 川崎市役所）
  /image ファイル名   … 画像を送ります
  /sticker           … スタンプを送ります
  /help              … この説明を表示します
  /quit              … 終了します"""

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}$")


@dataclass
class Choice:
    label: str
    action: dict[str, Any]


def _action_label(action: dict[str, Any]) -> str:
    label = action.get("label") or action.get("text") or action.get("displayText") or action.get("data") or ""
    kind = action.get("type")
    if kind == "uri":
        return f"{label}（リンク）"
    if kind == "datetimepicker":
        return f"{label}（日時を選ぶ）"
    if kind == "location":
        return f"{label or '位置情報'}（位置情報を送る）"
    if kind in ("camera", "cameraRoll"):
        return f"{label or '画像'}（画像を送る）"
    return str(label)


def _flex_walk(node: Any, lines: list[str], actions: list[dict[str, Any]]) -> None:
    if not isinstance(node, dict):
        return
    kind = node.get("type")
    if kind == "text":
        text = node.get("text") or "".join(s.get("text", "") for s in node.get("contents", []) or [])
        if text:
            lines.append(text)
    elif kind == "button" and isinstance(node.get("action"), dict):
        actions.append(node["action"])
        return
    elif kind == "bubble":
        for part in ("header", "hero", "body", "footer"):
            _flex_walk(node.get(part), lines, actions)
        if isinstance(node.get("action"), dict):
            actions.append(node["action"])
        return
    for child in node.get("contents", []) if isinstance(node.get("contents"), list) else []:
        _flex_walk(child, lines, actions)


def render_message(message: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Lines to show for one Messaging API message object, and its actions (buttons, quick replies)."""
    kind = message.get("type")
    lines: list[str] = []
    actions: list[dict[str, Any]] = []
    if kind in ("text", "textV2"):
        lines.extend(str(message.get("text", "")).splitlines() or [""])
    elif kind == "sticker":
        lines.append("［スタンプ］")
    elif kind == "image":
        lines.append(f"［画像］{message.get('originalContentUrl', '')}")
    elif kind == "video":
        lines.append(f"［動画］{message.get('originalContentUrl', '')}")
    elif kind == "audio":
        lines.append(f"［音声］{message.get('originalContentUrl', '')}")
    elif kind == "location":
        lines.append(
            f"［地図］{message.get('title', '')} {message.get('address', '')} "
            f"({message.get('latitude')}, {message.get('longitude')})"
        )
    elif kind == "imagemap":
        lines.append(f"［画像メニュー］{message.get('altText', '')}")
        actions.extend({**a, "label": a.get("label") or a.get("text") or a.get("linkUri")}
                       for a in message.get("actions", []) if a.get("type") in ("message", "uri"))
    elif kind == "template":
        template = message.get("template", {})
        columns = template.get("columns") if template.get("type") in ("carousel", "image_carousel") else [template]
        for column in columns or []:
            if column.get("title"):
                lines.append(f"【{column['title']}】")
            if column.get("text"):
                lines.extend(str(column["text"]).splitlines())
            actions.extend(column.get("actions", []))
            if column.get("action"):
                actions.append(column["action"])
    elif kind == "flex":
        before = len(lines)
        _flex_walk(message.get("contents"), lines, actions)
        if len(lines) == before:
            lines.append(str(message.get("altText", "")))
    else:
        lines.append(f"［{kind} メッセージ］")
    for item in (message.get("quickReply") or {}).get("items", []):
        if isinstance(item.get("action"), dict):
            actions.append(item["action"])
    return lines, actions


@dataclass
class ChatSession:
    """The state of one terminal chat; ``run_chat`` drives it, tests may too."""

    sender: WebhookSender
    client: EmulatorClient
    user_id: str
    input_fn: Callable[[str], str]
    output_fn: Callable[[str], None]
    reply_wait: float = 10.0
    quiet_after: float = 0.4
    after: int = 0
    choices: list[Choice] = field(default_factory=list)

    # ------------------------------------------------------------------ sending
    def _post(self, response: requests.Response) -> None:
        if response.status_code != 200:
            self.output_fn(f"（ボットの応答 HTTP {response.status_code}）")
        self.show_answers()

    def send_text(self, text: str) -> None:
        self._post(self.sender.text(self.user_id, text))

    def send_postback(self, data: str, params: dict[str, str] | None = None) -> None:
        self._post(self.sender.postback(self.user_id, data, params))

    def send_location(self, latitude: float, longitude: float, address: str | None = None) -> None:
        title = "位置情報" if address else None
        self._post(self.sender.location(self.user_id, latitude, longitude, title=title, address=address))

    def send_image(self, path: str) -> None:
        file = Path(path).expanduser()
        if not file.is_file():
            self.output_fn(f"ファイルが見つかりません: {path}")
            return
        content_type = mimetypes.guess_type(file.name)[0] or "image/jpeg"
        self._post(self.sender.image(self.user_id, file.read_bytes(), content_type))

    # ------------------------------------------------------------------ receiving
    def show_answers(self) -> None:
        """Wait for the bot's answers (the first up to reply_wait, then until quiet) and render them."""
        found = self.client.messages(self.user_id, self.after, wait=self.reply_wait)["messages"]
        if not found:
            self.output_fn("（ボットからの応答がありません）")
            return
        batch = list(found)
        while True:
            more = self.client.messages(self.user_id, batch[-1]["seq"], wait=self.quiet_after)["messages"]
            if not more:
                break
            batch.extend(more)
        self.after = batch[-1]["seq"]
        self.choices = []
        for record in batch:
            lines, actions = render_message(record["message"])
            for i, line in enumerate(lines):
                self.output_fn(("ボット: " if i == 0 else "       ") + line)
            for action in actions:
                self.choices.append(Choice(_action_label(action), action))
                self.output_fn(f"  [{len(self.choices)}] {self.choices[-1].label}")
        if self.choices:
            self.output_fn("（番号を入力すると選べます）")

    # ------------------------------------------------------------------ actions
    def choose(self, number: int) -> None:
        action = self.choices[number - 1].action
        kind = action.get("type")
        if kind == "message":
            self.output_fn(f"あなた: {action.get('text', '')}")
            self.send_text(str(action.get("text", "")))
        elif kind == "postback":
            if action.get("displayText"):
                self.output_fn(f"あなた: {action['displayText']}")
            self.send_postback(str(action.get("data", "")))
        elif kind == "datetimepicker":
            self._pick_datetime(action)
        elif kind == "uri":
            self.output_fn(f"リンク: {action.get('uri', '')}")
        elif kind == "location":
            answer = self.input_fn("緯度,経度 を入力してください（例: 35.5308,139.7029）> ").strip()
            try:
                lat_text, lon_text = re.split(r"[,\s]+", answer, maxsplit=1)
                self.send_location(float(lat_text), float(lon_text))
            except ValueError:
                self.output_fn("緯度と経度を「35.5308,139.7029」の形で入力してください。")
        elif kind in ("camera", "cameraRoll"):
            self.send_image(self.input_fn("送る画像のファイル名を入力してください> ").strip())
        elif kind == "clipboard":
            self.output_fn(f"コピーしました: {action.get('clipboardText', '')}")
        elif kind == "richmenuswitch":
            self.send_postback(str(action.get("data", "")),
                               {"newRichMenuAliasId": str(action.get("richMenuAliasId", "")), "status": "SUCCESS"})
        else:
            self.output_fn(f"この操作（{kind}）には対応していません。")

    def _pick_datetime(self, action: dict[str, Any]) -> None:
        mode = action.get("mode", "datetime")
        prompts = {
            "date": ("日付を入力してください（例: 2026-12-01）> ", _DATE),
            "time": ("時刻を入力してください（例: 10:00）> ", _TIME),
            "datetime": ("日時を入力してください（例: 2026-12-01 10:00）> ", None),
        }
        prompt, pattern = prompts.get(mode, prompts["datetime"])
        value = self.input_fn(prompt).strip()
        if mode == "datetime":
            value = value.replace(" ", "T")
            date_part, _, time_part = value.partition("T")
            ok = bool(_DATE.match(date_part) and _TIME.match(time_part))
        else:
            ok = bool(pattern and pattern.match(value))
        if not ok:
            self.output_fn("入力の形が正しくありません。もう一度、番号から選んでください。")
            return
        self.send_postback(str(action.get("data", "")), {mode: value})

    # ------------------------------------------------------------------ the loop
    def handle_line(self, line: str) -> bool:
        """Process one typed line; False means quit."""
        line = line.strip()
        if not line:
            return True
        if line == "/quit":
            self.output_fn("終了します。ご利用ありがとうございました。")
            return False
        if line == "/help":
            self.output_fn(HELP)
        elif line == "/follow":
            self._post(self.sender.follow(self.user_id))
        elif line == "/sticker":
            self._post(self.sender.sticker(self.user_id))
        elif line.startswith("/location"):
            parts = line.split(maxsplit=3)
            try:
                self.send_location(float(parts[1]), float(parts[2]), parts[3] if len(parts) > 3 else None)
            except (IndexError, ValueError):
                self.output_fn("使い方: /location 緯度 経度 [住所]")
        elif line.startswith("/image"):
            parts = line.split(maxsplit=1)
            if len(parts) < 2:
                self.output_fn("使い方: /image ファイル名")
            else:
                self.send_image(parts[1])
        elif line.startswith("/"):
            self.output_fn("そのコマンドはありません。/help で一覧を表示します。")
        elif line.isdigit() and self.choices and 1 <= int(line) <= len(self.choices) and len(line) <= 2:
            self.choose(int(line))
        else:
            # Anything else, including longer numbers such as a postal code, is an answer in text.
            self.send_text(line)
        return True


def run_chat(
    callback_url: str,
    emulator_url: str,
    channel_secret: str,
    user_id: str,
    input_fn: Callable[[str], str] = input,
    output_fn: Callable[[str], None] = print,
    *,
    reply_wait: float = 10.0,
    quiet_after: float = 0.4,
) -> None:
    """Chat with the bot at ``callback_url`` as ``user_id`` until /quit or end of input."""
    client = EmulatorClient(emulator_url)
    sender = WebhookSender(callback_url, channel_secret, client)
    session = ChatSession(sender, client, user_id, input_fn, output_fn, reply_wait, quiet_after,
                          after=client.last_seq())
    output_fn("川崎市 LINE 手続き案内（テスト用チャット）です。/help で使い方を表示します。")
    while True:
        try:
            line = input_fn("あなた> ")
        except (EOFError, KeyboardInterrupt):
            output_fn("")
            break
        if not session.handle_line(line):
            break


def main(argv: list[str] | None = None) -> None:
    """``python -m integrations.line.terminal_chat --callback URL --emulator URL [--user U...]``."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description="LINE 風のターミナルチャット（エミュレーター経由）")
    parser.add_argument("--callback", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/callback")
    parser.add_argument("--emulator", default=os.environ.get("LINE_API_BASE_URL", "http://127.0.0.1:8081"))
    parser.add_argument("--secret", default=os.environ.get("LINE_CHANNEL_SECRET", "dev-channel-secret"))
    parser.add_argument("--user", default="U" + "0" * 31 + "1")
    args = parser.parse_args(argv)
    run_chat(args.callback, args.emulator, args.secret, args.user)


if __name__ == "__main__":
    main()
