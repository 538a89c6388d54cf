"""A My Number (or card number) sent in chat is never stored, logged, echoed or forwarded."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from sqlalchemy import inspect, text

from bot.logging_setup import JsonFormatter
from bot.privacy import _mynumber_ok, redact_sensitive

USER = "U" + "b2" * 16
MYNUMBER = "123456789018"  # passes the check digit
CARD = "4111111111111111"  # passes Luhn (a well-known test number)


def test_check_digits() -> None:
    assert _mynumber_ok(MYNUMBER)
    assert not _mynumber_ok("123456789012")
    assert redact_sensitive("123456789012")[1] == ()  # 12 digits with a wrong check digit are left alone
    assert redact_sensitive("〒2100004 電話044-123-4567")[1] == ()
    for written in ("１２３４５６７８９０１８", "1234-5678-9018", "1234 5678 9018", "番号は123456789018です"):
        cleaned, kinds = redact_sensitive(written)
        assert kinds == ("mynumber",) and "9018" not in cleaned, written
    assert redact_sensitive("4111-1111-1111-1111")[1] == ("card",)


def _digits_in(blob: str) -> bool:
    flat = re.sub(r"[\s\-‐－ー.・/]", "", blob)
    return MYNUMBER in flat or CARD in flat


def _redis_dump(client) -> str:
    out = []
    for key in client.scan_iter(count=1000):
        kind = client.type(key).decode()
        if kind == "string":
            out.append(str(client.get(key)))
        elif kind == "hash":
            out.append(str(client.hgetall(key)))
        elif kind == "stream":
            out.append(str(client.xrange(key)))
        elif kind == "zset":
            out.append(str(client.zrange(key, 0, -1)))
        out.append(key.decode(errors="replace"))
    return "\n".join(out)


def _db_dump(db) -> str:
    out = []
    with db.session() as s:
        for table in inspect(db.engine).get_table_names():
            for row in s.execute(text(f'SELECT * FROM "{table}"')):
                out.append(json.dumps([str(v) for v in row], ensure_ascii=False))
    return "\n".join(out)


@pytest.fixture
def all_logs():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # even DEBUG must not carry the number
    yield stream
    root.removeHandler(handler)
    root.setLevel(old)


def test_my_number_in_chat_reaches_no_store_log_or_reply(stack, all_logs) -> None:
    sent = [f"マイナンバーは{MYNUMBER}です", "１２３４ ５６７８ ９０１８", f"カード {CARD[:4]}-{CARD[4:8]}-{CARD[8:12]}-{CARD[12:]}"]
    for body in sent:
        assert stack.sender.text(USER, body).status_code == 200
    answers = stack.wait_answers(USER, 6)  # two messages for each
    rendered = json.dumps([a["message"] for a in answers], ensure_ascii=False)
    assert "送らないでください" in rendered and "ぴったりサービス" in rendered
    assert not _digits_in(rendered)
    assert not _digits_in(_redis_dump(stack.services.redis))
    assert not _digits_in(_db_dump(stack.services.db))
    assert not _digits_in(all_logs.getvalue())
    assert "sensitive number removed" in all_logs.getvalue()  # the log says what happened, not what was sent


def test_my_number_inside_a_form_does_not_become_an_answer(stack, resident) -> None:
    r = resident(USER)
    r.say("粗大ごみを出したい")
    r.press("このLINEで申し込む")
    r.say("ソファ1つ")
    assert "郵便番号" in r.text_of()
    r.say(f"番号は{MYNUMBER}")
    assert "送らないでください" in r.text_of() and "番号を入れずに" in r.text_of()
    r.say("2100004")  # the form still waits for the same question
    assert "宮本町" in r.text_of()
