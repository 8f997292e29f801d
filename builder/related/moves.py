"""A previous run's state re-indexed to a new list of documents (some added, some removed)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from builder.related.assemble import RowLists
from builder.related.engine import Outcome
from builder.related.rows import replace_rows
from builder.related.types import RelatedDoc
from builder.related.vectors import TextVectors


class Moves:
    """How the documents moved between two runs (slug order): which new row each old one became,
    which rows are new, and which rows referred to a document that is gone."""

    def __init__(self, before: Sequence[RelatedDoc], after: Sequence[RelatedDoc]) -> None:
        self.identity = len(before) == len(after) and all(a.slug == b.slug for a, b in zip(before, after))
        empty = np.zeros(0, dtype=np.int64)
        self.added, self.removed = empty, 0
        self.lost_neighbours = self.lost_tag_neighbours = self.lost_items = empty
        if self.identity:
            return
        where = {d.slug: i for i, d in enumerate(before)}
        self.old_of_new = np.array([where.get(d.slug, -1) for d in after], dtype=np.int64)
        self.new_of_old = np.full(len(before), -1, dtype=np.int64)
        kept = np.flatnonzero(self.old_of_new >= 0)
        self.new_of_old[self.old_of_new[kept]] = kept
        self.kept = kept
        self.added = np.flatnonzero(self.old_of_new < 0)
        self.removed = int((self.new_of_old < 0).sum())
        self.size = len(after)

    def previous_docs(self, before: Sequence[RelatedDoc]) -> list[RelatedDoc | None]:
        """Per new row, the document it was before (None for an added one)."""
        if self.identity:
            return list(before)
        return [before[i] if i >= 0 else None for i in self.old_of_new.tolist()]

    def outcome(self, previous: Outcome) -> Outcome:
        """PREVIOUS as if it had been computed over the new rows: kept rows moved to their new
        places with every document index renumbered, added rows empty, removed documents gone
        (the rows that referred to them are noted in lost_*)."""
        neighbours, similarity, self.lost_neighbours = self._table(previous.neighbours, previous.similarity)
        by_tags, tag_similarity = previous.by_tags, previous.tag_similarity
        if by_tags is not None and tag_similarity is not None:
            by_tags, tag_similarity, self.lost_tag_neighbours = self._table(by_tags, tag_similarity)
        table, _, lost_candidates = self._table(previous.table, np.zeros(previous.table.shape, dtype=np.float32))
        lists, self.lost_items = self._lists(previous.lists)
        self.lost_items = np.union1d(self.lost_items, lost_candidates)
        left, right = (self.new_of_old[side] for side in previous.duplicates)
        both = (left >= 0) & (right >= 0)
        duplicates = (left[both], right[both])
        copies = {int(self.new_of_old[doc]): frozenset(int(self.new_of_old[p]) for p in partners
                                                       if self.new_of_old[p] >= 0)
                  for doc, partners in previous.copies.items() if self.new_of_old[doc] >= 0}
        vectors = TextVectors(self._rows(previous.vectors.matrix), previous.vectors.terms)
        signals = dataclasses.replace(previous.signals, text=self._rows(previous.signals.text),
                                      tags=self._rows(previous.signals.tags))
        return dataclasses.replace(previous, vectors=vectors, queries=self._rows(previous.queries),
                                   neighbours=neighbours, similarity=similarity, duplicates=duplicates,
                                   copies={doc: partners for doc, partners in copies.items() if partners},
                                   by_tags=by_tags, tag_similarity=tag_similarity, table=table, signals=signals,
                                   lists=lists)

    def _rows(self, matrix: sp.csr_matrix) -> sp.csr_matrix:
        empty = sp.csr_matrix((self.size, matrix.shape[1]), dtype=matrix.dtype)
        return replace_rows(empty, self.kept, matrix[self.old_of_new[self.kept]])

    def _table(self, indices: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A (documents, k) table of document indices and its scores in the new rows; the rows
        that lost an entry to a removed document."""
        renamed = np.where(indices >= 0, self.new_of_old[np.maximum(indices, 0)], -1)
        lost = np.asarray(((indices >= 0) & (renamed < 0)).any(axis=1), dtype=bool)
        out = np.full((self.size, indices.shape[1]), -1, dtype=indices.dtype)
        out_scores = np.zeros((self.size, scores.shape[1]), dtype=scores.dtype)
        out[self.kept] = renamed[self.old_of_new[self.kept]]
        out_scores[self.kept] = scores[self.old_of_new[self.kept]]
        return out, out_scores, self.kept[lost[self.old_of_new[self.kept]]]

    def _lists(self, lists: RowLists) -> tuple[RowLists, np.ndarray]:
        none = np.zeros(0, dtype=np.int64)
        moved = RowLists([none] * self.size, [np.zeros((0, lists.parts[0].shape[1] if lists.parts else 0))] * self.size,
                         [np.zeros(0, dtype=bool)] * self.size, np.ones(self.size, dtype=bool))
        lost = []
        for new, old in zip(self.kept.tolist(), self.old_of_new[self.kept].tolist()):
            items = self.new_of_old[lists.items[old]]
            if (items < 0).any():
                lost.append(new)
            moved.items[new] = items
            moved.parts[new] = lists.parts[old]
            moved.pinned[new] = lists.pinned[old]
            moved.filled[new] = lists.filled[old]
        return moved, np.array(lost, dtype=np.int64)
