"""integrations.line.webhook_sender: events for every type, signatures, sending, redelivery."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from line_fake_bot import SECRET, USER, FakeBot
from linebot.v3 import SignatureValidator
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import (
    AccountLinkEvent,
    ActivatedEvent,
    AudioMessageContent,
    BeaconEvent,
    BotResumedEvent,
    BotSuspendedEvent,
    DeactivatedEvent,
    FileMessageContent,
    FollowEvent,
    ImageMessageContent,
    JoinEvent,
    LeaveEvent,
    LocationMessageContent,
    MemberJoinedEvent,
    MemberLeftEvent,
    MembershipEvent,
    MessageEvent,
    ModuleEvent,
    PnpDeliveryCompletionEvent,
    PostbackEvent,
    StickerMessageContent,
    TextMessageContent,
    UnfollowEvent,
    UnsendEvent,
    VideoMessageContent,
    VideoPlayCompleteEvent,
)

from integrations.line import spec
from integrations.line.emulator import EmulatorClient, EmulatorHandle, LineEmulator
from integrations.line.webhook_sender import (
    REPLYABLE_EVENT_TYPES,
    EventFactory,
    WebhookSender,
    WebhookSpecViolation,
    new_webhook_event_id,
    sign,
)

GROUP = "C" + "1" * 32
CROCKFORD = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

# builder, expected SDK event class, expected SDK message content class (message events)
CASES: dict[str, tuple[Callable[[EventFactory], dict[str, Any]], type, type | None]] = {
    "text": (lambda f: f.text(USER, "こんにちは"), MessageEvent, TextMessageContent),
    "image": (lambda f: f.image(USER), MessageEvent, ImageMessageContent),
    "video": (lambda f: f.video(USER), MessageEvent, VideoMessageContent),
    "audio": (lambda f: f.audio(USER), MessageEvent, AudioMessageContent),
    "file": (lambda f: f.file(USER, "申請書.pdf", 2048), MessageEvent, FileMessageContent),
    "location": (lambda f: f.location(USER, 35.5308, 139.7029, title="川崎市役所", address="川崎市川崎区宮本町1"),
                 MessageEvent, LocationMessageContent),
    "sticker": (lambda f: f.sticker(USER), MessageEvent, StickerMessageContent),
    "follow": (lambda f: f.follow(USER), FollowEvent, None),
    "unfollow": (lambda f: f.unfollow(USER), UnfollowEvent, None),
    "join": (lambda f: f.join(GROUP), JoinEvent, None),
    "leave": (lambda f: f.leave(GROUP), LeaveEvent, None),
    "memberJoined": (lambda f: f.member_joined(GROUP, [USER]), MemberJoinedEvent, None),
    "memberLeft": (lambda f: f.member_left(GROUP, [USER]), MemberLeftEvent, None),
    "postback": (lambda f: f.postback(USER, "proc=juminhyo"), PostbackEvent, None),
    "postback-date": (lambda f: f.postback(USER, "reserve", {"date": "2026-12-01"}), PostbackEvent, None),
    "postback-time": (lambda f: f.postback(USER, "reserve", {"time": "10:30"}), PostbackEvent, None),
    "postback-datetime": (lambda f: f.postback(USER, "reserve", {"datetime": "2026-12-01T10:30"}), PostbackEvent, None),
    "videoPlayComplete": (lambda f: f.video_play_complete(USER, "track-1"), VideoPlayCompleteEvent, None),
    "beacon": (lambda f: f.beacon(USER), BeaconEvent, None),
    "accountLink": (lambda f: f.account_link(USER, "nonce-1"), AccountLinkEvent, None),
    "membership": (lambda f: f.membership(USER, "renewed", 7), MembershipEvent, None),
    "module-attached": (lambda f: f.module_attached(USER, "U" + "2" * 32, ["message:send"]), ModuleEvent, None),
    "module-detached": (lambda f: f.module_detached(USER, "U" + "2" * 32), ModuleEvent, None),
    "activated": (lambda f: f.activated(USER), ActivatedEvent, None),
    "deactivated": (lambda f: f.deactivated(USER), DeactivatedEvent, None),
    "botSuspended": (lambda f: f.bot_suspended(), BotSuspendedEvent, None),
    "botResumed": (lambda f: f.bot_resumed(), BotResumedEvent, None),
    "delivery": (lambda f: f.delivery("notice-1"), PnpDeliveryCompletionEvent, None),
    "unsend": (lambda f: f.unsend(USER, "325708"), UnsendEvent, None),
}


def test_cases_cover_every_event_type_in_webhook_yml() -> None:
    mapping = spec._load_document("webhook")["components"]["schemas"]["Event"]["discriminator"]["mapping"]
    contents = spec._load_document("webhook")["components"]["schemas"]["MessageContent"]["discriminator"]["mapping"]
    factory = EventFactory(LineEmulator("t"))
    built = [build(factory) for build, _, _ in CASES.values()]
    assert {e["type"] for e in built} == set(mapping)
    assert {e["message"]["type"] for e in built if e["type"] == "message"} == set(contents)


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_event_is_valid_parsed_by_sdk_and_replyable_when_it_should_be(case: str) -> None:
    emulator = LineEmulator("t")
    build, sdk_class, content_class = CASES[case]
    event = build(EventFactory(emulator))
    assert spec.validate_webhook_event(event) == []
    assert spec.reference_errors("webhook", "Event", event) == []
    assert len(event["webhookEventId"]) == 26 and set(event["webhookEventId"]) <= CROCKFORD
    assert abs(event["timestamp"] / 1000 - time.time()) < 30
    assert event["mode"] == "active" and event["deliveryContext"] == {"isRedelivery": False}

    sender = WebhookSender("http://127.0.0.1:9/callback", SECRET, emulator)
    body = sender.build_body([event])
    assert json.loads(body)["destination"] == emulator.bot_user_id
    (parsed,) = WebhookParser(SECRET).parse(body.decode("utf-8"), sign(body, SECRET))
    assert type(parsed) is sdk_class
    assert parsed.webhook_event_id == event["webhookEventId"]
    if content_class is not None:
        assert type(parsed.message) is content_class
    if event["type"] == "postback" and "params" in event["postback"]:
        assert parsed.postback.params == event["postback"]["params"]

    if event["type"] in REPLYABLE_EVENT_TYPES:
        status = emulator.handle(
            "POST", "/v2/bot/message/reply", {"authorization": "Bearer t"},
            json.dumps({"replyToken": event["replyToken"], "messages": [{"type": "text", "text": "ok"}]}).encode(),
        ).status
        assert status == 200
        (record,) = emulator.messages()
        assert record["webhookEventId"] == event["webhookEventId"]
        chat = event["source"].get("groupId") or event["source"]["userId"]
        assert record["userId"] == chat
    else:
        assert "replyToken" not in event


def test_signature_is_verified_by_line_sdk() -> None:
    body = '{"destination":"U0","events":[],"note":"川崎市"}'.encode()
    signature = sign(body, SECRET)
    assert len(base64.b64decode(signature)) == 32
    validator = SignatureValidator(SECRET)
    assert validator.validate(body.decode(), signature)
    assert not validator.validate(body.decode(), sign(body, "other-secret"))
    assert not validator.validate(body.decode() + " ", signature)


def test_ulid_time_prefix_encodes_the_timestamp() -> None:
    ms = 1764000000123
    event_id = new_webhook_event_id(ms)
    value = 0
    for char in event_id:
        value = value * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(char)
    assert value >> 80 == ms
    assert new_webhook_event_id(ms) != event_id


def test_invalid_event_is_refused_before_sending(emu: EmulatorHandle) -> None:
    sender = WebhookSender("http://127.0.0.1:9/callback", SECRET, EmulatorClient(emu.url))
    event = sender.events.text(USER, "a")
    del event["message"]["text"]
    with pytest.raises(WebhookSpecViolation) as info:
        sender.send(event)
    assert [e.pointer for e in info.value.errors] == ["/events/0/message/text"]


def test_send_to_a_real_bot_signature_and_redelivery(emu: EmulatorHandle, fake_bot: tuple[FakeBot, str]) -> None:
    bot, callback_url = fake_bot
    client = EmulatorClient(emu.url)
    sender = WebhookSender(callback_url, SECRET, client)
    response = sender.text(USER, "粗大ごみ ソファ")
    assert response.status_code == 200
    original = sender.last_events[0]
    (answer,) = client.wait_for_messages(USER, 1, timeout=5)
    assert answer["message"]["text"] == "ソファの粗大ごみ受付ですね。"
    assert answer["webhookEventId"] == sender.last_events[0]["webhookEventId"]
    assert json.loads(bot.raw_bodies[0])["destination"] == client.info()["botUserId"]

    assert sender.send(sender.events.follow(USER), signature="AAAA").status_code == 400
    assert len(bot.received) == 1

    assert sender.redeliver(original).status_code == 200
    again = bot.received[-1]
    assert again.webhook_event_id == original["webhookEventId"]
    assert again.delivery_context.is_redelivery is True
    # the reply token was already used, so the redelivered event's reply is refused like on LINE
    assert client.token_failures()[-1]["reason"] == "used"


def test_image_registers_content_the_bot_downloads(emu: EmulatorHandle, fake_bot: tuple[FakeBot, str]) -> None:
    _, callback_url = fake_bot
    client = EmulatorClient(emu.url)
    sender = WebhookSender(callback_url, SECRET, client)
    assert sender.image(USER, b"\xff\xd8\xff" + b"j" * 97).status_code == 200
    (answer,) = client.wait_for_messages(USER, 1, timeout=5)
    assert answer["message"]["text"] == "画像を受け取りました（100 バイト）"
    assert sender.postback(USER, "reserve", {"date": "2026-12-01"}).status_code == 200
    assert sender.location(USER, 35.53, 139.70).status_code == 200
    texts = [m["message"]["text"] for m in client.wait_for_messages(USER, 3, timeout=5)]
    assert texts[1:] == ["2026-12-01 で予約を受け付けました。", "位置を受け取りました: 35.53,139.7"]
    assert client.violations() == []
