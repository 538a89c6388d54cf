"""Japanese text normalization and tokenization for matching.

Two views of a text are used:
- `normalize(text)`: NFKC, case-folded, noise (punctuation, emoji, symbols) removed, long-vowel
  marks unified, spaces collapsed. Script is kept, so Sudachi still sees katakana words.
- `fold(text)`: `normalize` + katakana -> hiragana + long-vowel marks dropped, for character
  n-grams, so ゴミ/ごみ and ソファー/ソファ/そふぁ match each other.
`tokens(text)` gives Sudachi normalized forms (捨てたい -> 捨てる, ゴミ -> 塵) of the normalized text.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from functools import lru_cache
from importlib.resources import files

from sudachipy import Dictionary, SplitMode

from bot.nlu.mapped_pages import release_loaded_pages

# Measured with `bench/nlu_bench.py --split-modes` (5-fold out-of-fold top-1 on nlu_data/, 1,511
# examples): A 83.7%, B 83.2%, C 83.2% -- within noise (7 examples). C is kept: it keeps compounds
# such as 転出届 / 住民票 whole for the word features, and the char n-grams already cover the
# sub-word matches that A adds.
SPLIT_MODE = "C"

# Sudachi system dictionary ("core" or "small"); env KB_SUDACHI_DICT. Part of the model cache key.
SUDACHI_DICT = os.environ.get("KB_SUDACHI_DICT", "core").strip().lower() or "core"

_LONG_VOWELS = "-~ｰ－—―‐‑‒–⁃−〜～"  # dash-like marks people type instead of ー
_LONG_VOWEL_RE = re.compile(f"(?<=[ぁ-ゖァ-ヺー])[{re.escape(_LONG_VOWELS)}]+")
_REPEAT_CHOONPU_RE = re.compile("ー{2,}")
_SPACE_RE = re.compile(r"\s+")
_KATA_TO_HIRA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
# Parts of speech that carry no meaning for intent matching.
_DROP_POS = frozenset({"助詞", "助動詞", "補助記号", "空白", "記号"})


def _is_noise(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # P*: punctuation, S*: symbols incl. emoji, C*: controls / format (ZWJ, variation selectors)
    if ch == "ー":
        return False
    return cat[0] in "PSC" or (cat == "Mn" and ch in "\ufe0f\u20e3")


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    # Dash-like marks after kana are long vowels (ｰ was already made ー by NFKC).
    text = _LONG_VOWEL_RE.sub("ー", text)
    text = _REPEAT_CHOONPU_RE.sub("ー", text)
    text = "".join(" " if _is_noise(ch) else ch for ch in text)
    return _SPACE_RE.sub(" ", text).strip()


def kata_to_hira(text: str) -> str:
    return text.translate(_KATA_TO_HIRA)


def fold(text: str) -> str:
    """Aggressive matching key: hiragana, no long-vowel marks."""
    return fold_normalized(normalize(text))


def fold_normalized(norm: str) -> str:
    """`fold` of a text that is already `normalize`d."""
    return kata_to_hira(norm).replace("ー", "")


def system_dictionary_path() -> str:
    """The file of the `sudachidict_<SUDACHI_DICT>` package that SudachiPy maps."""
    return str(files(f"sudachidict_{SUDACHI_DICT}") / "resources" / "system.dic")


class _Tokenizer:
    """One SudachiPy tokenizer per thread (the Rust object is not shareable across threads)."""

    def __init__(self) -> None:
        self._dict: Dictionary | None = None
        self._lock = threading.Lock()
        self._local = threading.local()

    def get(self):
        tok = getattr(self._local, "tok", None)
        if tok is None:
            with self._lock:
                if self._dict is None:
                    self._dict = Dictionary(dict=SUDACHI_DICT)
                    release_loaded_pages(system_dictionary_path())
            tok = self._dict.tokenizer(mode=getattr(SplitMode, SPLIT_MODE))
            self._local.tok = tok
        return tok


_TOKENIZER = _Tokenizer()


def _split_mode(mode: str | None):
    return getattr(SplitMode, mode or SPLIT_MODE)


# A turn analyzes its text several times (features, keywords, reading), and form answers such as
# はい repeat across residents. 1,024 texts hold both; 4,096 of varied questions held 7.5 MB.
@lru_cache(maxsize=1024)
def _analyze_cached(text: str, mode: str) -> tuple[tuple[str, str, bool, str], ...]:
    out = []
    for m in _TOKENIZER.get().tokenize(text, _split_mode(mode)):
        surface = m.surface()
        if not surface.strip():
            continue
        form = m.normalized_form()
        form = kata_to_hira(form).replace("ー", "") or form
        out.append((surface, form, m.part_of_speech()[0] not in _DROP_POS, m.reading_form()))
    return tuple(out)


def analyze(text: str, mode: str | None = None, *, normalized: bool = False
            ) -> tuple[tuple[str, str, bool, str], ...]:
    """(surface, folded normalized form, is_content_word, reading) per token of `normalize(text)`."""
    norm = text if normalized else normalize(text)
    return _analyze_cached(norm, mode or SPLIT_MODE) if norm else ()


def content_text(text: str) -> str:
    """`fold` of the content words only, joined: ソファを捨てたいです -> そふぁ捨て."""
    parts = [t[0] for t in analyze(text) if t[2]]
    return fold("".join(parts))


def reading(text: str, content_only: bool = True) -> str:
    """Folded reading (hiragana) of the text, so じゅうみんひょう matches 住民票."""
    parts = [t[3] or t[0] for t in analyze(text) if t[2] or not content_only]
    return fold("".join(parts))


def tokens(text: str, mode: str | None = None, content_only: bool = True) -> list[str]:
    """Sudachi normalized forms of `normalize(text)`, katakana folded to hiragana.

    `content_only` drops particles and auxiliaries (を, が, たい ...), which only add noise
    to intent matching. The text should be short (the NLU truncates first).
    """
    return [t[1] for t in analyze(text, mode) if t[2] or not content_only]
