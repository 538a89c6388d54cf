"""Turn a text into the sparse feature vector the embedded NLU classifies.

Features (all on normalized text, see normalize.py):
- TF-IDF of character 1-3-grams of the folded text (robust to typos, kana/kanji mix, conjugation),
- TF-IDF of Sudachi normalized-form unigrams + bigrams (捨てたい ≈ 捨てる) and word readings,
- synonym expansion (a variant found in the text adds its canonical value) and marker tokens for
  lookup-table and regex hits (`ソファ` -> `@lookup:bulky_item`), so one example teaches a whole list.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bot.nlu.data import NluData
from bot.nlu.normalize import analyze, fold, fold_normalized, normalize

if TYPE_CHECKING:
    import scipy.sparse as sp  # training only: serving uses FastVectorizer's numpy arrays

# Longer messages are cut before NLU: intent is in the first sentences, and latency must stay flat.
MAX_CHARS = 120
_KANA_ONLY_RE = re.compile(r"^[ぁ-ゖ]+$")


def _identity(doc: list[str]) -> list[str]:
    return doc


@dataclass
class Expander:
    """Substring matcher for synonyms and lookup elements (folded), O(len(text) * distinct lengths)."""

    table: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # first character -> keys starting with it, longest first
    by_first: dict[str, tuple[str, ...]] = field(default_factory=dict)
    regexes: tuple[tuple[str, re.Pattern[str]], ...] = ()

    @classmethod
    def from_data(cls, data: NluData) -> Expander:
        table: dict[str, set[str]] = {}

        def add(key: str, value: str) -> None:
            key = fold(key).replace(" ", "")
            # One hiragana character (e.g. "き") would match everywhere.
            if not key or (len(key) < 2 and _KANA_ONLY_RE.match(key)):
                return
            table.setdefault(key, set()).add(value)

        for canonical, variants in data.synonyms.items():
            canon = fold(canonical).replace(" ", "")
            for v in variants:
                add(v, "=" + canon)
        for name, elements in data.lookups.items():
            for el in elements:
                add(el, "@lookup:" + name)
        regexes = []
        for name, patterns in data.regexes.items():
            for pat in patterns:
                try:
                    regexes.append((name, re.compile(pat)))
                except re.error:
                    continue  # a bad pattern must not stop the bot; Rasa would reject it at train
        by_first: dict[str, list[str]] = {}
        for key in table:
            by_first.setdefault(key[0], []).append(key)
        return cls(
            table={k: tuple(sorted(v)) for k, v in table.items()},
            by_first={c: tuple(sorted(keys, key=len, reverse=True)) for c, keys in by_first.items()},
            regexes=tuple(regexes),
        )

    def expand(self, norm: str, folded: str) -> tuple[list[str], list[str]]:
        """(canonical synonym strings found, marker tokens found)."""
        canon: list[str] = []
        markers: list[str] = []
        if self.table:
            compact = folded.replace(" ", "")
            seen: set[str] = set()
            by_first, table = self.by_first, self.table
            for i, ch in enumerate(compact):
                for key in by_first.get(ch, ()):
                    if compact.startswith(key, i):
                        for value in table[key]:
                            if value not in seen:
                                seen.add(value)
                                (canon if value[0] == "=" else markers).append(value)
        canon = [c[1:] for c in canon]
        for name, pattern in self.regexes:
            if pattern.search(norm):
                markers.append("@regex:" + name)
        return canon, markers


@dataclass
class Prepared:
    char_text: str
    words: list[str]


def prepare_text(text: str, expander: Expander, split_mode: str | None) -> Prepared:
    """The two views the vectorizers read: folded chars (+ synonyms, reading) and word n-grams."""
    norm = normalize((text or "")[:MAX_CHARS])
    folded = fold_normalized(norm)
    canon, markers = expander.expand(norm, folded)
    toks = analyze(norm, split_mode, normalized=True)
    words = [t[1] for t in toks if t[2]]
    for c in canon:
        words.extend(t[1] for t in analyze(c, split_mode) if t[2])
    # Word readings (こくほ for 国保 and コクホ alike) let kana-only / kanji variants share word features.
    readings = ["r:" + r for t in toks if t[2] and t[3] and (r := fold(t[3]))]
    grams = words + [f"{a}_{b}" for a, b in itertools.pairwise(words)] + markers + readings
    # The reading lets kana-only input (じゅうみんひょう) meet kanji examples (住民票).
    read = fold("".join(t[3] or t[0] for t in toks if t[2]))
    char_text = " ".join([folded, *canon, read]) if read != folded else " ".join([folded, *canon])
    return Prepared(char_text=char_text, words=grams)


_WHITE_SPACES = re.compile(r"\s\s+")


def char_ngrams(text: str) -> list[str]:
    """Character 1-3-grams exactly as TfidfVectorizer(analyzer="char", ngram_range=(1, 3),
    lowercase=False) makes them, so a served model needs no scikit-learn (tests/nlu checks it)."""
    text = _WHITE_SPACES.sub(" ", text)
    n_chars = len(text)
    grams = list(text)
    for n in (2, 3):
        grams.extend(text[i : i + n] for i in range(n_chars - n + 1))
    return grams


class Featurizer:
    def __init__(self, data: NluData, split_mode: str | None = None) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer  # training only (see embedded.py)

        self.expander = Expander.from_data(data)
        self.split_mode = split_mode
        self.char_vec = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1, lowercase=False
        )
        self.word_vec = TfidfVectorizer(
            analyzer=_identity, sublinear_tf=True, min_df=1, lowercase=False
        )
        # Char n-grams carry most of the signal; 5-fold CV on nlu_data/nlu (2,432 examples):
        # word weight 1.0 -> 0.6 raised routed top-1 92.8% -> 93.6% (0.4 and 1.5 were worse).
        self.word_weight = 0.6

    def prepare(self, text: str) -> Prepared:
        return prepare_text(text, self.expander, self.split_mode)

    def fit_transform(self, texts: list[str], prepared: list[Prepared] | None = None) -> sp.csr_matrix:
        prepared = prepared if prepared is not None else [self.prepare(t) for t in texts]
        xc = self.char_vec.fit_transform([p.char_text for p in prepared])
        xw = self.word_vec.fit_transform([p.words for p in prepared])
        return self._combine(xc, xw)

    def transform(self, texts: list[str], prepared: list[Prepared] | None = None) -> sp.csr_matrix:
        prepared = prepared if prepared is not None else [self.prepare(t) for t in texts]
        xc = self.char_vec.transform([p.char_text for p in prepared])
        xw = self.word_vec.transform([p.words for p in prepared])
        return self._combine(xc, xw)

    def compile(self) -> FastVectorizer:
        """Inference-only copy without sklearn's per-call validation overhead (~1 ms)."""
        return FastVectorizer(self)

    def _combine(self, xc: sp.csr_matrix, xw: sp.csr_matrix) -> sp.csr_matrix:
        import scipy.sparse as sp

        x = sp.hstack([xc, xw * self.word_weight], format="csr")
        # Re-normalize so cosine novelty scores are comparable across texts.
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.csr_matrix(x.multiply(1.0 / norms[:, None]))


class SortedVocab:
    """A read-only n-gram -> column map held in two numpy arrays.

    The character vocabulary has ~34,000 one- to three-character grams: 4.6 MB as a dict of
    Python strings, 0.7 MB here. Lookups are one vectorized binary search per text.
    """

    def __init__(self, mapping: dict[str, int]) -> None:
        keys = sorted(mapping)
        self.keys = np.array(keys, dtype=f"<U{max((len(k) for k in keys), default=1)}")
        self.cols = np.array([mapping[k] for k in keys], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def columns(self, grams: list[str]) -> np.ndarray:
        """Columns of the grams in the vocabulary, one per occurrence; unknown grams are skipped."""
        if not grams or not len(self.keys):
            return np.empty(0, dtype=np.int64)
        query = np.array(grams)  # its own width: never truncate a longer gram into a false match
        pos = np.minimum(np.searchsorted(self.keys, query), len(self.keys) - 1)
        return self.cols[pos[self.keys[pos] == query]]


class FastVectorizer:
    """Same vectors as `Featurizer.transform` for one text, as (indices, values) numpy arrays."""

    def __init__(self, fz: Featurizer) -> None:
        # No reference to `fz`: the sklearn vectorizers are dropped after training to save memory.
        self.expander = fz.expander
        self.split_mode = fz.split_mode
        self.char_analyzer = char_ngrams  # = fz.char_vec.build_analyzer(), without pickling sklearn
        self.char_vocab = SortedVocab(fz.char_vec.vocabulary_)
        self.char_idf = fz.char_vec.idf_.astype(np.float64)
        self.word_vocab: dict[str, int] = dict(fz.word_vec.vocabulary_)
        self.word_idf = fz.word_vec.idf_.astype(np.float64)
        self.offset = len(self.char_vocab)
        self.word_weight = fz.word_weight

    @staticmethod
    def _tfidf(cols: np.ndarray, idf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not cols.size:
            return np.empty(0, dtype=np.int64), np.empty(0)
        idx, tf = np.unique(cols, return_counts=True)
        val = (1.0 + np.log(tf)) * idf[idx]
        return idx, val / np.sqrt(val @ val)

    def vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        p = prepare_text(text, self.expander, self.split_mode)
        ci, cv = self._tfidf(self.char_vocab.columns(self.char_analyzer(p.char_text)), self.char_idf)
        words = (self.word_vocab.get(w) for w in p.words)
        wi, wv = self._tfidf(np.fromiter((j for j in words if j is not None), dtype=np.int64), self.word_idf)
        idx = np.concatenate([ci, wi + self.offset])
        val = np.concatenate([cv, wv * self.word_weight])
        norm = np.sqrt(val @ val)
        return idx, (val / norm if norm else val)
