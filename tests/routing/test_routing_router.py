"""route(): one procedure, candidates or none (fixture catalog + fixture NLU data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog.index import Catalog
from bot.catalog.service import catalog_from_file
from bot.nlu.data import load_nlu_data
from bot.nlu.embedded import EmbeddedNlu
from bot.nlu.result import IntentScore, NluResult
from bot.routing.router import Evidence, decide, route
from bot.routing.thresholds import THRESHOLDS

FIXTURES = Path(__file__).resolve().parents[1] / "nlu" / "fixtures"


@pytest.fixture(scope="module")
def nlu() -> EmbeddedNlu:
    return EmbeddedNlu.train(load_nlu_data(FIXTURES / "nlu_data"))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return catalog_from_file(FIXTURES / "procedures.yml")


def nlu_result(*scores: tuple[str, float]) -> NluResult:
    ranking = tuple(IntentScore(n, c) for n, c in scores)
    return NluResult(text="", intent=ranking[0], ranking=ranking)


@pytest.mark.parametrize(
    ("text", "pid"),
    [
        ("使わなくなったベッドを処分したい", "sodaigomi"),
        ("住民票が1通ほしいのですが", "juminhyo"),
        ("来月東京へ引っ越します", "tenshutsu"),
    ],
)
def test_confident_text_routes_to_one_procedure(nlu: EmbeddedNlu, catalog: Catalog, text: str, pid: str) -> None:
    dec = route(nlu.parse(text), catalog, text)
    assert dec.kind == "procedure", dec
    assert dec.procedure is not None and dec.procedure.id == pid
    out = dec.to_json()
    assert out["procedure"] == {"id": pid, "name": dec.procedure.name, "channel": dec.procedure.channel}


def test_procedure_without_training_examples_is_found_by_keywords(nlu: EmbeddedNlu, catalog: Catalog) -> None:
    text = "建築計画概要書の写しがほしい"
    assert "proc_kenchiku_gaiyo" not in nlu.intents
    dec = route(nlu.parse(text), catalog, text)
    assert dec.kind != "none" and dec.best is not None and dec.best.id == "kenchiku_gaiyo"


def test_low_confidence_yields_candidates(catalog: Catalog) -> None:
    # Two procedures almost tied and neither sure: ask "もしかして…" instead of guessing.
    res = nlu_result(("proc_juminhyo", 0.42), ("proc_koseki", 0.38), ("greet", 0.1))
    dec = route(res, catalog, "あれがほしい")
    assert dec.kind == "candidates"
    assert {c.id for c in dec.candidates[:2]} == {"juminhyo", "koseki"}
    assert dec.procedure is None and len(dec.candidates) <= THRESHOLDS.max_candidates


def test_ambiguous_real_text_yields_candidates(nlu: EmbeddedNlu, catalog: Catalog) -> None:
    text = "証明書"
    dec = route(nlu.parse(text), catalog, text)
    assert dec.kind in ("candidates", "procedure")
    assert len(dec.candidates) >= 2


@pytest.mark.parametrize(
    ("text", "act"),
    [("こんにちは！", "greet"), ("ありがとうございました", "thanks"), ("キャンセルします", "cancel")],
)
def test_dialogue_acts_are_not_procedures(nlu: EmbeddedNlu, catalog: Catalog, text: str, act: str) -> None:
    dec = route(nlu.parse(text), catalog, text)
    assert dec.kind == "none" and dec.act == act
    assert dec.to_json()["procedure"] is None and dec.to_json()["candidates"] == []


@pytest.mark.parametrize("text", ["今日の天気はどうですか", "おすすめのラーメン屋を教えて", "asdfghjkl", "😀😀", "",
                                  "あいうえおかきくけこ"])
def test_out_of_scope_yields_no_procedure(nlu: EmbeddedNlu, catalog: Catalog, text: str) -> None:
    dec = route(nlu.parse(text), catalog, text)
    assert dec.kind == "none", dec
    assert dec.to_json()["procedure"] is None


def test_intent_without_catalog_entry_is_ignored(catalog: Catalog) -> None:
    dec = route(nlu_result(("proc_no_such_thing", 0.99)), catalog, "zzz")
    assert all(c.id in catalog for c in dec.candidates)
    assert dec.kind == "none"


def test_decide_thresholds_are_the_single_source() -> None:
    cat = Catalog([])
    ev = Evidence(combined=(), act=None, act_confidence=0.0)
    assert decide(ev, cat, "x").kind == "none"


def test_json_contract_shape(nlu: EmbeddedNlu, catalog: Catalog) -> None:
    out = route(nlu.parse("ソファを捨てたい"), catalog, "ソファを捨てたい").to_json()
    assert list(out) == ["text", "procedure", "confidence", "candidates"]
    assert isinstance(out["confidence"], float)
    assert 1 <= len(out["candidates"]) <= 5
    assert all(set(c) == {"id", "name", "score"} for c in out["candidates"])
    scores = [c["score"] for c in out["candidates"]]
    assert scores == sorted(scores, reverse=True)
