"""Hand-off cards and variant questions through the pure conversation core (no LINE, no SQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from itertools import count

import pytest

from bot.catalog.service import catalog_from_file
from bot.conversation.core import Skills, TurnContext, handle_turn
from bot.conversation.incoming import Incoming
from bot.handoff.cards import HANDOFF_CHANNELS, counter_card, handoff_card
from bot.handoff.links import LinkIssuer
from bot.handoff.variants import SESSION_KEY, match_choice, variants_of
from bot.procedure_skill import ProcedureSkill
from bot.qr.codes import StartTarget
from integrations.line.spec import validate_messaging_request

REPLY = "/v2/bot/message/reply"
CATALOG = catalog_from_file()
ISSUER = LinkIssuer("unit-secret", "https://bot.example.jp")
_ids = count()


@pytest.fixture(scope="module")
def nlu():
    from bot.nlu.embedded import EmbeddedNlu

    return EmbeddedNlu.load_or_train()


def _skills(nlu, codes: dict[str, StartTarget] | None = None) -> Skills:
    skills = Skills()
    ProcedureSkill(parse=nlu.parse, catalog=lambda: CATALOG, links=ISSUER, user_salt="salt",
                   start_codes=(codes or {}).get).register(skills)
    return skills


def _in(kind: str, **kw) -> Incoming:
    return Incoming(kind=kind, user_id="U" + "1" * 32, event_id=f"ev{next(_ids)}", timestamp_ms=0, **kw)


def _valid(messages: list[dict]) -> None:
    assert validate_messaging_request("POST", REPLY, {"replyToken": "t", "messages": messages}) == []


def _dump(messages) -> str:
    return json.dumps(messages, ensure_ascii=False)


def _uris(messages) -> list[str]:
    return [a["uri"] for a in _actions(messages) if a.get("type") == "uri"]


def _actions(node) -> list[dict]:
    found = []
    if isinstance(node, dict):
        if isinstance(node.get("action"), dict):
            found.append(node["action"])
        for v in node.values():
            found += _actions(v)
    elif isinstance(node, list):
        for v in node:
            found += _actions(v)
    return found


def _quick(messages, label: str) -> str:
    items = messages[-1]["quickReply"]["items"]
    return next(i["action"]["data"] for i in items if i["action"]["label"] == label)


@pytest.mark.parametrize("proc", [p for p in CATALOG.procedures if p.channel != "chat"], ids=lambda p: p.id)
def test_every_card_is_valid_for_line_and_hides_unverified_fees(proc) -> None:
    link = ISSUER.issue(procedure_id=proc.id, channel=proc.channel, target="https://example.jp/x",
                        user_hash="h", now=datetime.now(UTC), event_id="e")[0]
    cards = [counter_card(proc)] + ([handoff_card(proc, link)] if proc.channel in HANDOFF_CHANNELS else [])
    _valid(cards)
    fee = (proc.requirements or {}).get("fee") or {}
    if fee.get("amount_yen") and not proc.fee_is_fact():
        assert f"{fee['amount_yen']:,}円" not in _dump(cards)
        assert "公式ページで確認" in _dump(cards)
    assert "UNVERIFIED" not in _dump(cards)


def test_a_verified_fee_is_shown_and_multiplied_by_the_copies() -> None:
    proc = CATALOG.get("shizei_certificate")
    assert proc is not None and proc.fee_is_fact()
    card = _dump(handoff_card(proc, "https://x.jp/go/t", [], {"copies": "2通"}))
    assert "300円（1通）" in card and "2通で 600円" in card


def test_juminhyo_asks_the_variant_questions_then_shows_them_on_a_card_with_a_tracked_link(nlu) -> None:
    ctx = TurnContext(now=datetime.now(UTC), skills=_skills(nlu))
    r = handle_turn({}, _in("text", text="住民票の写しがほしい"), ctx)
    _valid(r.messages)
    assert r.messages[0]["type"] == "flex" and "だれの住民票" in r.messages[-1]["text"]
    r = handle_turn(r.session, _in("postback", postback_data=_quick(r.messages, "世帯全員")), ctx)
    assert "様式" in r.messages[-1]["text"]
    r = handle_turn(r.session, _in("text", text="個人票"), ctx)  # typed instead of tapped
    assert "何通" in r.messages[-1]["text"]
    r = handle_turn(r.session, _in("text", text="２"), ctx)  # the choice number, full width
    _valid(r.messages)
    card = _dump(r.messages)
    for shown in ("世帯全員", "個人票", "2通", "マイナンバーカード", "暗証番号", "クレジットカード", "約10分"):
        assert shown in card
    assert "300円" not in card  # UNVERIFIED for Kawasaki
    [uri] = [u for u in _uris(r.messages) if u.startswith("https://bot.example.jp/go/")]
    verified = ISSUER.verify(uri.rsplit("/", 1)[1], datetime.now(UTC))
    assert verified.status == "ok" and verified.payload.target.startswith("https://lgpos.task-asp.net/cu/141305/")
    assert SESSION_KEY not in r.session
    [shown_event] = [e for e in r.effects if e.name == "handoff_shown"]
    assert shown_event.props["answers"]["scope"] == "世帯全員" and shown_event.props["token"] == verified.payload.token_id


@pytest.mark.parametrize("word", ["やめる", "最初から"])
def test_cancel_and_restart_leave_the_questions(nlu, word: str) -> None:
    ctx = TurnContext(now=datetime.now(UTC), skills=_skills(nlu))
    r = handle_turn({}, _in("text", text="住民票の写しがほしい"), ctx)
    assert SESSION_KEY in r.session
    r = handle_turn(r.session, _in("text", text=word), ctx)
    assert not r.session or SESSION_KEY not in r.session
    r = handle_turn(r.session or {}, _in("text", text="1"), ctx)  # no longer an answer
    assert "handoff_shown" not in [e.name for e in r.effects]


def test_another_question_instead_of_an_answer_is_routed_normally(nlu) -> None:
    ctx = TurnContext(now=datetime.now(UTC), skills=_skills(nlu))
    r = handle_turn({}, _in("text", text="住民票の写しがほしい"), ctx)
    r = handle_turn(r.session, _in("text", text="転出届を出したい"), ctx)
    assert "転出届" in _dump(r.messages) and SESSION_KEY not in r.session


def test_tenshutsu_goes_to_pittari(nlu) -> None:
    ctx = TurnContext(now=datetime.now(UTC), skills=_skills(nlu))
    r = handle_turn({}, _in("text", text="転出届を出したい"), ctx)
    data = next(a["data"] for a in _actions(r.messages) if a.get("type") == "postback")
    r = handle_turn(r.session, _in("postback", postback_data=data), ctx)
    _valid(r.messages)
    assert "ぴったりサービス" in _dump(r.messages)
    [uri] = [u for u in _uris(r.messages) if "/go/" in u]
    assert ISSUER.verify(uri.rsplit("/", 1)[1], datetime.now(UTC)).payload.target == "https://myna.go.jp"
    assert [e.props["channel"] for e in r.effects if e.name == "handoff_shown"] == ["pittari"]


def test_a_start_code_opens_the_procedure_and_counts_the_scan(nlu) -> None:
    codes = {"QR-7K2M": StartTarget("QR-7K2M", "tenshutsu_todoke", "ward-asao", "麻生区役所"),
             "QR-ABCD": StartTarget("QR-ABCD", "juminhyo_copy", "ward-tama", "多摩区役所")}
    ctx = TurnContext(now=datetime.now(UTC), skills=_skills(nlu, codes))
    r = handle_turn({}, _in("text", text="＃ｑｒ－７ｋ２ｍ 転出届"), ctx)
    _valid(r.messages)
    assert "麻生区役所" in _dump(r.messages) and "ぴったりサービス" in _dump(r.messages)
    assert (r.effects[0].name, r.effects[0].props["facility"]) == ("qr_scanned", "ward-asao")
    [uri] = [u for u in _uris(r.messages) if "/go/" in u]
    payload = ISSUER.verify(uri.rsplit("/", 1)[1], datetime.now(UTC)).payload
    assert (payload.source, payload.facility) == ("qr", "ward-asao")
    # With variants, the scan leads into the questions, and the facility stays with the link.
    r = handle_turn({}, _in("text", text="#QR-ABCD"), ctx)
    assert "だれの住民票" in r.messages[-1]["text"]
    for label in ("本人だけ", "世帯票", "1通"):
        r = handle_turn(r.session, _in("text", text=label), ctx)
    payload = ISSUER.verify(_uris(r.messages)[0].rsplit("/", 1)[1], datetime.now(UTC)).payload
    assert (payload.source, payload.facility) == ("qr", "ward-tama")
    r = handle_turn({}, _in("text", text="#QR-ZZZZ"), ctx)
    assert "見つかりませんでした" in r.messages[0]["text"] and r.effects[0].name == "qr_unknown"


def test_match_choice_is_strict_about_ambiguity() -> None:
    [scope, layout, copies] = variants_of(CATALOG.get("juminhyo_copy"))
    assert match_choice(scope, "本人") == "本人だけ"
    assert match_choice(scope, "世帯") is None  # 世帯全員 or 世帯の一部の人?
    assert match_choice(scope, "4") is None and match_choice(copies, "3") == "3通以上"
    assert match_choice(layout, "世帯票").startswith("世帯票")
