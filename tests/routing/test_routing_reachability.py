"""Every procedure of the real catalog is reachable from a phrasing that is neither a training
example nor its name; off-topic text gets no procedure. Iterates over the data, so it keeps
holding (or fails loudly) as bot/catalog/procedures.yml and nlu_data/ grow."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.catalog.index import Catalog
from bot.catalog.loader import DEFAULT_CATALOG_FILE
from bot.catalog.service import catalog_from_file
from bot.nlu.data import load_nlu_data
from bot.nlu.embedded import EmbeddedNlu
from bot.nlu.normalize import fold
from bot.nlu.service import KeywordOnlyNlu
from bot.routing.router import route

REPO = Path(__file__).resolve().parents[2]
NLU_DATA = REPO / "nlu_data"
# Ways residents wrap a topic word into a request; the keyword alone is usually not an example.
TEMPLATES = ("{}の手続きをしたいです", "{}について教えてください", "{}のことで相談したい", "{}をお願いしたい")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return catalog_from_file(DEFAULT_CATALOG_FILE)


@pytest.fixture(scope="module")
def nlu(tmp_path_factory: pytest.TempPathFactory):
    data = load_nlu_data(NLU_DATA)
    if len(data.intents) < 2:
        return KeywordOnlyNlu()  # no training data yet: keyword search alone must reach everything
    return EmbeddedNlu.load_or_train(NLU_DATA, tmp_path_factory.mktemp("nlu-cache"))


@pytest.fixture(scope="module")
def training_texts() -> set[str]:
    return {fold(t) for t, _ in load_nlu_data(NLU_DATA).examples()}


def phrasings(p, training: set[str]):
    name = fold(p.name)
    # The name without bracketed detail stands in for keywords when an entry has none.
    topics = [*p.keywords, re.sub(r"[（(【][^）)】]*[）)】]", "", p.name)]
    for kw in topics:
        for tpl in TEMPLATES:
            text = tpl.format(kw)
            if fold(text) not in training and fold(text) != name and fold(kw) != name:
                yield text


def test_catalog_is_not_empty(catalog: Catalog) -> None:
    assert len(catalog) > 0


def test_every_procedure_is_reachable(catalog: Catalog, nlu, training_texts: set[str]) -> None:
    unreachable = []
    for p in catalog.procedures:
        tried = []
        for text in phrasings(p, training_texts):
            dec = route(nlu.parse(text), catalog, text)
            ids = [c.id for c in dec.candidates]
            if dec.kind != "none" and p.id in ids[:5]:
                break
            tried.append((text, dec.kind, ids[:3]))
        else:
            unreachable.append((p.id, p.name, tried[:2]))
    assert not unreachable, f"{len(unreachable)} procedures unreachable: {unreachable}"


def test_most_procedures_are_answered_directly(catalog: Catalog, nlu, training_texts: set[str]) -> None:
    """Not just reachable: for most procedures some natural phrasing is the top answer."""
    top = 0
    for p in catalog.procedures:
        for text in phrasings(p, training_texts):
            dec = route(nlu.parse(text), catalog, text)
            if dec.kind != "none" and dec.best is not None and dec.best.id == p.id:
                top += 1
                break
    assert top >= 0.9 * len(catalog)


OFF_TOPIC = [
    "今日の天気はどう？", "明日は雨が降りますか", "おすすめのラーメン屋を教えて", "好きな映画は何ですか",
    "川崎フロンターレは勝った？", "しりとりしよう", "asdfghjkl", "😀😀😀", "", "。。。", "ｗｗｗｗ",
    "あいうえおかきくけこ", "1+1は？", "猫がかわいい",
]


@pytest.mark.parametrize("text", OFF_TOPIC)
def test_off_topic_text_gets_no_procedure(catalog: Catalog, nlu, text: str) -> None:
    dec = route(nlu.parse(text), catalog, text)
    assert dec.to_json()["procedure"] is None, (text, dec.kind, [c.name for c in dec.candidates[:3]])


@pytest.mark.parametrize("text", ["こんにちは", "ありがとうございます", "さようなら"])
def test_greetings_get_no_procedure(catalog: Catalog, nlu, text: str) -> None:
    if isinstance(nlu, KeywordOnlyNlu):
        pytest.skip("dialogue acts need NLU data")
    dec = route(nlu.parse(text), catalog, text)
    assert dec.kind == "none" and dec.act not in (None, "out_of_scope")
