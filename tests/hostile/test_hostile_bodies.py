"""Correctly signed but hostile bodies: generated from webhook.yml, then mutated or replaced by junk.

Properties, checked per example while the worker runs:
* never a 5xx; the status is what a webhook must answer (200 for a JSON object whose `events` is a
  list, 400 for anything else, 413 over the size limit);
* every queued event is handled: the queue drains and nothing lands in the dead-letter stream
  (a handler exception would put it there);
* every Messaging API request is valid against messaging-api.yml (emulator.violations == []);
* afterwards a normal signed message is still answered.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest
import requests
from hostile_schema_gen import (
    EVENT_TYPES,
    USER_IDS,
    SchemaStrategies,
    encode,
    hostile_text,
    mutate,
    nested,
    raw_junk,
)
from hostile_stack import SECRET
from hostile_tally import timed, tried
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from bot.webhook import MAX_JSON_DEPTH
from integrations.line.webhook_sender import sign

HOSTILE = settings(derandomize=True, deadline=None, database=None, max_examples=150,
                   suppress_health_check=list(HealthCheck), print_blob=False)
S = SchemaStrategies()
# The worker threads use `random` (lease rebalancing) while hypothesis draws, and the schema strategies
# have long reprs: neither is a problem of the inputs.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning",
                                        "ignore::hypothesis.errors.HypothesisDeprecationWarning")


def expected_status(body: bytes, limit: int) -> int:
    """What the webhook must answer for a correctly signed body (the contract, not the code)."""
    if len(body) > limit:
        return 413
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return 400
    if _depth(payload) > MAX_JSON_DEPTH:
        return 400
    if not isinstance(payload, dict) or not isinstance(payload.get("events", []), list):
        return 400
    return 200


def _depth(value: object) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, depth)
            stack += [(child, depth + 1) for child in (node.values() if isinstance(node, dict) else node)]
    return deepest


def _post_and_settle(hstack, body: bytes) -> int:
    """POST a signed body, wait for the worker, and check nothing went to the dead-letter stream."""
    dead = hstack.dead_letters()
    resp = hstack.post(body)
    status = resp.status_code
    assert status < 500, (status, resp.get_data()[:300])
    hstack.wait_drained()
    assert hstack.dead_letters() == dead, hstack.redis.xrevrange(hstack.services.queue.dead_letter_key, count=1)
    return status


def _user_event(event: dict) -> bool:
    source = event.get("source")
    return isinstance(source, dict) and source.get("type") == "user" and isinstance(source.get("userId"), str)


def test_every_event_type_in_the_spec_is_accepted_and_handled(hstack) -> None:
    types: Counter[str] = Counter()

    def check(payload) -> None:
        hstack.prepare(payload)
        body = encode(payload)
        note(f"body={body[:2000]!r}")
        tried("valid body from webhook.yml")
        seq = hstack.line.last_seq
        assert _post_and_settle(hstack, body) == 200
        sent_to: Counter[str] = Counter(m["userId"] for m in hstack.line.messages(after=seq))
        must_answer: set[str] = set()
        for event in payload["events"]:
            types[event["type"]] += 1
            tried(f"valid event: {event['type']}")
            event_id = event["webhookEventId"]
            assert hstack.redis.exists(hstack.services.queue.seen_key(event_id)), f"event {event_id} not accepted"
            active_user = _user_event(event) and event["mode"] == "active"
            if event["type"] in ("message", "postback") and active_user:
                must_answer.add(event["source"]["userId"])
            elif event["mode"] == "standby":
                # LINE: in standby "the bot server that received this webhook event shouldn't send any messages"
                assert hstack.replies_for(event_id) == [], f"standby {event['type']} was answered"
        for event in payload["events"]:
            if _user_event(event) and event["source"]["userId"] not in must_answer and event["type"] != "follow":
                assert sent_to[event["source"]["userId"]] == 0, f"answered an event that needs no answer: {event}"
        for user in must_answer:
            turns = {e["webhookEventId"]: hstack.services.store.turn(e["webhookEventId"]) for e in payload["events"]}
            assert sent_to[user] > 0, f"a message or postback of {user} got no answer; turns: {turns}; " \
                                      f"state: {hstack.diagnose()}"

    @HOSTILE
    @given(payload=S.body(st.lists(st.one_of(S.event(), S.event("message")), max_size=5)))
    def mixed(payload) -> None:
        check(payload)

    def one_type(event_type: str):
        @settings(HOSTILE, max_examples=8)
        @given(payload=S.body(st.lists(S.event(event_type), min_size=1, max_size=3)))
        def run(payload) -> None:
            check(payload)

        return run

    with timed("valid bodies, all event types"):
        mixed()
        for event_type in EVENT_TYPES:  # every type, whatever the mixed run happened to draw
            one_type(event_type)()
    assert set(types) == set(EVENT_TYPES), f"event types never generated: {set(EVENT_TYPES) - set(types)}"
    hstack.assert_still_answers()


def test_mutated_bodies_never_5xx_and_never_poison_the_worker(hstack) -> None:
    limit = hstack.services.settings.max_body_bytes

    @settings(HOSTILE, max_examples=300)
    @given(mutated=S.body(st.lists(S.event(), min_size=1, max_size=4)).flatmap(mutate),
           how=st.sampled_from(["utf8", "ascii_escaped", "surrogatepass", "pretty_bom"]))
    def run(mutated, how) -> None:
        payload, applied = mutated
        hstack.prepare(payload)
        body = encode(payload, how)
        note(f"mutations={applied} encoding={how} body={body[:2000]!r}")
        for name in applied:
            tried(f"mutation: {name}")
        tried(f"encoding: {how}")
        assert _post_and_settle(hstack, body) == expected_status(body, limit)

    with timed("mutated bodies"):
        run()
    assert hstack.line.violations == []
    hstack.assert_still_answers()


def test_junk_bodies_get_400_and_never_5xx(hstack) -> None:
    limit = hstack.services.settings.max_body_bytes

    @settings(HOSTILE, max_examples=200)
    @given(junk=raw_junk())
    def run(junk) -> None:
        note(repr(junk))
        tried(f"junk: {junk.family}")
        assert _post_and_settle(hstack, junk.body) == expected_status(junk.body, limit)

    with timed("junk bodies"):
        run()
        # Every nesting depth around the interpreter's recursion limit, whatever hypothesis drew.
        for depth in [MAX_JSON_DEPTH - 4, MAX_JSON_DEPTH - 3, MAX_JSON_DEPTH - 2, 100, 500, 900, 950, 960, 970,
                      975, 980, 985, 990, 995, 1000, 1100, 5000, 100_000]:
            for opener in "[{":
                body = nested(depth, opener)
                tried("junk: deep_nesting")
                assert _post_and_settle(hstack, body) == expected_status(body, limit), (depth, opener)
    hstack.assert_still_answers()


@pytest.mark.parametrize("size", ["limit", "limit+1", "5MB"])
def test_body_size_limit_gives_a_clear_413(hstack, size: str) -> None:
    limit = hstack.services.settings.max_body_bytes
    event = hstack.sender.events.text(USER_IDS[0], "こんにちは")
    head = json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False).encode()
    target = {"limit": limit, "limit+1": limit + 1, "5MB": 5 * 1024 * 1024}[size]
    body = head[:-1] + b" " * (target - len(head)) + b"}"
    assert len(body) == target
    tried(f"size: {size}")
    resp = hstack.post(body)
    if target <= limit:
        assert resp.status_code == 200
        assert len(hstack.line.wait_for_messages(USER_IDS[0], timeout=20, count=1)) >= 1
    else:
        assert resp.status_code == 413
        assert "capacity" in resp.get_json()["message"] or "large" in resp.get_json()["message"].lower()
        assert not hstack.redis.exists(hstack.services.queue.seen_key(event["webhookEventId"]))
    hstack.wait_drained()
    hstack.assert_still_answers()


def test_texts_of_any_length_and_script_are_answered_exactly_once(hstack) -> None:
    """0 to 20,000 characters with emoji/ZWJ/RTL/NUL/lone surrogates, over real HTTP, real reply tokens."""
    session = requests.Session()

    @settings(HOSTILE, max_examples=60)
    @given(text=hostile_text(20_000), user=st.sampled_from(USER_IDS), ascii_json=st.booleans())
    def run(text, user, ascii_json) -> None:
        event = hstack.sender.events.text(user, text)
        body = encode({"destination": hstack.sender.destination, "events": [event]},
                      "ascii_escaped" if ascii_json else "utf8")
        note(f"len={len(text)} text[:200]={text[:200]!r}")
        tried("text: 0-20000 chars, hostile characters")
        resp = session.post(hstack.callback_url, data=body, timeout=10,
                            headers={"X-Line-Signature": sign(body, SECRET), "Content-Type": "application/json"})
        assert resp.status_code == 200, resp.text
        hstack.wait_drained()
        replies = hstack.replies_for(event["webhookEventId"])
        assert replies, "a text message got no answer"
        assert hstack.reply_requests_for(event["webhookEventId"]) == 1
        assert len(replies) <= 5

    with timed("texts 0-20000 chars"):
        run()
    assert hstack.line.violations == []
    hstack.assert_still_answers()


def test_hundred_event_bodies_and_empty_bodies(hstack) -> None:
    one_user = USER_IDS[1]
    before = len(hstack.line.messages(one_user))
    events = [hstack.sender.events.text(one_user, f"メッセージ{i}") for i in range(100)]
    tried("100-event body (one user)")
    assert hstack.post(encode({"destination": hstack.sender.destination, "events": events})).status_code == 200
    many = [hstack.sender.events.text("U" + uuid.uuid4().hex, "ヘルプ") for _ in range(100)]  # users seen nowhere else
    tried("100-event body (100 users)")
    assert hstack.post(encode({"destination": hstack.sender.destination, "events": many})).status_code == 200
    for empty in (b'{"destination":"U' + b"0" * 32 + b'","events":[]}', b"{}", b'{"events":[{},{},{}]}'):
        tried("empty body")
        assert hstack.post(empty).status_code == 200
    hstack.wait_drained(120)
    answered = [m["webhookEventId"] for m in hstack.line.messages(one_user)[before:]]
    ids = [e["webhookEventId"] for e in events]
    assert list(dict.fromkeys(answered)) == ids, "one user's 100 events were not answered once each, in order"
    for event in many:
        user = event["source"]["userId"]
        assert hstack.reply_requests_for(event["webhookEventId"]) == 1, hstack.line.messages(user)
    hstack.assert_still_answers()


def test_duplicate_webhook_event_ids_are_answered_once(hstack) -> None:
    @settings(HOSTILE, max_examples=30)
    @given(copies=st.lists(st.integers(0, 3), min_size=2, max_size=12), redeliver=st.booleans())
    def run(copies, redeliver) -> None:
        # copies[i] picks one of four events: ids repeat inside one body and across bodies.
        user = USER_IDS[2]
        events = [hstack.sender.events.text(user, f"重複{i}") for i in range(4)]
        chosen = [dict(events[i], deliveryContext={"isRedelivery": redeliver and n > 0}) for n, i in enumerate(copies)]
        half = len(chosen) // 2
        for part in (chosen[:half], chosen[half:], chosen):
            tried("duplicate webhookEventIds")
            assert hstack.post(encode({"destination": hstack.sender.destination, "events": part})).status_code == 200
        hstack.wait_drained()
        for i in set(copies):
            assert hstack.reply_requests_for(events[i]["webhookEventId"]) == 1, f"event {i} answered twice or never"

    with timed("duplicate ids"):
        run()
    hstack.assert_still_answers()


def test_standby_mode_events_are_not_answered(hstack) -> None:
    """LINE: in standby "the bot server that received this webhook event shouldn't send any messages"."""
    user = "U" + "5d" * 16
    events = [dict(hstack.sender.events.text(user, "ヘルプ"), mode="standby"),
              dict(hstack.sender.events.follow(user), mode="standby"),
              dict(hstack.sender.events.postback(user, "action=menu"), mode="standby")]
    tried("standby-mode events", len(events))
    assert hstack.post(encode({"destination": hstack.sender.destination, "events": events})).status_code == 200
    hstack.wait_drained()
    active = hstack.sender.events.text(user, "ヘルプ")
    assert hstack.post(encode({"destination": hstack.sender.destination, "events": [active]})).status_code == 200
    hstack.line.wait_for_messages(user, timeout=20, count=1)
    hstack.wait_drained()
    assert {m["webhookEventId"] for m in hstack.line.messages(user)} == {active["webhookEventId"]}


@pytest.mark.parametrize("case", ["surrogate_text", "surrogate_id", "surrogate_key", "huge_timestamp",
                                  "depth_near_recursion_limit"])
def test_inputs_that_once_broke_the_webhook(hstack, case: str) -> None:
    """Bugs the fuzzing found (fixed in bot/webhook.py and bot/events.py), pinned as plain examples."""
    user = "U" + "9f" * 16
    event = hstack.sender.events.text(user, "ヘルプ")
    if case == "surrogate_text":
        event["message"]["text"] = "ごみ\ud800の日\udfff"
    elif case == "surrogate_id":
        event["webhookEventId"] = "01SURROGATE\ud83d" + event["webhookEventId"][12:]
    elif case == "surrogate_key":
        event["message"]["\udc00extra"] = 1
    elif case == "huge_timestamp":
        event["timestamp"] = 10**400
    tried(f"regression: {case}")
    if case == "depth_near_recursion_limit":
        # Where json.loads still succeeds but json.dumps for the queue hits the recursion limit depends
        # on the stack depth of the caller, so every depth around the limit is tried.
        statuses = {depth: _post_and_settle(hstack, nested(depth)) for depth in range(850, 1010)}  # was a 500
        assert set(statuses.values()) == {400}, statuses  # deeper than MAX_JSON_DEPTH
        return
    hstack.prepare({"events": [event]}) if case != "surrogate_id" else None
    body = encode({"destination": hstack.sender.destination, "events": [event]}, "ascii_escaped")
    before = len(hstack.line.messages(user))
    assert _post_and_settle(hstack, body) == 200  # surrogates: was a 500 (Redis could not encode the str)
    # huge timestamp: was an OverflowError in the worker, three retries, then the dead-letter stream
    assert len(hstack.line.messages(user)) > before, "the resident got no answer"
    assert hstack.line.violations == []
