"""The LINE emulator over HTTP, driven by the real line-bot-sdk client and by requests."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import requests
from line_fake_bot import TOKEN, USER
from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessagingApi,
    MessagingApiBlob,
    MulticastRequest,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from linebot.v3.messaging.exceptions import ApiException

from integrations.line.emulator import EmulatorClient, EmulatorHandle, run_emulator_in_thread

OTHER = "U" + "f" * 32


def _api(url: str, token: str = TOKEN) -> MessagingApi:
    return MessagingApi(ApiClient(Configuration(host=url, access_token=token)))


def _post(url: str, path: str, body: Any, token: str = TOKEN, **headers: str) -> requests.Response:
    return requests.post(url + path, json=body, headers={"Authorization": f"Bearer {token}", **headers}, timeout=10)


def test_reply_delivers_once_and_records_event_id(emu: EmulatorHandle, client: EmulatorClient) -> None:
    api = _api(emu.url)
    token = client.issue_reply_token(USER, "01JQ7Z0VJ0ZQ6K4R2D8V1M3N5P")
    response = api.reply_message_with_http_info(
        ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="一つ目"), TextMessage(text="二つ目")]))
    assert response.status_code == 200
    request_id = response.headers["x-line-request-id"]
    ids = [m.id for m in response.data.sent_messages]
    assert len(ids) == 2 and all(i.isdigit() for i in ids) and ids[0] != ids[1]

    records = client.messages(USER)["messages"]
    assert [r["message"]["text"] for r in records] == ["一つ目", "二つ目"]
    assert [r["messageId"] for r in records] == ids
    assert records[0]["seq"] < records[1]["seq"]
    for record in records:
        assert record["api"] == "reply"
        assert record["webhookEventId"] == "01JQ7Z0VJ0ZQ6K4R2D8V1M3N5P"
        assert record["requestId"] == request_id
        assert abs(record["timestamp"] / 1000 - time.time()) < 30

    # single use
    with pytest.raises(ApiException) as info:
        api.reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="again")]))
    assert info.value.status == 400
    assert '"Invalid reply token"' in info.value.body
    assert len(client.messages(USER)["messages"]) == 2
    assert [f["reason"] for f in client.token_failures()] == ["used"]
    # unknown token
    response = _post(emu.url, "/v2/bot/message/reply", {"replyToken": "nope", "messages": [{"type": "text", "text": "a"}]})
    assert response.status_code == 400 and response.json() == {"message": "Invalid reply token"}


def test_reply_token_expires_after_ttl() -> None:
    with run_emulator_in_thread(channel_access_token=TOKEN, reply_token_ttl=0.3) as emu:
        token = emu.emulator.issue_reply_token(USER, "E1")
        fresh = emu.emulator.issue_reply_token(USER, "E2")
        ok = _post(emu.url, "/v2/bot/message/reply", {"replyToken": fresh, "messages": [{"type": "text", "text": "a"}]})
        assert ok.status_code == 200
        time.sleep(0.45)
        late = _post(emu.url, "/v2/bot/message/reply", {"replyToken": token, "messages": [{"type": "text", "text": "b"}]})
        assert late.status_code == 400 and late.json()["message"] == "Invalid reply token"
        assert [r["message"]["text"] for r in emu.emulator.messages(USER)] == ["a"]
        assert emu.emulator.token_failures[-1]["reason"] == "expired"


def test_authentication(emu: EmulatorHandle) -> None:
    body = {"to": USER, "messages": [{"type": "text", "text": "a"}]}
    assert _post(emu.url, "/v2/bot/message/push", body, token="wrong").status_code == 401
    missing = requests.post(emu.url + "/v2/bot/message/push", json=body, timeout=10)
    assert missing.status_code == 401 and "message" in missing.json()
    with pytest.raises(ApiException) as info:
        _api(emu.url, "wrong").get_bot_info()
    assert info.value.status == 401
    assert emu.emulator.messages() == []


def test_invalid_body_is_400_in_line_shape_and_recorded(emu: EmulatorHandle, client: EmulatorClient) -> None:
    token = client.issue_reply_token(USER, "E1")
    body = {"replyToken": token, "messages": [{"type": "text"}, {"type": "texte", "text": "a"}]}
    response = _post(emu.url, "/v2/bot/message/reply", body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["message"] == "The request body has 2 error(s)"
    assert {d["property"] for d in payload["details"]} == {"messages[0].text", "messages[1].type"}
    assert all(d["message"] for d in payload["details"])
    violations = client.violations()
    assert len(violations) == 1 and violations[0]["path"] == "/v2/bot/message/reply"
    assert violations[0]["details"] == payload["details"]
    # the token was not consumed by the rejected request
    good = _post(emu.url, "/v2/bot/message/reply", {"replyToken": token, "messages": [{"type": "text", "text": "ok"}]})
    assert good.status_code == 200
    # malformed JSON is a violation too
    raw = requests.post(emu.url + "/v2/bot/message/push", data=b"{nope", timeout=10,
                        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    assert raw.status_code == 400 and len(client.violations()) == 2


def test_push_retry_key_is_idempotent(emu: EmulatorHandle, client: EmulatorClient) -> None:
    api = _api(emu.url)
    key = str(uuid.uuid4())
    first = api.push_message_with_http_info(PushMessageRequest(to=USER, messages=[TextMessage(text="通知")]),
                                            x_line_retry_key=key)
    assert first.status_code == 200
    accepted_id = first.headers["x-line-request-id"]
    for _ in range(2):
        with pytest.raises(ApiException) as info:
            api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="通知")]), x_line_retry_key=key)
        assert info.value.status == 409
        assert info.value.headers["x-line-accepted-request-id"] == accepted_id
    records = client.messages(USER)["messages"]
    assert len(records) == 1 and records[0]["retryKey"] == key and records[0]["api"] == "push"
    # a different key is a different request
    api.push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="通知")]), x_line_retry_key=str(uuid.uuid4()))
    assert len(client.messages(USER)["messages"]) == 2


def test_retry_key_must_be_a_uuid_and_is_not_for_reply(emu: EmulatorHandle, client: EmulatorClient) -> None:
    body = {"to": USER, "messages": [{"type": "text", "text": "a"}]}
    bad = _post(emu.url, "/v2/bot/message/push", body, **{"X-Line-Retry-Key": "not-a-uuid"})
    assert bad.status_code == 400
    token = client.issue_reply_token(USER, "E1")
    reply = _post(emu.url, "/v2/bot/message/reply", {"replyToken": token, "messages": body["messages"]},
                  **{"X-Line-Retry-Key": str(uuid.uuid4())})
    assert reply.status_code == 400
    assert len(client.violations()) == 2 and client.messages(USER)["messages"] == []


def test_multicast_delivers_to_each_user(emu: EmulatorHandle) -> None:
    api = _api(emu.url)
    api.multicast(MulticastRequest(to=[USER, OTHER], messages=[TextMessage(text="お知らせ")]))
    assert [r["api"] for r in emu.emulator.messages(USER)] == ["multicast"]
    assert [r["message"]["text"] for r in emu.emulator.messages(OTHER)] == ["お知らせ"]


def test_faults_fail_the_next_requests_then_recover(emu: EmulatorHandle, client: EmulatorClient) -> None:
    client.inject_fault("/v2/bot/message/reply", [429, 500, 503], retry_after=3)
    token = client.issue_reply_token(USER, "E1")
    body = {"replyToken": token, "messages": [{"type": "text", "text": "a"}]}
    first = _post(emu.url, "/v2/bot/message/reply", body)
    assert first.status_code == 429 and first.headers["Retry-After"] == "3" and "message" in first.json()
    assert _post(emu.url, "/v2/bot/message/reply", body).status_code == 500
    assert _post(emu.url, "/v2/bot/message/reply", body).status_code == 503
    # other paths were not affected, and the token survived the failures
    assert _post(emu.url, "/v2/bot/message/push", {"to": USER, "messages": body["messages"]}).status_code == 200
    assert _post(emu.url, "/v2/bot/message/reply", body).status_code == 200
    assert len(client.messages(USER)["messages"]) == 2
    # count repeats the statuses; globs select paths
    client.inject_fault("/v2/bot/message/*", [500], count=2)
    push = {"to": USER, "messages": body["messages"]}
    assert [_post(emu.url, "/v2/bot/message/push", push).status_code for _ in range(3)] == [500, 500, 200]
    assert client.stats()["pendingFaults"] == 0


def test_sdk_sees_fault_statuses(emu: EmulatorHandle, client: EmulatorClient) -> None:
    client.inject_fault("/v2/bot/message/push", [429])
    with pytest.raises(ApiException) as info:
        _api(emu.url).push_message(PushMessageRequest(to=USER, messages=[TextMessage(text="a")]))
    assert info.value.status == 429 and info.value.headers["Retry-After"] == "1"


def test_loading_animation_content_profile_and_info(emu: EmulatorHandle, client: EmulatorClient) -> None:
    api = _api(emu.url)
    response = api.show_loading_animation_with_http_info(ShowLoadingAnimationRequest(chat_id=USER, loading_seconds=10))
    assert response.status_code == 202
    assert client.loading_events()[0]["userId"] == USER
    bad = _post(emu.url, "/v2/bot/chat/loading/start", {"chatId": USER, "loadingSeconds": 61})
    assert bad.status_code == 400

    client.add_content("461230966842064897", b"\x89PNG\r\n\x1a\nfake", "image/png")
    blob = MessagingApiBlob(ApiClient(Configuration(host=emu.url, access_token=TOKEN)))
    assert blob.get_message_content("461230966842064897") == b"\x89PNG\r\n\x1a\nfake"
    raw = requests.get(emu.url + "/v2/bot/message/461230966842064897/content",
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert raw.headers["Content-Type"] == "image/png"
    with pytest.raises(ApiException) as info:
        blob.get_message_content("1")
    assert info.value.status == 404

    client.set_profile(USER, "川崎 花子", language="ja")
    profile = api.get_profile(USER)
    assert profile.display_name == "川崎 花子" and profile.user_id == USER
    info_ = api.get_bot_info()
    assert info_.user_id == emu.emulator.bot_user_id == client.info()["botUserId"]


def test_unknown_paths_are_404_line_style(emu: EmulatorHandle) -> None:
    response = _post(emu.url, "/v2/bot/richmenu", {"size": {"width": 2500, "height": 843}})
    assert response.status_code == 404 and response.json() == {"message": "Not found"}
    assert requests.get(emu.url + "/v2/bot/message/reply", timeout=10).status_code == 405


def test_long_poll_returns_when_a_message_arrives(emu: EmulatorHandle, client: EmulatorClient) -> None:
    start_seq = client.last_seq()
    timer = threading.Timer(0.3, lambda: _post(emu.url, "/v2/bot/message/push",
                                               {"to": USER, "messages": [{"type": "text", "text": "遅れて"}]}))
    timer.start()
    started = time.monotonic()
    found = client.wait_for_messages(USER, 1, timeout=5, after=start_seq)
    assert 0.2 < time.monotonic() - started < 4
    assert found[0]["message"]["text"] == "遅れて"
    started = time.monotonic()
    assert client.messages(USER, after=found[0]["seq"], wait=0.3)["messages"] == []
    assert time.monotonic() - started >= 0.25
    with pytest.raises(TimeoutError):
        client.wait_for_messages(OTHER, 1, timeout=0.3)
    timer.join()


def test_stats_and_reset(emu: EmulatorHandle, client: EmulatorClient) -> None:
    _post(emu.url, "/v2/bot/message/push", {"to": USER, "messages": [{"type": "text", "text": "a"}] * 2})
    token = client.issue_reply_token(OTHER, "E")
    _post(emu.url, "/v2/bot/message/reply", {"replyToken": token, "messages": [{"type": "text", "text": "b"}]})
    stats = client.stats()
    assert stats["requests"] == {"push": 1, "reply": 1}
    assert stats["perUser"][USER] == {"messages": 2, "push": 1}
    assert stats["perUser"][OTHER] == {"messages": 1, "reply": 1}
    assert stats["messages"] == 3 and stats["lastSeq"] == 3
    client.reset()
    assert client.stats()["messages"] == 0 and client.messages()["messages"] == []


def test_werkzeug_server_variant_serves_the_same_app() -> None:
    with run_emulator_in_thread(channel_access_token=TOKEN, server="werkzeug") as emu:
        token = EmulatorClient(emu.url).issue_reply_token(USER, "E")
        _api(emu.url).reply_message(ReplyMessageRequest(reply_token=token, messages=[TextMessage(text="a")]))
        assert len(emu.emulator.messages(USER)) == 1


@pytest.mark.slow
def test_throughput_of_simple_replies(emu: EmulatorHandle) -> None:
    """Measures reply requests/s over 4 kept-alive connections (client in the same process)."""
    tokens = [emu.emulator.issue_reply_token(USER, f"E{i}") for i in range(2000)]
    errors: list[int] = []

    def run(chunk: list[str]) -> None:
        session = requests.Session()
        for token in chunk:
            response = session.post(emu.url + "/v2/bot/message/reply", headers={"Authorization": f"Bearer {TOKEN}"},
                                    json={"replyToken": token, "messages": [{"type": "text", "text": "受け付けました"}]})
            if response.status_code != 200:
                errors.append(response.status_code)

    threads = [threading.Thread(target=run, args=(tokens[i::4],)) for i in range(4)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rate = len(tokens) / (time.perf_counter() - started)
    print(f"emulator: {rate:.0f} replies/s (requests client in-process)")
    assert errors == [] and len(emu.emulator.messages(USER)) == 2000
    assert rate > 300
