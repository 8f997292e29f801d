"""Turn scored candidates into display lists: pins, excludes, near-duplicates and fallback fill."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from builder.related.signals import SIGNALS

# (rows, cols) -> weighted signal parts, one row per pair
Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]
# (doc, size) -> candidate columns to fall back on
Pool = Callable[[int, int], np.ndarray]
# doc -> the documents that are near-copies of it (only documents that have any)
Copies = dict[int, frozenset[int]]
_NONE: frozenset[int] = frozenset()


@dataclass(slots=True)
class RowLists:
    """Per document: the chosen related indices, their signal parts and whether each is pinned;
    and which lists needed the fallback pool (their items depend on more than their candidates)."""

    items: list[np.ndarray]
    parts: list[np.ndarray]
    pinned: list[np.ndarray]
    filled: np.ndarray

    def __reduce__(self) -> tuple[Any, ...]:
        # kept between builds: three flat arrays pickle far faster than 30,000 small ones
        lengths = np.fromiter(map(len, self.items), dtype=np.int64, count=len(self.items))
        flat = [np.concatenate(column) if column else np.zeros(0) for column in (self.items, self.parts, self.pinned)]
        return _unpack_lists, (lengths, *flat, self.filled)


def _unpack_lists(lengths: np.ndarray, items: np.ndarray, parts: np.ndarray, pinned: np.ndarray,
                  filled: np.ndarray) -> RowLists:
    bounds = np.cumsum(lengths)[:-1]
    parts = parts.reshape(-1, len(SIGNALS))
    return RowLists(np.split(items.astype(np.int64), bounds), np.split(parts.astype(np.float64), bounds),
                    np.split(pinned.astype(bool), bounds), filled)


@dataclass(slots=True)
class _Row:
    """A list being built one item at a time, with what it may no longer take."""

    doc: int
    count: int
    excluded: frozenset[int]
    position: int = 0  # the row's place in the table being assembled
    items: list[int] = field(default_factory=list)
    parts: list[np.ndarray] = field(default_factory=list)
    pinned: list[bool] = field(default_factory=list)

    @property
    def full(self) -> bool:
        return len(self.items) >= self.count

    def offer(self, col: int, parts: np.ndarray, copies: Copies, *, pinned: bool = False,
              allow_same_story: bool = False) -> None:
        if self.full or col == self.doc or col in self.excluded or col in self.items:
            return
        # an editor's pins are taken as given; computed items skip a near-copy of one already listed
        if not (pinned or allow_same_story) and not copies.get(col, _NONE).isdisjoint(self.items):
            return
        self.items.append(col)
        self.parts.append(parts)
        self.pinned.append(pinned)


def rank(table: np.ndarray, score: Scorer, head: int, docs: np.ndarray,
         chunk: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """TABLE's rows (of documents DOCS) reordered best first (ties by column, i.e. slug), and the
    first HEAD's parts.

    Returns (columns, parts) shaped (rows, width) with -1 gaps last and (rows, HEAD, signals);
    rows are scored a chunk at a time so the pair arrays stay small.
    """
    columns = np.full(table.shape, -1, dtype=np.int32)
    parts = np.zeros((table.shape[0], head, len(SIGNALS)), dtype=np.float64)
    for start in range(0, table.shape[0], chunk):
        block = table[start : start + chunk]
        valid = block >= 0
        rows = docs[np.nonzero(valid)[0] + start]
        flat = score(rows, block[valid].astype(np.int64))
        padded = np.zeros(block.shape + (len(SIGNALS),), dtype=np.float64)
        padded[valid] = flat
        total = np.where(valid, padded.sum(axis=2), -np.inf)
        # rows are sorted by column already, so a stable sort on the score keeps ties in slug order
        order = np.argsort(-total, axis=1, kind="stable")
        columns[start : start + chunk] = np.take_along_axis(block, order, axis=1)
        width = min(head, block.shape[1])
        parts[start : start + chunk, :width] = np.take_along_axis(padded, order[:, :width, None], axis=1)
    return columns, parts


def assemble(
    count: int,
    table: np.ndarray,
    pins: Sequence[tuple[int, ...]],
    excludes: Sequence[frozenset[int]],
    copies: Copies,
    fallback: Pool,
    score: Scorer,
    docs: np.ndarray | None = None,
) -> RowLists:
    """Lists of COUNT items per document from its candidate TABLE row (see candidate_table).

    Table row k belongs to document DOCS[k] (by default, to document k); the lists come back in
    table order. PINS and EXCLUDES are indexed by document. A list depends only on its row, its
    candidates' scores and near-copies, and (when it needs the fallback) the fallback pool.
    """
    n_rows = table.shape[0]
    docs = np.arange(n_rows) if docs is None else np.asarray(docs, dtype=np.int64)
    columns, head_parts = rank(table, score, count, docs)
    lengths = (columns >= 0).sum(axis=1)
    # rows the plain "take the best COUNT" rule cannot serve go the careful way
    has_copy = np.zeros(len(pins), dtype=bool)
    has_copy[list(copies)] = True
    # two candidates that both have near-copies might be copies of each other: check those rows
    shared_story = np.where(columns >= 0, has_copy[np.maximum(columns, 0)], False).sum(axis=1) > 1
    special = (lengths < count) | shared_story
    special |= np.fromiter((bool(pins[doc]) or bool(excludes[doc]) for doc in docs.tolist()), dtype=bool,
                           count=n_rows)

    head = columns[:, :count].astype(np.int64)
    not_pinned = np.zeros(count, dtype=bool)
    items: list[np.ndarray] = list(head)
    item_parts: list[np.ndarray] = list(head_parts)
    pinned: list[np.ndarray] = [not_pinned] * n_rows
    filled = np.zeros(n_rows, dtype=bool)

    short: list[_Row] = []
    careful = np.flatnonzero(special)
    # these rows may reach past their first COUNT candidates, so score them again in full
    careful_valid = columns[careful] >= 0
    careful_parts = score(docs[careful[np.nonzero(careful_valid)[0]]],
                          columns[careful][careful_valid].astype(np.int64))
    careful_start = np.concatenate(([0], np.cumsum(careful_valid.sum(axis=1))))
    for at, position in enumerate(careful):
        doc = int(docs[position])
        row = _Row(doc, count, excludes[doc], int(position))
        row_cols = columns[position][columns[position] >= 0]
        row_parts = careful_parts[careful_start[at] : careful_start[at + 1]]
        where = {int(c): k for k, c in enumerate(row_cols)}
        for pin in pins[int(doc)]:
            row.offer(pin, row_parts[where[pin]], copies, pinned=True)
        for col, col_parts in zip(row_cols, row_parts):
            if row.full:
                break
            row.offer(int(col), col_parts, copies)
        if not row.full:
            short.append(row)
        _store(row, items, item_parts, pinned)
    if short:
        _fill(short, fallback, score, copies, len(pins))
        for row in short:
            filled[row.position] = True
            _store(row, items, item_parts, pinned)
    return RowLists(items, item_parts, pinned, filled)


def _fill(rows: list[_Row], fallback: Pool, score: Scorer, copies: Copies, n_docs: int) -> None:
    """Complete short lists from each document's fallback pool, widening it as needed.

    Only when the whole corpus cannot complete a list without it may a second article of a
    story already listed come in: full lists matter more than that rule.
    """
    for allow_same_story in (False, True):
        for widen in (1, 4, n_docs):
            pending = [row for row in rows if not row.full]
            if not pending:
                return
            pools = [fallback(row.doc, (row.count + len(row.excluded) + len(row.items) + 8) * widen)
                     for row in pending]
            # one scoring call for every pending row: per-row calls cost more in overhead than in work
            sizes = [pool.size for pool in pools]
            all_parts = score(np.repeat(np.array([row.doc for row in pending], dtype=np.int64), sizes),
                              np.concatenate(pools).astype(np.int64) if pools else np.zeros(0, dtype=np.int64))
            bounds = np.concatenate(([0], np.cumsum(sizes)))
            for at, (row, pool) in enumerate(zip(pending, pools)):
                pool_parts = all_parts[bounds[at]:bounds[at + 1]]
                total = pool_parts.sum(axis=1)
                for k in np.lexsort((pool, -total)):
                    if row.full:
                        break
                    row.offer(int(pool[k]), pool_parts[k], copies, allow_same_story=allow_same_story)


def _store(row: _Row, items: list[np.ndarray], parts: list[np.ndarray], pinned: list[np.ndarray]) -> None:
    items[row.position] = np.array(row.items, dtype=np.int64)
    parts[row.position] = np.array(row.parts, dtype=np.float64).reshape(len(row.items), len(SIGNALS))
    pinned[row.position] = np.array(row.pinned, dtype=bool)
