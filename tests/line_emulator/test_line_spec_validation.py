"""integrations.line.spec: request/webhook validation against LINE's OpenAPI files."""

from __future__ import annotations

import copy
import random
import statistics
import time
from typing import Any

import pytest
from linebot.v3.messaging import (
    ButtonsTemplate,
    CarouselColumn,
    CarouselTemplate,
    ConfirmTemplate,
    DatetimePickerAction,
    FlexBox,
    FlexBubble,
    FlexButton,
    FlexCarousel,
    FlexMessage,
    FlexText,
    ImageCarouselColumn,
    ImageCarouselTemplate,
    ImageMessage,
    LocationMessage,
    MessageAction,
    PostbackAction,
    QuickReply,
    QuickReplyItem,
    ReplyMessageRequest,
    StickerMessage,
    TemplateMessage,
    TextMessage,
    URIAction,
)

from integrations.line import spec

REPLY = "/v2/bot/message/reply"
URL = "https://www.city.kawasaki.jp/images/a.png"


def _msg_action(label: str = "ソファ", text: str = "ソファ") -> dict[str, Any]:
    return {"type": "message", "label": label, "text": text}


ALL_ACTIONS = [
    _msg_action(),
    {"type": "postback", "label": "住民票", "data": "proc=juminhyo", "displayText": "住民票"},
    {"type": "uri", "label": "市のサイト", "uri": "https://www.city.kawasaki.jp/"},
    {"type": "datetimepicker", "label": "日付", "data": "d", "mode": "date", "initial": "2026-12-01"},
    {"type": "camera", "label": "カメラ"},
    {"type": "cameraRoll", "label": "写真"},
    {"type": "location", "label": "位置情報"},
    {"type": "clipboard", "label": "コピー", "clipboardText": "044-200-2111"},
]

VALID_MESSAGES: dict[str, dict[str, Any]] = {
    "text": {"type": "text", "text": "こんにちは", "quickReply": {"items": [
        {"type": "action", "action": a} for a in ALL_ACTIONS]}},
    "text-emoji": {"type": "text", "text": "$ 川崎", "emojis": [{"index": 0, "productId": "5ac1bfd5040ab15980c9b435",
                                                              "emojiId": "001"}]},
    "textV2": {"type": "textV2", "text": "{user} さん", "substitution": {
        "user": {"type": "mention", "mentionee": {"type": "user", "userId": "U" + "a" * 32}}}},
    "sticker": {"type": "sticker", "packageId": "446", "stickerId": "1988"},
    "image": {"type": "image", "originalContentUrl": URL, "previewImageUrl": URL},
    "video": {"type": "video", "originalContentUrl": "https://example.com/a.mp4", "previewImageUrl": URL},
    "audio": {"type": "audio", "originalContentUrl": "https://example.com/a.m4a", "duration": 6000},
    "location": {"type": "location", "title": "川崎市役所", "address": "川崎市川崎区宮本町1",
                 "latitude": 35.5308, "longitude": 139.7029},
    "imagemap": {"type": "imagemap", "baseUrl": "https://example.com/map", "altText": "地図",
                 "baseSize": {"width": 1040, "height": 1040},
                 "actions": [{"type": "uri", "linkUri": "https://example.com/",
                              "area": {"x": 0, "y": 0, "width": 520, "height": 1040}},
                             {"type": "message", "text": "はい",
                              "area": {"x": 520, "y": 0, "width": 520, "height": 1040}}]},
    "buttons": {"type": "template", "altText": "選択", "template": {
        "type": "buttons", "title": "粗大ごみ", "text": "選んでください", "thumbnailImageUrl": URL,
        "defaultAction": ALL_ACTIONS[2], "actions": ALL_ACTIONS[:4]}},
    "confirm": {"type": "template", "altText": "確認", "template": {
        "type": "confirm", "text": "送信しますか？", "actions": [_msg_action("はい", "はい"), _msg_action("いいえ", "いいえ")]}},
    "carousel": {"type": "template", "altText": "候補", "template": {"type": "carousel", "columns": [
        {"title": f"候補{i}", "text": "説明", "actions": [ALL_ACTIONS[1]]} for i in range(10)]}},
    "image_carousel": {"type": "template", "altText": "画像", "template": {"type": "image_carousel", "columns": [
        {"imageUrl": URL, "action": {"type": "uri", "label": "開く", "uri": "https://example.com"}}]}},
    "flex-bubble": {"type": "flex", "altText": "カード", "contents": {
        "type": "bubble", "size": "mega",
        "hero": {"type": "image", "url": URL, "size": "full", "aspectRatio": "20:13"},
        "body": {"type": "box", "layout": "vertical", "contents": [
            {"type": "text", "text": "粗大ごみ", "weight": "bold", "size": "xl", "wrap": True},
            {"type": "text", "contents": [{"type": "span", "text": "手数料: "}, {"type": "span", "text": "500円"}]},
            {"type": "separator"},
            {"type": "box", "layout": "baseline", "contents": [
                {"type": "icon", "url": URL}, {"type": "text", "text": "受付中", "flex": 0}]},
            {"type": "filler"},
        ]},
        "footer": {"type": "box", "layout": "vertical", "contents": [
            {"type": "button", "style": "primary", "action": ALL_ACTIONS[1]}]},
        "action": ALL_ACTIONS[2]}},
    "flex-carousel": {"type": "flex", "altText": "候補", "contents": {"type": "carousel", "contents": [
        {"type": "bubble", "body": {"type": "box", "layout": "vertical",
                                    "contents": [{"type": "text", "text": f"候補{i}"}]}} for i in range(12)]}},
    "coupon": {"type": "coupon", "couponId": "01JYNW8JMQVFBNWW1CDBHD1QW9"},
}


def _reply(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"replyToken": "0f3779fba3b349968c5d07db31eab56f", "messages": list(messages)}


@pytest.mark.parametrize("name", sorted(VALID_MESSAGES))
def test_valid_example_of_every_message_type_is_accepted(name: str) -> None:
    body = _reply(VALID_MESSAGES[name])
    assert spec.validate_messaging_request("POST", REPLY, body) == []
    assert spec.reference_errors("messaging-api", "ReplyMessageRequest", body) == []


def test_push_multicast_broadcast_narrowcast_and_loading_bodies() -> None:
    text = VALID_MESSAGES["text"]
    assert spec.validate_messaging_request("POST", "/v2/bot/message/push", {"to": "U1", "messages": [text]}) == []
    assert spec.validate_messaging_request("POST", "/v2/bot/message/multicast",
                                           {"to": ["U1", "U2"], "messages": [text]}) == []
    assert spec.validate_messaging_request("POST", "/v2/bot/message/broadcast", {"messages": [text]}) == []
    narrow = {"messages": [text], "recipient": {"type": "operator", "and": [{"type": "audience", "audienceGroupId": 1}]},
              "filter": {"demographic": {"type": "gender", "oneOf": ["female"]}}}
    assert spec.validate_messaging_request("POST", "/v2/bot/message/narrowcast", narrow) == []
    assert spec.validate_messaging_request("POST", "/v2/bot/chat/loading/start", {"chatId": "U1", "loadingSeconds": 10}) == []
    bad = spec.validate_messaging_request("POST", "/v2/bot/chat/loading/start", {"chatId": "U1", "loadingSeconds": 65})
    assert [e.pointer for e in bad] == ["/loadingSeconds"]
    bad = spec.validate_messaging_request("POST", "/v2/bot/chat/loading/start", {"chatId": "U1", "loadingSeconds": 7})
    assert [e.pointer for e in bad] == ["/loadingSeconds"]
    bad = spec.validate_messaging_request("POST", "/v2/bot/message/narrowcast",
                                          {"messages": [text], "recipient": {"type": "nobody"}})
    assert [e.pointer for e in bad] == ["/recipient/type"]


def test_bodies_serialized_by_line_bot_sdk_models_are_accepted() -> None:
    quick = QuickReply(items=[QuickReplyItem(action=MessageAction(label="ソファ", text="ソファ")),
                              QuickReplyItem(action=DatetimePickerAction(label="日付", data="d", mode="date"))])
    messages = [
        TextMessage(text="こんにちは", quick_reply=quick),
        TemplateMessage(alt_text="選択", template=ButtonsTemplate(
            text="選んでください", actions=[PostbackAction(label="はい", data="yes"),
                                      URIAction(label="市のサイト", uri="https://www.city.kawasaki.jp/")])),
        TemplateMessage(alt_text="確認", template=ConfirmTemplate(
            text="よろしいですか", actions=[MessageAction(label="はい", text="はい"), MessageAction(label="いいえ", text="いいえ")])),
        FlexMessage(alt_text="カード", contents=FlexCarousel(contents=[FlexBubble(
            body=FlexBox(layout="vertical", contents=[FlexText(text="粗大ごみ"),
                                                      FlexButton(action=PostbackAction(label="申込", data="a"))]))])),
        StickerMessage(package_id="446", sticker_id="1988"),
    ]
    body = ReplyMessageRequest(reply_token="t", messages=messages).to_dict()
    assert spec.validate_messaging_request("POST", REPLY, body) == []
    more = [ImageMessage(original_content_url=URL, preview_image_url=URL),
            LocationMessage(title="市役所", address="川崎区", latitude=35.5, longitude=139.7),
            TemplateMessage(alt_text="c", template=CarouselTemplate(columns=[CarouselColumn(
                text="a", actions=[MessageAction(label="a", text="a")])])),
            TemplateMessage(alt_text="i", template=ImageCarouselTemplate(columns=[ImageCarouselColumn(
                image_url=URL, action=MessageAction(label="a", text="a"))]))]
    assert spec.validate_messaging_request("POST", REPLY, ReplyMessageRequest(reply_token="t", messages=more).to_dict()) == []


def _qr(items: int, label: str = "ソファ") -> dict[str, Any]:
    return {"type": "text", "text": "選んでください",
            "quickReply": {"items": [{"type": "action", "action": _msg_action(label)} for _ in range(items)]}}


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "text without text": (_reply({"type": "text"}), "/messages/0/text"),
    "unknown message type": (_reply({"type": "txt", "text": "a"}), "/messages/0/type"),
    "quick reply with 14 items": (_reply(_qr(14)), "/messages/0/quickReply/items"),
    "label of 21 chars": (_reply(_qr(1, "あ" * 21)), "/messages/0/quickReply/items/0/action/label"),
    "6 messages": (_reply(*[{"type": "text", "text": "a"}] * 6), "/messages"),
    "no messages": (_reply(), "/messages"),
    "missing reply token": ({"messages": [{"type": "text", "text": "a"}]}, "/replyToken"),
    "unknown action type": (_reply({"type": "text", "text": "a", "quickReply": {"items": [
        {"type": "action", "action": {"type": "tap", "label": "a"}}]}}), "/messages/0/quickReply/items/0/action/type"),
    "unknown template type": (_reply({"type": "template", "altText": "a", "template": {"type": "list", "text": "a"}}),
                              "/messages/0/template/type"),
    "unknown flex container": (_reply({"type": "flex", "altText": "a", "contents": {"type": "page"}}),
                               "/messages/0/contents/type"),
    "unknown flex component": (_reply({"type": "flex", "altText": "a", "contents": {"type": "bubble", "body": {
        "type": "box", "layout": "vertical", "contents": [{"type": "txt", "text": "a"}]}}}),
        "/messages/0/contents/body/contents/0/type"),
    "flex box without layout": (_reply({"type": "flex", "altText": "a", "contents": {"type": "bubble", "body": {
        "type": "box", "contents": []}}}), "/messages/0/contents/body/layout"),
    "bad flex enum": (_reply({"type": "flex", "altText": "a", "contents": {"type": "bubble", "size": "huge"}}),
                      "/messages/0/contents/size"),
    "buttons with 5 actions": (_reply({"type": "template", "altText": "a", "template": {
        "type": "buttons", "text": "a", "actions": [_msg_action()] * 5}}), "/messages/0/template/actions"),
    "message action without text": (_reply(_qr(1) | {"quickReply": {"items": [
        {"type": "action", "action": {"type": "message", "label": "a"}}]}}), "/messages/0/quickReply/items/0/action/text"),
    "postback data too long": (_reply({"type": "template", "altText": "a", "template": {
        "type": "confirm", "text": "a", "actions": [{"type": "postback", "label": "a", "data": "x" * 301},
                                                    _msg_action()]}}), "/messages/0/template/actions/0/data"),
    "text is a number": (_reply({"type": "text", "text": 5}), "/messages/0/text"),
    "notificationDisabled not bool": (_reply({"type": "text", "text": "a"}) | {"notificationDisabled": "yes"},
                                      "/notificationDisabled"),
    "image url not a uri": (_reply({"type": "image", "originalContentUrl": "not a url", "previewImageUrl": URL}),
                            "/messages/0/originalContentUrl"),
    "sender name too long": (_reply({"type": "text", "text": "a", "sender": {"name": "あ" * 21}}),
                             "/messages/0/sender/name"),
    "text too long": (_reply({"type": "text", "text": "あ" * 5001}), "/messages/0/text"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_requests_are_rejected_with_a_pointer(case: str) -> None:
    body, pointer = INVALID[case]
    errors = spec.validate_messaging_request("POST", REPLY, body)
    assert errors, case
    assert pointer in [e.pointer for e in errors]
    # the jsonschema library on the same translated schema agrees that it is invalid
    assert spec.reference_errors("messaging-api", "ReplyMessageRequest", body)


def test_line_style_property_and_detail() -> None:
    (error,) = spec.validate_messaging_request("POST", REPLY, _reply({"type": "text", "text": "a"}, {"type": "text"}))
    assert error.pointer == "/messages/1/text"
    assert error.line_property == "messages[1].text"
    assert error.as_detail() == {"message": error.message, "property": "messages[1].text"}


def test_documented_limits_are_an_explicit_overlay() -> None:
    # The OpenAPI file itself has no maximum for an action label; the overlay (LINE's reference) has.
    body = _reply(_qr(1, "あ" * 21))
    assert spec.validate_messaging_request("POST", REPLY, body, documented_limits=False) == []
    assert spec.validate_messaging_request("POST", REPLY, body)
    # constraints that are in the OpenAPI file apply either way
    assert spec.validate_messaging_request("POST", REPLY, _reply(_qr(14)), documented_limits=False)


def test_nullable_is_translated() -> None:
    membership = {"membershipId": 1, "title": "a", "description": "b", "benefits": ["c"], "price": 100.0,
                  "currency": "JPY", "memberCount": 1, "memberLimit": None, "isInAppPurchase": False,
                  "isPublished": True}
    assert spec.validate_messaging_schema("Membership", membership) == []
    errors = spec.validate_messaging_schema("Membership", membership | {"memberLimit": "many"})
    assert [e.pointer for e in errors] == ["/memberLimit"]
    # non-nullable properties still reject null
    assert spec.validate_messaging_schema("Membership", membership | {"memberCount": None})


def test_operations_are_found_by_method_and_concrete_path() -> None:
    op = spec.find_operation("get", "/v2/bot/message/123456/content")
    assert op is not None and op.operation_id == "getMessageContent" and op.host == "api-data"
    assert spec.find_operation("POST", REPLY).body_schema == "ReplyMessageRequest"  # type: ignore[union-attr]
    # a body operation that the emulator does not serve is still validated generically
    rich_menu = {"size": {"width": 2500, "height": 843}, "chatBarText": "メニュー", "areas": [
        {"bounds": {"x": 0, "y": 0, "width": 2500, "height": 843}, "action": _msg_action()}]}
    assert spec.validate_messaging_request("POST", "/v2/bot/richmenu", rich_menu) == []
    rich_menu["chatBarText"] = "あ" * 15
    rich_menu["areas"][0]["action"] = {"type": "zzz"}
    rich_menu_errors = spec.validate_messaging_request("POST", "/v2/bot/richmenu", rich_menu)
    assert {e.pointer for e in rich_menu_errors} == {"/chatBarText", "/areas/0/action/type"}
    assert spec.validate_messaging_request("GET", "/v2/bot/info", None) == []
    with pytest.raises(spec.UnknownOperationError):
        spec.validate_messaging_request("POST", "/v2/bot/nothing", {})


def _mutations(value: Any, rng: random.Random) -> list[Any]:
    """Variants of a valid body: a key removed, a value replaced by another type or a long string."""
    paths: list[list[Any]] = []

    def walk(node: Any, path: list[Any]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, [*path, k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, [*path, i])

    walk(value, [])
    out = []
    for path in rng.sample(paths[1:], min(25, len(paths) - 1)):
        for replacement in (None, 7, "x" * 400, [], {}, "__delete__"):
            mutated = copy.deepcopy(value)
            parent = mutated
            for part in path[:-1]:
                parent = parent[part]
            if replacement == "__delete__":
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent.pop(path[-1])
            else:
                parent[path[-1]] = replacement
            out.append(mutated)
    return out


def test_fast_path_agrees_with_jsonschema_on_mutated_bodies() -> None:
    rng = random.Random(20261124)
    checked = invalid = 0
    for name in sorted(VALID_MESSAGES):
        for body in _mutations(_reply(VALID_MESSAGES[name]), rng):
            fast = spec.validate_messaging_request("POST", REPLY, body)
            reference = spec.reference_errors("messaging-api", "ReplyMessageRequest", body)
            assert bool(fast) == bool(reference), (name, body, fast, reference)
            checked += 1
            invalid += bool(fast)
    assert checked > 500 and 0 < invalid < checked


def test_typical_reply_validates_well_under_a_millisecond() -> None:
    body = _reply({"type": "text", "text": "粗大ごみの申込みですね。品目を選んでください。", "quickReply": {"items": [
        {"type": "action", "action": _msg_action(label, label)} for label in ("ソファ", "ベッド", "自転車", "たんす", "その他")]}})
    spec.validate_messaging_request("POST", REPLY, body)
    timings = []
    for _ in range(300):
        started = time.perf_counter()
        assert spec.validate_messaging_request("POST", REPLY, body) == []
        timings.append(time.perf_counter() - started)
    assert statistics.median(timings) < 0.001


WEBHOOK_TEXT_EVENT = {
    "type": "message", "mode": "active", "timestamp": 1764000000000, "webhookEventId": "01JQ7Z0VJ0ZQ6K4R2D8V1M3N5P",
    "deliveryContext": {"isRedelivery": False}, "source": {"type": "user", "userId": "U" + "a" * 32},
    "replyToken": "r", "message": {"type": "text", "id": "1", "text": "こんにちは", "quoteToken": "q"},
}


def test_webhook_validation_enforces_event_and_content_discriminators() -> None:
    body = {"destination": "U" + "b" * 32, "events": [WEBHOOK_TEXT_EVENT]}
    assert spec.validate_webhook_body(body) == []
    assert spec.validate_webhook_body({"destination": "U" + "b" * 32, "events": []}) == []
    cases = {
        "/events/0/type": WEBHOOK_TEXT_EVENT | {"type": "messages"},
        "/events/0/message/type": WEBHOOK_TEXT_EVENT | {"message": {"type": "txt", "id": "1"}},
        "/events/0/message/text": WEBHOOK_TEXT_EVENT | {"message": {"type": "text", "id": "1", "quoteToken": "q"}},
        "/events/0/source/type": WEBHOOK_TEXT_EVENT | {"source": {"type": "person"}},
        "/events/0/mode": WEBHOOK_TEXT_EVENT | {"mode": "passive"},
        "/events/0/deliveryContext/isRedelivery": WEBHOOK_TEXT_EVENT | {"deliveryContext": {}},
        "/events/0/follow": WEBHOOK_TEXT_EVENT | {"type": "follow"},
    }
    for pointer, event in cases.items():
        errors = spec.validate_webhook_body({"destination": "U" + "b" * 32, "events": [event]})
        assert pointer in [e.pointer for e in errors], (pointer, errors)
    errors = spec.validate_webhook_body({"destination": "bot", "events": [WEBHOOK_TEXT_EVENT]})
    assert [e.pointer for e in errors] == ["/destination", "/destination"]  # pattern and length


def test_label_limits_depend_on_where_the_action_is() -> None:
    def buttons(label: str) -> dict[str, Any]:
        return _reply({"type": "template", "altText": "a", "template": {
            "type": "buttons", "text": "a", "actions": [_msg_action(label)]}})

    def flex(label: str) -> dict[str, Any]:
        return _reply({"type": "flex", "altText": "a", "contents": {"type": "bubble", "footer": {
            "type": "box", "layout": "vertical", "contents": [{"type": "button", "action": _msg_action(label)}]}}})

    def image_carousel(label: str) -> dict[str, Any]:
        return _reply({"type": "template", "altText": "a", "template": {"type": "image_carousel", "columns": [
            {"imageUrl": URL, "action": _msg_action(label)}]}})

    assert spec.validate_messaging_request("POST", REPLY, buttons("あ" * 20)) == []
    assert [e.pointer for e in spec.validate_messaging_request("POST", REPLY, buttons("あ" * 21))] == [
        "/messages/0/template/actions/0/label"]
    assert spec.validate_messaging_request("POST", REPLY, flex("あ" * 40)) == []
    assert spec.validate_messaging_request("POST", REPLY, flex("あ" * 41))
    assert spec.validate_messaging_request("POST", REPLY, image_carousel("あ" * 12)) == []
    assert spec.validate_messaging_request("POST", REPLY, image_carousel("あ" * 13))
