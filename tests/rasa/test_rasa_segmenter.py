"""The Japanese segmentation behind the Rasa tokenizer: offsets into the original text, and the same
normalization as the embedded NLU. Runs in the application's environment (no Rasa needed)."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.nlu.normalize import normalize as embedded_normalize
from integrations.rasa.components.segmenter import (
    MAX_CHUNK_CHARS,
    Segmenter,
    normalize,
    normalize_with_offsets,
)

SEGMENTER = Segmenter()

# Text people type into LINE: kanji/kana, half-width katakana with voicing marks, full-width ASCII,
# enclosed/compatibility characters, combining marks, emoji, dashes, spaces, newlines.
ALPHABET = (
    "住民票の写しを取りたい引っ越し川崎市中原区に転入届マイナンバーカードごみ捨てソファ"
    "ｶﾞｽﾃﾞﾏｲﾅﾝﾊﾞｰｶｰﾄﾞﾊﾟﾋﾟ"
    "ＡＢＣａｂｃ０１２３４５６７８９－＋（）"
    "㈱㍻①Ⅻ㌔ﬁßİ"
    "\u3099\u309a\u0301\u0323\u0315"
    "😀👍🏻❤\ufe0f"
    "-~ｰ—〜～ー"
    "、。！？!?.,()「」 \u3000\n\t"
    "abcXYZ019"
)
texts = st.text(alphabet=ALPHABET, max_size=60)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_normalization_matches_the_embedded_nlu(text: str) -> None:
    assert normalize(text) == embedded_normalize(text)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_every_normalized_character_maps_inside_the_original(text: str) -> None:
    norm = normalize_with_offsets(text)
    assert len(norm.starts) == len(norm.ends) == len(norm.text)
    for ch, start, end in zip(norm.text, norm.starts, norm.ends, strict=True):
        assert 0 <= start < end <= len(text)
        if ch != " ":
            # The character is the normalization of (part of) what it maps to.
            source = unicodedata.normalize("NFKC", text[start:end]).casefold()
            assert ch in source or ch == "ー", (ch, text[start:end])
    assert list(norm.starts) == sorted(norm.starts)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_words_carry_offsets_into_the_original_text(text: str) -> None:
    words = SEGMENTER.words(text)
    previous_end = 0
    for w in words:
        assert previous_end <= w.start < w.end <= len(text)
        raw = text[w.start : w.end]
        # The word is the normalization of the original characters it spans (a span covers whole
        # characters of the original, e.g. a base letter with its combining mark).
        assert w.text in normalize(raw), (raw, w.text)
        previous_end = w.end
    # Only noise is dropped: every letter and digit of the text is in some word.
    assert _letters("".join(w.text for w in words)) == _letters(normalize(text))


def _letters(s: str) -> str:
    return "".join(ch for ch in s if unicodedata.category(ch)[0] in "LN" and ch != "ー")


def test_half_width_and_full_width_input_map_back_to_what_was_typed() -> None:
    text = "ﾏｲﾅﾝﾊﾞｰｶｰﾄﾞを　ＡＢＣ１２３で申請㈱"
    words = SEGMENTER.words(text)
    surfaces = [text[w.start : w.end] for w in words]
    assert "".join(surfaces) == text.replace("\u3000", "")
    by_surface = {text[w.start : w.end]: w for w in words}
    assert by_surface["ﾏｲﾅﾝﾊﾞｰ"].text == "マイナンバー"
    assert by_surface["ＡＢＣ"].text == "abc"
    assert by_surface["１２３"].text == "123"
    assert by_surface["㈱"].text == "株"


def test_split_modes_differ_and_lemmas_are_sudachi_normalized_forms() -> None:
    text = "川崎市中原区に引っ越しました"
    a = [w.text for w in Segmenter("A").words(text)]
    c = [w.text for w in Segmenter("C").words(text)]
    assert len(a) > len(c)
    assert "".join(a) == "".join(c) == text
    lemmas = {w.text: w.lemma for w in Segmenter("B").words(text)}
    assert lemmas["引っ越し"] == "引っ越す"


def test_long_text_is_segmented_in_chunks_with_continuous_offsets() -> None:
    unit = "住民票の写しを取りたいです。"
    text = unit * (2 * MAX_CHUNK_CHARS // len(unit) + 3)
    words = SEGMENTER.words(text)
    assert words[-1].end == len(text) - 1  # the final 。 is punctuation
    assert sum(1 for w in words if w.text == "住民票") == text.count("住民票")


def test_unknown_split_mode_is_rejected() -> None:
    try:
        Segmenter("D")
    except ValueError as exc:
        assert "split mode" in str(exc)
    else:
        raise AssertionError("mode D accepted")
