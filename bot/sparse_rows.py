"""A read-only sparse matrix that sums a few weighted rows: all that serving needs of scipy.sparse.

The catalog search and the NLU's novelty score each multiply a short sparse query by a large
sparse matrix. Doing it as "gather the query's rows, sum them per column" takes a few numpy calls;
importing scipy.sparse for it cost every serving process ~15 MB of memory. Training, which needs
the full scipy, runs in a child process (bot/nlu/embedded.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseRows:
    """CSR arrays of an ``n_rows`` x ``n_cols`` matrix."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int

    @classmethod
    def from_triplets(cls, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, shape: tuple[int, int],
                      dtype: type = np.float64) -> SparseRows:
        """Build from (row, column, value) entries with no repeated (row, column) pair."""
        order = np.lexsort((cols, rows))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))]).astype(np.int64)
        return cls(indptr, cols[order].astype(np.int32), vals[order].astype(dtype), shape[1])

    @classmethod
    def from_scipy(cls, m, dtype: type = np.float64) -> SparseRows:
        """From any scipy sparse matrix (used where training already has scipy loaded)."""
        m = m.tocsr()
        m.sum_duplicates()
        return cls(m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(dtype), m.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.indptr) - 1, self.n_cols

    def transpose(self) -> SparseRows:
        n_rows = len(self.indptr) - 1
        rows = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(self.indptr))
        return SparseRows.from_triplets(self.indices.astype(np.int64), rows, self.data, (self.n_cols, n_rows),
                                        dtype=self.data.dtype.type)

    def weighted_row_sum(self, rows: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """``weights @ self[rows]`` as a dense vector of length ``n_cols`` (float64)."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        if not len(rows) or not (ends - starts).any():
            return np.zeros(self.n_cols)
        cols = np.concatenate([self.indices[s:e] for s, e in zip(starts, ends, strict=True)])
        vals = np.concatenate([self.data[s:e].astype(np.float64) * w
                               for s, e, w in zip(starts, ends, weights, strict=True)])
        return np.bincount(cols, weights=vals, minlength=self.n_cols)

    def toarray(self) -> np.ndarray:
        out = np.zeros(self.shape, dtype=self.data.dtype)
        rows = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        out[rows, self.indices] = self.data
        return out
