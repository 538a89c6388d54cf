"""In-memory catalog: lookup by id / name and a keyword search index.

The search index makes every procedure reachable, including the ~2,600 of the city's full list
that have no NLU training examples: TF-IDF over character 2-3-grams (plus single kanji) of the
folded name, keywords, category and description; queries are reduced to their content words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from bot.catalog.schema import ProcedureRecord
from bot.nlu.normalize import content_text, fold, reading
from bot.sparse_rows import SparseRows

_KANJI_RE = re.compile(r"[\u4e00-\u9fff々]")
# Longer text adds nothing to a keyword search but costs time.
MAX_QUERY_CHARS = 120


def _grams(text: str) -> list[str]:
    out: list[str] = []
    for piece in text.split():
        n = len(piece)
        out.extend(ch for ch in piece if _KANJI_RE.match(ch))
        out.extend(piece[i : i + 2] for i in range(n - 1))
        out.extend(piece[i : i + 3] for i in range(n - 2))
    return out


def _doc_text(p: ProcedureRecord) -> str:
    # Name and keywords count twice: they are what residents type.
    parts = [p.name, p.name, *p.keywords, *p.keywords, p.category, p.description]
    text = " ".join(fold(x).replace(" ", "") for x in parts if x)
    # Readings of name and keywords, so kana-only queries (じゅうみんひょう) find kanji names.
    return text + " " + " ".join(reading(x) for x in [p.name, *p.keywords] if x)


def tfidf_matrix(docs: list[list[str]]) -> tuple[dict[str, int], np.ndarray, SparseRows]:
    """(vocabulary, idf, l2-normalised doc x term matrix) with scikit-learn's TfidfVectorizer
    formulas (sublinear tf = 1 + ln c, smooth idf = ln((1 + n) / (1 + df)) + 1).

    Written out because importing scikit-learn (~45 MB) or scipy.sparse (~15 MB) into every
    serving process costs memory for these few lines; tests/catalog_data checks it against
    TfidfVectorizer itself.
    """
    vocab: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    for i, grams in enumerate(docs):
        for gram, count in Counter(grams).items():
            rows.append(i)
            cols.append(vocab.setdefault(gram, len(vocab)))
            vals.append(1.0 + math.log(count))
    n = len(docs)
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    df = np.bincount(c, minlength=len(vocab))
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    v = np.asarray(vals, dtype=np.float64) * idf[c]
    norms = np.sqrt(np.bincount(r, weights=v * v, minlength=n))
    norms[norms == 0] = 1.0
    return vocab, idf, SparseRows.from_triplets(r, c, v / norms[r], (n, len(vocab)))


@dataclass(frozen=True)
class SearchHit:
    procedure: ProcedureRecord
    score: float


class Catalog:
    def __init__(self, procedures: Iterable[ProcedureRecord], version: str = "") -> None:
        self.procedures: list[ProcedureRecord] = sorted(procedures, key=lambda p: p.id)
        self.version = version
        self._by_id = {p.id: p for p in self.procedures}
        self._pos = {p.id: i for i, p in enumerate(self.procedures)}
        self._by_name: dict[str, ProcedureRecord] = {}
        for p in self.procedures:
            self._by_name.setdefault(fold(p.name).replace(" ", ""), p)
        self._build_index()

    def __len__(self) -> int:
        return len(self.procedures)

    def __contains__(self, pid: object) -> bool:
        return pid in self._by_id

    def get(self, pid: str) -> ProcedureRecord | None:
        return self._by_id.get(pid)

    def by_name(self, name: str) -> ProcedureRecord | None:
        """Exact official name, tolerant of width, kana and a trailing ※."""
        return self._by_name.get(fold((name or "").rstrip("※")).replace(" ", ""))

    # ------------------------------------------------------------------ search
    def _build_index(self) -> None:
        if not self.procedures:
            self._vocab: dict[str, int] = {}
            self._idf = np.empty(0)
            self._term_docs = SparseRows.from_triplets(np.empty(0, np.int64), np.empty(0, np.int64),
                                                       np.empty(0), (0, 0))
            return
        self._vocab, self._idf, x = tfidf_matrix([_grams(_doc_text(p)) for p in self.procedures])
        self._term_docs = x.transpose()  # term-major: a query touches only its own terms

    def search(self, text: str, k: int = 5) -> list[SearchHit]:
        """Best-matching procedures for free text, cosine similarity in [0, 1], best first."""
        if not self.procedures or not text:
            return []
        text = text[:MAX_QUERY_CHARS]
        exact = self.by_name(text)
        query = content_text(text) or fold(text)
        read = reading(text)
        if read and read != query:
            query = f"{query} {read}"
        counts: dict[int, int] = {}
        for g in _grams(query):
            j = self._vocab.get(g)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        hits: dict[int, float] = {}
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            val = (1.0 + np.log(tf)) * self._idf[idx]
            val /= np.sqrt(val @ val)
            scores = self._term_docs.weighted_row_sum(idx, val)
            if scores.any():
                top = np.argpartition(-scores, min(k, len(scores) - 1))[: k + 1]
                hits = {int(i): float(scores[i]) for i in top if scores[i] > 0}
        if exact is not None:
            hits[self._pos[exact.id]] = 1.0
        ranked = sorted(hits.items(), key=lambda kv: (-kv[1], self.procedures[kv[0]].id))[:k]
        return [SearchHit(self.procedures[i], min(1.0, s)) for i, s in ranked]
