"""Normalisation of what residents type: 全角/半角, kana, Japanese numerals."""

from __future__ import annotations

import re
import unicodedata

# Hyphen-like characters residents use in postal codes, phone numbers and 番地.
DASHES = "-‐‑‒–—―−ー－ｰ─━"
_DASH_RE = re.compile(f"[{re.escape(DASHES)}]")

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
                 "壱": 1, "弐": 2, "参": 3}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
# Native Japanese counting words (ひとつ, ふたつ …), longest first when matched.
NATIVE_COUNTS = {
    "ひとつ": 1, "一つ": 1, "ふたつ": 2, "二つ": 2, "みっつ": 3, "三つ": 3, "よっつ": 4, "四つ": 4,
    "いつつ": 5, "五つ": 5, "むっつ": 6, "六つ": 6, "ななつ": 7, "七つ": 7, "やっつ": 8, "八つ": 8,
    "ここのつ": 9, "九つ": 9, "とお": 10,
}
KANJI_NUMERAL_CHARS = "〇零一二三四五六七八九十百千万壱弐参"


def nfkc(text: str) -> str:
    """全角英数字→半角, 半角カナ→全角 (Unicode NFKC), trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def unify_dashes(text: str) -> str:
    return _DASH_RE.sub("-", text)


def to_katakana(text: str) -> str:
    """Hiragana → katakana, one character for one (offsets are kept)."""
    return "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in text)


def fold(text: str) -> str:
    """A comparison key: NFKC, lower case, katakana, without spaces and trailing punctuation."""
    t = to_katakana(nfkc(text).lower())
    t = re.sub(r"\s+", "", t)
    return t.rstrip("。.!！?？")


def kanji_to_int(text: str) -> int | None:
    """Parse a Japanese numeral such as 三, 十二, 二十五, 百五, 千二百, 三万 (None if not one)."""
    if not text or any(c not in KANJI_NUMERAL_CHARS for c in text):
        return None
    if all(c in _KANJI_DIGITS for c in text):  # positional: 二〇二六
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    total = 0
    section = 0
    digit: int | None = None
    for c in text:
        if c in _KANJI_DIGITS:
            if digit is not None:
                return None
            digit = _KANJI_DIGITS[c]
        elif c in _KANJI_UNITS:
            section += (1 if digit is None else digit) * _KANJI_UNITS[c]
            digit = None
        elif c == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
    return total + section + (digit or 0)


def parse_int(text: str) -> int | None:
    """An integer written with digits (any width, with commas), kanji or native counting words."""
    t = nfkc(text).replace(",", "")
    if re.fullmatch(r"\d+", t):
        return int(t)
    if t in NATIVE_COUNTS:
        return NATIVE_COUNTS[t]
    return kanji_to_int(t)
