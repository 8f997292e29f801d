"""Weighted, pruned, L2-normalised sparse vectors: TF-IDF text, tag, author and expanded text."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np
import scipy.sparse as sp

from builder.related.threads import each_block

# Title words say what a story is about more reliably than body words; the summary sits between.
FIELD_WEIGHTS = np.array([2.0, 1.5, 1.0], dtype=np.float32)  # title, summary, body
MIN_DF = 2  # a term in one document cannot relate two documents; it only dilutes the norm
MAX_DF = 0.5  # terms in more than half the documents carry no topic (the stop list for any language)
MAX_DF_MIN_DOCS = 50  # below this, document frequencies are too noisy to cut on
IDF_STEP = 0.25  # idf grid (list quality on the Reuters sample: p@5 0.870 with it, 0.869 without)
SIZE_STEPS = 16  # the site size the statistics use moves in steps of 2^(1/16), about 4.4%
KEEP_TERMS = 100  # each document keeps its strongest terms; bounds posting lists and helps quality
QUERY_TERMS = 30  # a query always keeps at least its strongest terms ...
QUERY_WORK = 25_000_000  # ... and more while the whole search stays within this many postings
LENT_TERMS = 30  # terms a document lends to its neighbours' expansion
EXPANDED_TERMS = 40  # terms kept in a neighbourhood-expanded vector
# The raw term weights (8 bytes an entry) are kept for updates up to this many entries, about
# 40,000 articles: at 100,000 they would add 80 MB to the state, and an update holds the old and
# the new at once (an edit there peaked at 1,989 MB instead of 1,813 MB, against 2 GB of memory).
KEEP_RAW_ENTRIES = 4_000_000


class TextVectors:
    """The text matrix (documents x terms) and the vocabulary it was built over; with `raw` (up to
    KEEP_RAW_ENTRIES), the weights before idf, pruning and normalising, from which
    text_vectors_after() makes the matrix again after a few documents changed."""

    def __init__(self, matrix: sp.csr_matrix, terms: list[str], raw: RawTerms | None = None) -> None:
        self.matrix = matrix
        self.terms = terms
        self.raw = raw


class RawTerms:
    """Every document's terms as columns of the vocabulary (CSR layout: `cols` and `indptr`) and
    their sublinear, field-weighted term frequencies `tf`."""

    def __init__(self, cols: np.ndarray, indptr: np.ndarray, tf: np.ndarray) -> None:
        self.cols = cols
        self.indptr = indptr
        self.tf = tf


def site_size(n_docs: int) -> float:
    """N as the word statistics see it: on a grid, so that adding or removing an article leaves
    every other article's weights as they were, except when the count crosses a grid line."""
    if n_docs <= MAX_DF_MIN_DOCS:
        return float(n_docs)
    return float(2.0 ** (round(np.log2(n_docs) * SIZE_STEPS) / SIZE_STEPS))


def text_vectors(analyses: Sequence[dict[str, Any]]) -> TextVectors:
    """Sublinear, field-weighted TF-IDF over cached analyses, pruned and L2-normalised."""
    per_doc = [a["terms"] for a in analyses]
    vocab = sorted(set().union(*per_doc))  # sorted, so column order never depends on input order
    index = {term: i for i, term in enumerate(vocab)}
    cols, indptr = _columns(per_doc, index)
    del index
    return _vectors(RawTerms(cols, indptr, _term_frequencies(analyses, indptr)), vocab)


def text_vectors_after(previous: TextVectors, analyses: Sequence[dict[str, Any]], changed: Sequence[int]) -> TextVectors:
    """text_vectors(ANALYSES), made from PREVIOUS (text_vectors of as many documents, in the same
    order) where only the documents CHANGED (ascending) have other analyses: their columns and
    frequencies are worked out again and spliced in, and the vocabulary renumbered if it gained or
    lost a term. The same matrix, without mapping a million words to columns again (0.06 s at
    10,000 articles)."""
    raw = previous.raw
    if raw is None or len(analyses) + 1 != len(raw.indptr):
        raise ValueError("text_vectors_after needs the raw weights of as many documents")
    vocab, cols, indptr = previous.terms, raw.cols, raw.indptr
    spans = [(int(indptr[i]), int(indptr[i + 1])) for i in changed]
    lost = np.bincount(np.concatenate([cols[a:b] for a, b in spans]) if spans else np.zeros(0, dtype=np.int32),
                       minlength=len(vocab))
    left = np.bincount(cols, minlength=len(vocab)) - lost
    gained = set().union(*(analyses[i]["terms"] for i in changed))
    gone = {vocab[i] for i in np.flatnonzero((left == 0) & (lost > 0)).tolist()} - gained
    if gone or not gained.issubset(vocab):
        new_vocab = sorted((set(vocab) - gone) | gained)
        position = {term: i for i, term in enumerate(new_vocab)}
        mapping = np.array([position.get(term, -1) for term in vocab], dtype=np.int32)
        cols, vocab = mapping[cols], new_vocab
    index = {term: i for i, term in enumerate(vocab)}
    new_cols, new_indptr = _columns([analyses[i]["terms"] for i in changed], index)
    new_tf = _term_frequencies([analyses[i] for i in changed], new_indptr)
    # splice: the kept documents' stretches, each changed document's new one in its place
    col_parts, tf_parts, lengths = [], [], np.diff(indptr)
    start = 0
    for k, (i, (a, b)) in enumerate(zip(changed, spans, strict=True)):
        col_parts += [cols[start:a], new_cols[new_indptr[k]:new_indptr[k + 1]]]
        tf_parts += [raw.tf[start:a], new_tf[new_indptr[k]:new_indptr[k + 1]]]
        lengths[i] = new_indptr[k + 1] - new_indptr[k]
        start = b
    col_parts.append(cols[start:])
    tf_parts.append(raw.tf[start:])
    spliced_indptr = np.zeros(len(analyses) + 1, dtype=np.int64)
    np.cumsum(lengths, out=spliced_indptr[1:])
    return _vectors(RawTerms(np.concatenate(col_parts).astype(np.int32, copy=False), spliced_indptr,
                             np.concatenate(tf_parts)), list(vocab))


def _vectors(raw: RawTerms, vocab: list[str]) -> TextVectors:
    """The vectors of RAW over VOCAB, keeping RAW for updates up to KEEP_RAW_ENTRIES."""
    return TextVectors(_weighted(raw, len(vocab)), vocab, raw if raw.cols.size <= KEEP_RAW_ENTRIES else None)


def _columns(per_doc: Sequence[Sequence[str]], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.fromiter(map(len, per_doc), dtype=np.int64, count=len(per_doc))
    indptr = np.zeros(len(per_doc) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    cols = np.fromiter(map(index.__getitem__, chain.from_iterable(per_doc)), dtype=np.int32, count=int(indptr[-1]))
    return cols, indptr


def _term_frequencies(analyses: Sequence[dict[str, Any]], indptr: np.ndarray) -> np.ndarray:
    """Sublinear field-weighted term frequencies, in the order of the analyses' terms."""
    n_docs = len(analyses)
    tf = np.zeros(int(indptr[-1]), dtype=np.float32)
    # a few thousand documents at a time: all the counts at once took 120 MB at 100,000 articles
    for start in range(0, n_docs, 4096):
        block = tf[indptr[start] : indptr[min(start + 4096, n_docs)]]
        if block.size:
            counts = np.frombuffer(b"".join([a["counts"] for a in analyses[start : start + 4096]]),
                                   dtype="<u2").reshape(-1, len(FIELD_WEIGHTS))
            for field, weight in enumerate(FIELD_WEIGHTS):
                block += weight * counts[:, field]
    # sublinear tf: the tenth mention of a word adds far less evidence than the second
    np.maximum(tf, 1.0, out=tf)
    np.log(tf, out=tf)
    tf += 1.0
    return tf


def _weighted(raw: RawTerms, n_terms: int) -> sp.csr_matrix:
    """The text matrix from raw term frequencies (which it leaves as they are): idf-weighted,
    pruned, L2-normalised."""
    n_docs = len(raw.indptr) - 1
    df = np.bincount(raw.cols, minlength=n_terms).astype(np.float64)
    # the smoothed idf (+1) keeps common-but-topical words in play; plain log(N/df) hurt recall
    size = site_size(n_docs)
    idf = np.log((1.0 + size) / (1.0 + df)) + 1.0
    # Snapped to a grid: one edit moves a word's document frequency by one, which then changes
    # the weight of that word in no other article unless its idf crosses a grid line (for a word
    # in d articles, about 1 time in d * IDF_STEP). Without the grid every article sharing any
    # word with the edited one would change, and the related lists could not be updated locally.
    idf = np.round(idf / IDF_STEP) * IDF_STEP
    idf[df < MIN_DF] = 0.0
    if n_docs >= MAX_DF_MIN_DOCS:
        idf[df > MAX_DF * size] = 0.0
    data = raw.tf * idf.astype(np.float32)[raw.cols]
    # (copies of the columns: the matrix's own arrays are changed in place below)
    matrix = sp.csr_matrix((data, raw.cols.copy(), raw.indptr.copy()), shape=(n_docs, n_terms))
    matrix.eliminate_zeros()
    return normalize_rows(prune_rows(matrix, KEEP_TERMS))


def prune_rows(matrix: sp.csr_matrix, keep: int) -> sp.csr_matrix:
    """MATRIX with each row cut to its KEEP largest entries (ties at the cut all stay)."""
    lengths = np.diff(matrix.indptr)
    long_rows = np.flatnonzero(lengths > keep)
    if long_rows.size == 0:
        return matrix
    data = matrix.data.copy()
    # shortest rows first, in groups whose padded (rows x longest row) array stays small
    long_rows = long_rows[np.argsort(lengths[long_rows], kind="stable")]
    budget = 1_000_000
    start = 0
    while start < long_rows.size:
        width = int(lengths[long_rows[start]])
        stop = min(long_rows.size, start + max(1, budget // width))
        width = int(lengths[long_rows[stop - 1]])
        stop = min(stop, start + max(1, budget // width))
        width = int(lengths[long_rows[stop - 1]])
        rows = long_rows[start:stop]
        row_lengths = lengths[rows]
        row_of = np.repeat(np.arange(rows.size), row_lengths)
        first = np.repeat(np.cumsum(row_lengths) - row_lengths, row_lengths)
        position = np.arange(row_of.size) - first
        offsets = np.repeat(matrix.indptr[rows], row_lengths) + position
        padded = np.full((rows.size, width), -np.inf, dtype=np.float32)
        padded[row_of, position] = data[offsets]
        threshold = -np.partition(-padded, keep - 1, axis=1)[:, keep - 1]
        small = data[offsets] < threshold[row_of]
        data[offsets[small]] = 0.0
        start = stop
    return _compact(matrix, data, data != 0)


def _compact(matrix: sp.csr_matrix, data: np.ndarray, kept: np.ndarray) -> sp.csr_matrix:
    """MATRIX's structure with DATA, keeping only the entries marked in KEPT."""
    lengths = np.diff(matrix.indptr)
    kept_per_row = np.zeros(matrix.shape[0], dtype=np.int64)
    # reduceat over non-empty rows only: an empty row's start would repeat the next one's
    kept_per_row[lengths > 0] = np.add.reduceat(kept.astype(np.int64), matrix.indptr[:-1][lengths > 0])
    indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
    np.cumsum(kept_per_row, out=indptr[1:])
    return sp.csr_matrix((data[kept], matrix.indices[kept], indptr), shape=matrix.shape)


def query_vectors(full: sp.csr_matrix, rows: np.ndarray | None = None) -> sp.csr_matrix:
    """Rows (all, or ROWS only) cut to the strongest terms a search can afford (not re-normalised).

    Each row keeps its QUERY_TERMS strongest terms, then further terms (strongest first) while
    the posting lists it touches stay within QUERY_WORK / rows. Small sites thus search with
    whole vectors (exact), large ones with each article's most telling words only. A row's
    query depends on the row and on the posting list lengths, nothing else.
    """
    budget = QUERY_WORK / max(site_size(full.shape[0]), 1.0)
    postings = np.bincount(full.indices, minlength=full.shape[1]).astype(np.float64)
    matrix = full if rows is None else full[rows]
    n_rows = matrix.shape[0]
    lengths = np.diff(matrix.indptr)
    data = matrix.data.copy()
    chunk = max(1, 1_000_000 // max(int(lengths.max(initial=1)), 1))
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        row_lengths = lengths[start:stop]
        width = int(row_lengths.max(initial=0))
        if width <= QUERY_TERMS:
            continue
        row_of = np.repeat(np.arange(stop - start), row_lengths)
        offsets = np.arange(matrix.indptr[start], matrix.indptr[stop])
        position = offsets - np.repeat(matrix.indptr[start:stop], row_lengths)
        weight = np.full((stop - start, width), -np.inf, dtype=np.float32)
        cost = np.zeros((stop - start, width), dtype=np.float64)
        weight[row_of, position] = data[offsets]
        cost[row_of, position] = postings[matrix.indices[offsets]]
        order = np.argsort(-weight, axis=1, kind="stable")
        spent = np.cumsum(np.take_along_axis(cost, order, axis=1), axis=1)
        keep_sorted = (np.arange(width)[None, :] < QUERY_TERMS) | (spent <= budget)
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        drop = ~keep[row_of, position]
        data[offsets[drop]] = 0.0
    kept = data != 0
    return _compact(matrix, data, kept)


def normalize_rows(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """MATRIX with every non-empty row scaled to unit L2 length."""
    lengths = np.diff(matrix.indptr)
    squares = np.zeros(matrix.shape[0], dtype=np.float64)
    if matrix.nnz:
        sums = np.add.reduceat(np.square(matrix.data, dtype=np.float64), matrix.indptr[:-1][lengths > 0])
        squares[lengths > 0] = sums
    norms = np.sqrt(squares)
    norms[norms == 0] = 1.0
    data = matrix.data.astype(np.float32, copy=True)
    data *= np.repeat((1.0 / norms).astype(np.float32), lengths)
    return sp.csr_matrix((data, matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape)


def label_vectors(
    labels: Sequence[tuple[str, ...]], *, idf_weighted: bool
) -> tuple[sp.csr_matrix, list[str]]:
    """Documents x labels (tags or authors): rarity-weighted and normalised, or plain 0/1."""
    vocab = sorted(set(chain.from_iterable(labels)))
    index = {label: i for i, label in enumerate(vocab)}
    rows: list[int] = []
    cols: list[int] = []
    for row, items in enumerate(labels):
        for col in sorted({index[label] for label in items}):
            rows.append(row)
            cols.append(col)
    shape = (len(labels), len(vocab))
    matrix = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.float32), (np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64))),
        shape=shape,
    )
    if idf_weighted and vocab:
        df = np.bincount(matrix.indices, minlength=len(vocab)).astype(np.float64)
        # a tag shared by three articles says more than one on half the site
        # on the idf grid too: a re-tag then rarely changes the weights of other articles' tags
        idf = (np.round(np.log1p(site_size(len(labels)) / np.maximum(df, 1.0)) / IDF_STEP) * IDF_STEP).astype(np.float32)
        matrix.data = matrix.data * idf[matrix.indices]
        matrix = normalize_rows(matrix)
    return matrix, vocab


def expand(
    matrix: sp.csr_matrix,
    lent: sp.csr_matrix,
    neighbours: np.ndarray,
    similarity: np.ndarray,
    *,
    strength: float,
    rows: np.ndarray | None = None,
    keep: int = EXPANDED_TERMS,
    block: int = 4096,
) -> sp.csr_matrix:
    """Each vector (or each of ROWS) plus STRENGTH x the similarity-weighted sum of its
    neighbours' LENT vectors; NEIGHBOURS and SIMILARITY hold one line per row expanded.

    Document expansion from nearest neighbours: a short or oddly worded article borrows the
    vocabulary its closest articles share, so two articles about the same story match even
    when they use different words. Weights are raw similarities (not shares), so an article
    with no close neighbours stays almost as it was. Neighbours lend only their strongest terms
    (LENT), which keeps the mix small. Each row comes out the same whatever rows go with it.
    """
    chosen = np.arange(matrix.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    n_rows = chosen.size
    valid = neighbours >= 0
    graph = sp.csr_matrix(
        (similarity[valid].astype(np.float32) * np.float32(strength),
         (np.repeat(np.arange(n_rows), valid.sum(axis=1)), neighbours[valid])),
        shape=(n_rows, matrix.shape[0]),
    )

    def mix(start: int) -> sp.csr_matrix:
        stop = min(start + block, n_rows)
        own = matrix[start:stop] if rows is None else matrix[chosen[start:stop]]
        mixed = (own + graph[start:stop] @ lent).tocsr()
        # sums over a row follow its storage order: make that order canonical, whatever the path
        mixed.sort_indices()
        return normalize_rows(prune_rows(mixed, keep))

    parts = each_block(mix, range(0, n_rows, block))
    empty = sp.csr_matrix((0, matrix.shape[1]), dtype=np.float32)
    expanded = sp.vstack(parts, format="csr") if parts else empty
    expanded.sort_indices()
    return expanded


def pair_dots(matrix: sp.csr_matrix, left: np.ndarray, right: np.ndarray, block: int = 16_384) -> np.ndarray:
    """Row-by-row dot products matrix[left[k]] . matrix[right[k]], computed in blocks."""
    out = np.zeros(left.size, dtype=np.float32)

    def dots(start: int) -> None:
        stop = min(start + block, left.size)
        product = matrix[left[start:stop]].multiply(matrix[right[start:stop]])
        out[start:stop] = np.asarray(product.sum(axis=1), dtype=np.float32).ravel()

    each_block(dots, range(0, left.size, block))
    return out
