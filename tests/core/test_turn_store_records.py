"""Turn records: the answer is kept only until it is sent; the status stays to drop re-runs."""

from __future__ import annotations

import uuid

import redis

from bot.turn_store import TurnStore


def test_a_sent_turn_keeps_its_status_but_not_the_answer(redis_url) -> None:
    client = redis.Redis.from_url(redis_url)
    store = TurnStore(client, prefix=f"kbts{uuid.uuid4().hex[:6]}", session_ttl_s=60, form_resume_ttl_s=60)
    event_id = f"E{uuid.uuid4().hex}"
    answer = [{"type": "text", "text": "川崎 太郎 様の申込を受け付けました"}]
    store.commit(event_id=event_id, user_id="U" + "2" * 32, session={"a": 1}, formsave=None, messages=answer,
                 sending="reply")
    record, session, _ = store.begin(event_id, "U" + "2" * 32)
    assert record is not None and record.status == "sending" and record.method == "reply"
    assert record.messages == answer and session == {"a": 1}  # a crash now re-sends exactly this
    store.mark(event_id, "sent", "reply")
    record = store.turn(event_id)
    assert record is not None and record.status == "sent" and record.messages == []
    assert "川崎" not in str(client.hgetall(f"{store.prefix}:turn:{event_id}"))
