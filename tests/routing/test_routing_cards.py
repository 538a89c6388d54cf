"""LINE messages for routing answers, validated against LINE's OpenAPI spec."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.catalog.loader import DEFAULT_CATALOG_FILE
from bot.catalog.service import catalog_from_file
from bot.routing.cards import (
    CALL_CENTER_PHONE,
    PORTAL_URL,
    candidates_message,
    messages_for,
    no_procedure_message,
    procedure_card,
    short_label,
)
from bot.routing.router import Candidate, RouteDecision

spec = pytest.importorskip("integrations.line.spec")
FIXTURE = Path(__file__).resolve().parents[1] / "nlu" / "fixtures" / "procedures.yml"
CATALOGS = [DEFAULT_CATALOG_FILE, FIXTURE]


def reply_errors(*messages: dict) -> list:
    body = {"replyToken": "x", "messages": list(messages)}
    return spec.validate_messaging_request("POST", "/v2/bot/message/reply", body)


def texts_in(node) -> list[str]:
    if isinstance(node, dict):
        out = [node["text"]] if node.get("type") == "text" else []
        return out + [t for v in node.values() for t in texts_in(v)]
    if isinstance(node, list):
        return [t for v in node for t in texts_in(v)]
    return []


@pytest.mark.parametrize("path", CATALOGS, ids=["repo", "fixture"])
def test_every_procedure_card_is_valid(path: Path) -> None:
    cat = catalog_from_file(path)
    for p in cat.procedures:
        msg = procedure_card(p)
        assert msg["altText"]
        assert reply_errors(msg) == [], p.id
        button = msg["contents"]["footer"]["contents"][0]["action"]
        expected = {"chat": "start_form", "counter": "counter"}.get(p.channel, "handoff")
        assert button["data"] == f"action={expected}&proc={p.id}"
        assert len(button["label"]) <= 20


@pytest.mark.parametrize("path", CATALOGS, ids=["repo", "fixture"])
def test_unverified_values_are_never_shown_as_fact(path: Path) -> None:
    cat = catalog_from_file(path)
    for p in cat.procedures:
        body = "\n".join(texts_in(procedure_card(p)))
        assert "UNVERIFIED" not in body.upper()
        fee = (p.requirements or {}).get("fee")
        if isinstance(fee, dict) and not p.fee_is_fact():
            if fee.get("amount_yen"):
                assert f"{fee['amount_yen']:,}円" not in body, p.id
            assert CALL_CENTER_PHONE in body, p.id
        if p.is_unverified("requirements.documents") and (p.requirements or {}).get("documents"):
            assert "未確認" in body and CALL_CENTER_PHONE in body


def test_verified_fee_is_shown() -> None:
    p = catalog_from_file(FIXTURE).get("shizei_shomei")
    assert "300円（1通）" in "\n".join(texts_in(procedure_card(p)))


def test_candidates_quick_replies() -> None:
    cands = [Candidate(f"p{i}", f"とても長い名前の手続その{i}（新規・更新・区分変更）の申請書", "ekawasaki", 0.5)
             for i in range(20)]
    msg = candidates_message(cands)
    items = msg["quickReply"]["items"]
    assert len(items) == 13
    assert all(1 <= len(i["action"]["label"]) <= 20 for i in items)
    assert items[0]["action"]["data"] == "action=pick&proc=p0"
    assert items[0]["action"]["displayText"] == cands[0].name
    assert reply_errors(msg) == []


def test_short_label_drops_brackets_first() -> None:
    assert short_label("要介護・要支援認定申請（新規・更新・区分変更）") == "要介護・要支援認定申請"
    assert short_label("短い") == "短い"
    long = "国民健康保険の被保険者の資格喪失に係る届出"
    assert len(short_label(long)) == 20 and short_label(long).endswith("…")


def test_no_procedure_message_links_portal_and_phone() -> None:
    msg = no_procedure_message()
    raw = json.dumps(msg, ensure_ascii=False)
    assert PORTAL_URL in raw and CALL_CENTER_PHONE in raw and msg["altText"]
    assert reply_errors(msg, no_procedure_message("greet"), no_procedure_message("thanks")) == []


def test_messages_for_each_decision_kind() -> None:
    cat = catalog_from_file(FIXTURE)
    p = cat.get("sodaigomi")
    c = (Candidate(p.id, p.name, p.channel, 0.9),)
    assert messages_for(RouteDecision("procedure", "t", 0.9, p, c))[0]["type"] == "flex"
    assert "quickReply" in messages_for(RouteDecision("candidates", "t", 0.4, None, c))[0]
    assert messages_for(RouteDecision("none", "t", 0.9, act="out_of_scope"))[0]["altText"]
