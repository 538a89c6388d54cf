"""The catalog's hand-written TF-IDF must equal scikit-learn's TfidfVectorizer (same formulas)."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.catalog.index import _doc_text, _grams, tfidf_matrix
from bot.catalog.loader import load_catalog_file


def test_tfidf_matrix_equals_scikit_learn_on_the_shipped_catalog() -> None:
    procedures = load_catalog_file().procedures
    docs = [_doc_text(p) for p in procedures]
    vocab, idf, x = tfidf_matrix([_grams(d) for d in docs])
    ref = TfidfVectorizer(analyzer=_grams, sublinear_tf=True, lowercase=False)
    y = ref.fit_transform(docs)
    assert set(vocab) == set(ref.vocabulary_)
    order = np.array([vocab[t] for t in sorted(ref.vocabulary_, key=ref.vocabulary_.get)])
    assert np.allclose(idf[order], ref.idf_)
    assert np.allclose(x.toarray()[:, order], y.toarray())
