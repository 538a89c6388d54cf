"""Japanese word segmentation with offsets into the original text (no Rasa import).

The text is normalized like the embedded NLU does it (bot/nlu/normalize.py: NFKC, case folding,
long-vowel marks unified, punctuation/symbols/emoji dropped, spaces collapsed) before SudachiPy sees
it, so both NLU back ends split the same words. Every normalized character remembers the span of the
original text it came from, so words carry offsets into what the resident actually typed.

Kept apart from the Rasa component so the offset logic runs and is tested in the application's own
environment too. Must stay Python 3.10 compatible and import nothing from `bot`: Rasa 3.6 imports it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

# Sudachi rejects very long input (its limit is in bytes); LINE texts are at most 5,000 characters,
# but cut defensively at a space or, failing that, at a fixed width.
MAX_CHUNK_CHARS = 4000
SPLIT_MODES = ("A", "B", "C")

# The same rules, in the same order, as bot/nlu/normalize.py (a test compares both on random text).
_LONG_VOWELS = "-~ｰ－—―‐‑‒–⁃−〜～"
_LONG_VOWEL_RE = re.compile(f"(?<=[ぁ-ゖァ-ヺー])[{re.escape(_LONG_VOWELS)}]+")
_REPEAT_CHOONPU_RE = re.compile("ー{2,}")
_SPACE_RE = re.compile(r"\s+")


def _has_content(word: str) -> bool:
    """A word worth a token has a letter or digit (a lone ー or stray voicing mark has not)."""
    return any(unicodedata.category(ch)[0] in "LN" and ch != "ー" for ch in word)


def _is_noise(ch: str) -> bool:
    if ch == "ー":
        return False
    cat = unicodedata.category(ch)
    return cat[0] in "PSC" or (cat == "Mn" and ch in "\ufe0f\u20e3")


@dataclass(frozen=True)
class Normalized:
    """A normalized text and, for each of its characters, the original span it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, begin: int, end: int) -> tuple[int, int]:
        """Original span of normalized[begin:end] (end > begin)."""
        return self.starts[begin], self.ends[end - 1]


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """Spans that NFKC normalizes independently: a character plus whatever composes with it
    (combining marks, half-width voicing marks ﾞﾟ, Hangul jamo)."""
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text):
            yield start, i
            break
        ch = text[i]
        head = unicodedata.normalize("NFKD", ch)[:1]
        joins = bool(head) and unicodedata.combining(head) != 0
        if not joins:
            cluster = text[start:i]
            joins = unicodedata.normalize("NFKC", cluster + ch) != (
                unicodedata.normalize("NFKC", cluster) + unicodedata.normalize("NFKC", ch)
            )
        if not joins:
            yield start, i
            start = i


def _substitute(chars: list[tuple[str, int, int]], pattern: re.Pattern[str], repl: str):
    """re.sub on the characters, where each replacement spans all the characters it replaced."""
    text = "".join(c for c, _, _ in chars)
    out: list[tuple[str, int, int]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.end() == m.start():
            continue
        out.extend(chars[pos : m.start()])
        start, end = chars[m.start()][1], chars[m.end() - 1][2]
        out.extend((c, start, end) for c in repl)
        pos = m.end()
    out.extend(chars[pos:])
    return out


def normalize_with_offsets(text: str) -> Normalized:
    chars: list[tuple[str, int, int]] = []
    for start, end in _clusters(text):
        piece = unicodedata.normalize("NFKC", text[start:end]).casefold()
        chars.extend((c, start, end) for c in piece)
    if "".join(c for c, _, _ in chars) != unicodedata.normalize("NFKC", text).casefold():
        # A composition the clustering did not foresee: map the whole text coarsely but validly.
        chars = [(c, 0, len(text)) for c in unicodedata.normalize("NFKC", text).casefold()]
    chars = _substitute(chars, _LONG_VOWEL_RE, "ー")
    chars = _substitute(chars, _REPEAT_CHOONPU_RE, "ー")
    chars = [(" " if _is_noise(c) else c, s, e) for c, s, e in chars]
    chars = _substitute(chars, _SPACE_RE, " ")
    while chars and chars[0][0] == " ":
        chars.pop(0)
    while chars and chars[-1][0] == " ":
        chars.pop()
    return Normalized(
        "".join(c for c, _, _ in chars), tuple(s for _, s, _ in chars), tuple(e for _, _, e in chars)
    )


def normalize(text: str) -> str:
    """The embedded NLU's normalization (without offsets)."""
    return normalize_with_offsets(text).text


@dataclass(frozen=True)
class Word:
    text: str  # normalized surface
    start: int  # offsets into the ORIGINAL text: original[start:end] is what was typed
    end: int
    lemma: str  # Sudachi's normalized form (引っ越し → 引っ越す, 届出 → 届け出)
    pos: str  # first two part-of-speech levels, e.g. "名詞-固有名詞"


class Segmenter:
    """Thread-safe wrapper around SudachiPy (a Sudachi tokenizer must not be shared by threads)."""

    def __init__(self, mode: str = "B", dictionary: str = "core") -> None:
        mode = mode.upper()
        if mode not in SPLIT_MODES:
            raise ValueError(f"Sudachi split mode must be one of {SPLIT_MODES}, not {mode!r}")
        self.mode = mode
        self.dictionary = dictionary
        self._local = threading.local()

    def _tokenizer(self):  # -> sudachipy.Tokenizer
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            from sudachipy import Dictionary, SplitMode

            dictionary = Dictionary(dict=self.dictionary)
            # SudachiPy >= 0.6.9 names it tokenizer(); create() is the older, now deprecated name.
            factory = getattr(dictionary, "tokenizer", None) or dictionary.create
            tok = factory(getattr(SplitMode, self.mode))
            self._local.tokenizer = tok
        return tok

    def words(self, text: str) -> list[Word]:
        norm = normalize_with_offsets(text)
        out: list[Word] = []
        tok = self._tokenizer()
        for base, chunk in _chunks(norm.text):
            for m in tok.tokenize(chunk):
                pos = m.part_of_speech()
                begin, end = base + m.begin(), base + m.end()
                surface = norm.text[begin:end]
                if not _has_content(surface):
                    continue
                start, stop = norm.span(begin, end)
                if out and start < out[-1].end:
                    # Two words from one original character (e.g. ０ + combining ゛): one token, so
                    # token spans never overlap.
                    last = out.pop()
                    out.append(Word(last.text + surface, last.start, max(stop, last.end),
                                    last.lemma + m.normalized_form(), last.pos))
                    continue
                pos_tag = "-".join(p for p in pos[:2] if p != "*")
                out.append(Word(surface, start, stop, m.normalized_form(), pos_tag))
        return out


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, piece) so that the pieces concatenate back to `text`."""
    pos = 0
    while pos < len(text):
        end = min(pos + MAX_CHUNK_CHARS, len(text))
        if end < len(text):
            cut = text.rfind(" ", pos, end)
            if cut > pos:
                end = cut + 1
        yield pos, text[pos:end]
        pos = end
