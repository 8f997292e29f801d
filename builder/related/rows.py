"""Sparse-matrix rows and candidate tables compared, replaced and renumbered between two runs."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


class Renumbering:
    """Old vocabulary columns -> new ones (the vocabulary is sorted, so order is kept)."""

    def __init__(self, old_terms: list[str], new_terms: list[str]) -> None:
        self.identity = old_terms == new_terms
        if not self.identity:
            index = {term: i for i, term in enumerate(new_terms)}
            self.columns = np.fromiter((index.get(t, -1) for t in old_terms), dtype=np.int64, count=len(old_terms))
            self.width = len(new_terms)

    def __call__(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        """MATRIX over the new vocabulary; an entry for a term gone from every text is dropped
        (its row changed, and the comparison with the new matrix shows it)."""
        if self.identity:
            return matrix
        columns = self.columns[matrix.indices]
        kept = columns >= 0
        if kept.all():  # the usual case: share the values (never changed in place) instead of copying them
            return sp.csr_matrix((matrix.data, columns.astype(matrix.indices.dtype), matrix.indptr),
                                 shape=(matrix.shape[0], self.width))
        counts = np.bincount(np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[kept],
                             minlength=matrix.shape[0])
        indptr = np.concatenate(([0], np.cumsum(counts)))
        return sp.csr_matrix((matrix.data[kept], columns[kept].astype(matrix.indices.dtype), indptr),
                             shape=(matrix.shape[0], self.width))


def entries(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The storage offsets of every entry of ROWS (in row order) in a CSR structure."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))


def changed_rows(old: sp.csr_matrix, new: sp.csr_matrix, block: int = 4096) -> np.ndarray:
    """Rows whose stored entries (columns, values, order) differ between two matrices; compared
    a block of rows at a time, so the offsets never take more than a few megabytes."""
    old_lengths = np.diff(old.indptr)
    differ = old_lengths != np.diff(new.indptr)
    for start in range(0, old.shape[0], block):
        alike = np.flatnonzero(~differ[start : start + block]) + start
        at_old = entries(old.indptr, alike)
        at_new = entries(new.indptr, alike)
        bad = (old.indices[at_old] != new.indices[at_new]) | (old.data[at_old] != new.data[at_new])
        differ[np.repeat(alike, old_lengths[alike])[bad]] = True
    return np.flatnonzero(differ)


def replace_rows(matrix: sp.csr_matrix, rows: np.ndarray, new_rows: sp.csr_matrix) -> sp.csr_matrix:
    """MATRIX with ROWS (ascending) replaced by the rows of NEW_ROWS, in order."""
    lengths = np.diff(matrix.indptr)
    lengths[rows] = np.diff(new_rows.indptr)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    # alternate slices of the kept stretches and the new rows: no per-entry offsets at all
    data: list[np.ndarray] = []
    indices: list[np.ndarray] = []
    kept_from = 0
    for at, row in enumerate(np.asarray(rows).tolist()):
        for out, old, fresh in ((data, matrix.data, new_rows.data), (indices, matrix.indices, new_rows.indices)):
            out.append(old[matrix.indptr[kept_from] : matrix.indptr[row]])
            out.append(fresh[new_rows.indptr[at] : new_rows.indptr[at + 1]])
        kept_from = row + 1
    data.append(matrix.data[matrix.indptr[kept_from] :])
    indices.append(matrix.indices[matrix.indptr[kept_from] :])
    return sp.csr_matrix((np.concatenate(data).astype(matrix.data.dtype, copy=False),
                          np.concatenate(indices).astype(matrix.indices.dtype, copy=False), indptr),
                         shape=matrix.shape)


def rows_differ(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per row, whether two candidate tables (perhaps of different widths) differ."""
    width = max(old.shape[1], new.shape[1])
    differ: np.ndarray = (_widen(old, width) != _widen(new, width)).any(axis=1)
    return differ


def _widen(table: np.ndarray, width: int) -> np.ndarray:
    padded = np.full((table.shape[0], width), -1, dtype=table.dtype)
    padded[:, : table.shape[1]] = table
    return padded
