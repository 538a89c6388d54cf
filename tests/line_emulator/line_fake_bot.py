"""A tiny but real LINE bot for the emulator tests: a WSGI /callback that verifies signatures with
linebot.v3, parses events, and answers through the emulator with the real line-bot-sdk client."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from linebot.v3.exceptions import InvalidSignatureError
from linebot.v3.messaging import (
    ApiClient,
    ButtonsTemplate,
    Configuration,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexMessage,
    FlexText,
    LocationAction,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    TemplateMessage,
    TextMessage,
    URIAction,
)
from linebot.v3.messaging.exceptions import ApiException
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import (
    FollowEvent,
    ImageMessageContent,
    LocationMessageContent,
    MessageEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
)

from integrations.line.keepalive_server import KeepAliveWSGIServer

TOKEN = "test-channel-access-token"
SECRET = "test-channel-secret"
USER = "U" + "0123456789abcdef" * 2


class FakeBot:
    def __init__(self, channel_secret: str, access_token: str, emulator_url: str) -> None:
        self.parser = WebhookParser(channel_secret)
        self.config = Configuration(host=emulator_url, access_token=access_token)
        self.received: list[Any] = []
        self.raw_bodies: list[bytes] = []
        self.reply_errors: list[int] = []
        self.lock = threading.Lock()

    # -- answers ----------------------------------------------------------------------------
    def answer(self, event: Any) -> list[Any]:
        if isinstance(event, FollowEvent):
            return [TextMessage(text="友だち追加ありがとうございます。")]
        if isinstance(event, PostbackEvent):
            params = event.postback.params or {}
            if event.postback.data == "reserve":
                return [TextMessage(text=f"{params.get('date')} で予約を受け付けました。")]
            if event.postback.data == "proc=juminhyo":
                return [TextMessage(text="住民票の写しの請求ですね。")]
            return [TextMessage(text=f"postback: {event.postback.data}")]
        if isinstance(event, MessageEvent):
            message = event.message
            if isinstance(message, TextMessageContent):
                return self.answer_text(message.text)
            if isinstance(message, LocationMessageContent):
                return [TextMessage(text=f"位置を受け取りました: {message.latitude},{message.longitude}")]
            if isinstance(message, ImageMessageContent):
                with ApiClient(self.config) as client:
                    data = MessagingApiBlob(client).get_message_content(message.id)
                return [TextMessage(text=f"画像を受け取りました（{len(data)} バイト）")]
            if isinstance(message, StickerMessageContent):
                return [TextMessage(text="スタンプありがとうございます。")]
        return []

    def answer_text(self, text: str) -> list[Any]:
        if text == "こんにちは":
            quick = QuickReply(
                items=[
                    QuickReplyItem(action=MessageAction(label="ソファ", text="粗大ごみ ソファ")),
                    QuickReplyItem(action=PostbackAction(label="住民票", data="proc=juminhyo", display_text="住民票")),
                    QuickReplyItem(action=LocationAction(label="現在地")),
                ]
            )
            buttons = TemplateMessage(
                alt_text="予約",
                template=ButtonsTemplate(
                    text="窓口の予約ができます",
                    actions=[
                        DatetimePickerAction(label="予約日を選ぶ", data="reserve", mode="date"),
                        URIAction(label="市のサイト", uri="https://www.city.kawasaki.jp/"),
                    ],
                ),
            )
            return [TextMessage(text="ご用件を選んでください。", quick_reply=quick), buttons]
        if text == "カード":
            bubble = FlexBubble(
                body=FlexBox(layout="vertical", contents=[FlexText(text="粗大ごみの申込み")]),
                footer=FlexBox(
                    layout="vertical",
                    contents=[FlexButton(action=PostbackAction(label="申し込む", data="apply=sodai"))],
                ),
            )
            return [FlexMessage(alt_text="粗大ごみ", contents=bubble)]
        if text == "粗大ごみ ソファ":
            return [TextMessage(text="ソファの粗大ごみ受付ですね。")]
        return [TextMessage(text=f"「{text}」を受け付けました。")]

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] != "POST" or environ.get("PATH_INFO") != "/callback":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        try:
            events = self.parser.parse(body.decode("utf-8"), environ.get("HTTP_X_LINE_SIGNATURE", ""))
        except InvalidSignatureError:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"bad signature"]
        with self.lock:
            self.received.extend(events)
            self.raw_bodies.append(body)
        with ApiClient(self.config) as client:
            api = MessagingApi(client)
            for event in events:
                token = getattr(event, "reply_token", None)
                messages = self.answer(event)
                if token and messages:
                    try:
                        api.reply_message(ReplyMessageRequest(reply_token=token, messages=messages))
                    except ApiException as exc:
                        self.reply_errors.append(exc.status)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"OK"]


def start_fake_bot(channel_secret: str, access_token: str, emulator_url: str) -> tuple[FakeBot, Any, str]:
    bot = FakeBot(channel_secret, access_token, emulator_url)
    server = KeepAliveWSGIServer(("127.0.0.1", 0), bot)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return bot, server, f"http://127.0.0.1:{server.server_port}/callback"
