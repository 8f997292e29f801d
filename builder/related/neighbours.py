"""Blockwise exact top-k by sparse dot product, never materialising the n x n similarity matrix."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from builder.related.threads import each_block

FLOP_BUDGET = 6_000_000  # multiply-adds per block: bounds each block's product size
CELL_BUDGET = 6_000_000  # cells of the padded score array per block (~48 MB with its columns)
MAX_BLOCK_ROWS = 2048
SAMPLE_FACTOR = 8  # a sample of SAMPLE_FACTOR * k entries of a row gives a safe floor for its top k


def _blocks(flops: np.ndarray, widths: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive row ranges whose estimated work and padded size stay within budget."""
    n_rows = flops.size
    start = 0
    while start < n_rows:
        stop = start
        work = 0.0
        width = 1
        while stop < n_rows and stop - start < MAX_BLOCK_ROWS:
            new_width = max(width, int(widths[stop]))
            if stop > start and (work + flops[stop] > FLOP_BUDGET or (stop - start + 1) * new_width > CELL_BUDGET):
                break
            work += float(flops[stop])
            width = new_width
            stop += 1
        yield start, stop
        start = stop


def top_k(queries: sp.csr_matrix, index: sp.csr_matrix, k: int,
          rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For every query row i (or each of ROWS), the K index rows j != i with the largest positive
    dot product.

    QUERIES and INDEX have the same rows (documents), queries usually pruned to fewer terms.
    Returns (indices, scores), both shaped (rows, K), ordered by score descending and then by
    row index (rows are in slug order, so ties break by slug); missing places hold -1 and 0.
    A row's result does not depend on which other rows are searched with it.
    """
    n_docs = queries.shape[0]
    subset = rows is not None
    chosen = np.asarray(rows, dtype=np.int64) if subset else np.arange(n_docs)
    n_rows = chosen.size
    indices = np.full((n_rows, k), -1, dtype=np.int32)
    scores = np.zeros((n_rows, k), dtype=np.float32)
    if n_rows == 0 or k == 0 or queries.nnz == 0 or index.nnz == 0:
        return indices, scores
    transposed = index.T.tocsr()
    postings = np.diff(transposed.indptr).astype(np.float64)
    # the work of a row is the total length of the posting lists it touches
    flops = np.bincount(
        np.repeat(np.arange(n_docs), np.diff(queries.indptr)), weights=postings[queries.indices], minlength=n_docs
    )[chosen]
    widths = np.minimum(flops, n_docs)

    def run(block: tuple[int, int]) -> None:
        start, stop = block
        ids = chosen[start:stop]
        searched = queries[ids] if subset else queries[start:stop]
        product = (searched @ transposed).tocsr()
        _select(product, ids, k, indices[start:stop], scores[start:stop])

    each_block(run, list(_blocks(flops, widths)))
    return indices, scores


def _select(product: sp.csr_matrix, row_ids: np.ndarray, k: int, out_idx: np.ndarray, out_score: np.ndarray) -> None:
    """Write each row's top K (excluding the row's own document) into OUT_IDX / OUT_SCORE."""
    n_rows = product.shape[0]
    indptr = product.indptr.astype(np.int64, copy=False)
    values = product.data.astype(np.float32, copy=False)
    columns = product.indices
    lengths = np.diff(indptr)
    want = k + 1  # the row's own document may be among its best; it is dropped below
    sample_width = SAMPLE_FACTOR * want
    rounds = 0
    row_of: np.ndarray | None = None
    while lengths.max(initial=0) > sample_width and rounds < 3:
        # The want-th best of any subset of a row is a lower bound of the row's want-th best,
        # so a cheap evenly spaced sample can drop most entries before the exact selection.
        rounds += 1
        steps = np.arange(sample_width)[None, :]
        # distinct positions only: a repeated entry would count twice towards the k-th best
        spread = np.where(lengths[:, None] > sample_width, (steps * lengths[:, None]) // sample_width, steps)
        inside = steps < lengths[:, None]
        offsets = np.minimum(indptr[:-1, None] + spread, max(values.size - 1, 0))
        sample = np.where(inside, values[offsets], -np.inf)
        floor = -np.partition(-sample, want - 1, axis=1)[:, want - 1]
        survivors = np.flatnonzero(values >= np.repeat(floor, lengths))
        row_of = np.searchsorted(indptr, survivors, side="right") - 1
        values, columns = values[survivors], columns[survivors]
        lengths = np.bincount(row_of, minlength=n_rows)
        indptr = np.concatenate(([0], np.cumsum(lengths)))
    if row_of is None:
        row_of = np.repeat(np.arange(n_rows), lengths)
    # a document is never its own neighbour, and only real overlap counts
    keep = (values > 0) & (columns != row_ids[row_of])
    row_of, values, columns = row_of[keep], values[keep], columns[keep].astype(np.int32)
    lengths = np.bincount(row_of, minlength=n_rows)
    width = int(lengths.max(initial=0))
    if width == 0:
        return
    position = np.arange(row_of.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    padded = np.full((n_rows, width), -np.inf, dtype=np.float32)
    padded_cols = np.full((n_rows, width), np.iinfo(np.int32).max, dtype=np.int32)
    padded[row_of, position] = values
    padded_cols[row_of, position] = columns
    take = min(k, width)
    if width > take:
        chosen = np.argpartition(-padded, take - 1, axis=1)[:, :take]
        # a tie at the cut must not depend on storage order: re-choose those rows exactly
        cut = np.take_along_axis(padded, chosen, axis=1).min(axis=1)
        ties = np.isfinite(cut) & ((padded >= cut[:, None]).sum(axis=1) > take)
        for row in np.flatnonzero(ties):
            chosen[row] = np.lexsort((padded_cols[row], -padded[row]))[:take]
        padded = np.take_along_axis(padded, chosen, axis=1)
        padded_cols = np.take_along_axis(padded_cols, chosen, axis=1)
    order = np.lexsort((padded_cols, -padded), axis=1)
    best = np.take_along_axis(padded, order, axis=1)
    best_cols = np.take_along_axis(padded_cols, order, axis=1)
    found = np.isfinite(best)
    out_idx[:, :take] = np.where(found, best_cols, -1)
    out_score[:, :take] = np.where(found, best, 0.0)
