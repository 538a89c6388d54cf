"""The serving vectorizer (numpy only) gives the training vectorizer's (scikit-learn) vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.nlu.data import load_nlu_data
from bot.nlu.features import Featurizer, SortedVocab

FIXTURES = Path(__file__).parent / "fixtures" / "nlu_data"


def test_fast_vectors_equal_the_scikit_learn_ones() -> None:
    data = load_nlu_data(FIXTURES)
    texts = [t for examples in data.intents.values() for t in examples]
    fz = Featurizer(data)
    fz.fit_transform(texts)
    fast = fz.compile()
    probes = [*texts[::3], "ソファを捨てたい！！", "じゅうみんひょう", "zzz 未知の語 ｱｲｳ", "", "🙂" * 5]
    expected = fz.transform(probes).toarray()
    for text, row in zip(probes, expected, strict=True):
        idx, val = fast.vector(text)
        got = np.zeros_like(row)
        np.add.at(got, idx, val)
        assert np.allclose(got, row, atol=1e-9), text


def test_sorted_vocab_finds_known_grams_once_per_occurrence_and_nothing_else() -> None:
    vocab = SortedVocab({"あ": 2, "あい": 0, "いう": 1})
    assert vocab.columns(["あい", "x", "あ", "あい", "あいう", ""]).tolist() == [0, 2, 0]
    assert vocab.columns([]).tolist() == []
    assert SortedVocab({}).columns(["あ"]).tolist() == []
    assert len(vocab) == 3
