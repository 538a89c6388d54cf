"""Japanese normalization and Sudachi tokenization."""

from __future__ import annotations

import pytest

from bot.nlu.normalize import content_text, fold, normalize, reading, tokens


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＳＯＦＡ　ｿﾌｧｰ", "sofa ソファー"),  # NFKC + case folding + half-width kana
        ("ソファ－を捨てたい！！😊", "ソファーを捨てたい"),  # dash after kana = long vowel; emoji gone
        ("すごーーーい", "すごーい"),
        ("粗大ゴミ、  出したい…", "粗大ゴミ 出したい"),
        ("  \t\n ", ""),
        ("住民票\u200dを", "住民票 を"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_fold_matches_script_and_long_vowel_variants() -> None:
    assert fold("ソファー") == fold("ソファ") == fold("そふぁ") == fold("ｿﾌｧ")
    assert fold("粗大ゴミ") == fold("粗大ごみ")


def test_tokens_use_dictionary_forms() -> None:
    assert "捨てる" in tokens("ソファを捨てたい")
    assert tokens("捨てたい") == tokens("捨てる")
    # particles and auxiliaries are dropped
    assert "を" not in tokens("ソファを捨てたい") and "たい" not in tokens("ソファを捨てたい")
    assert tokens("") == []


def test_reading_and_content_text() -> None:
    assert reading("住民票") == reading("じゅうみんひょう")
    assert "捨" in content_text("ソファを捨てたいです") and "です" not in content_text("ソファを捨てたいです")


def test_normalize_is_idempotent_on_random_text() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.text(max_size=40))
    def check(text: str) -> None:
        once = normalize(text)
        assert normalize(once) == once

    check()


def test_char_ngrams_equal_scikit_learns_char_analyzer() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from bot.nlu.features import char_ngrams

    reference = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), lowercase=False).build_analyzer()
    for text in ["", "a", "ab", "そふぁ を すてたい", "住民票  の\t写し", "x  y\n\nz", "１２３ abc ＡＢＣ"]:
        assert char_ngrams(text) == reference(text)
