"""Related lists after articles were edited, from the previous run's outcome.

An edit reaches few lists. A text edit changes the article's text vector, so its own neighbours,
the lists it was in or now enters, the expanded vectors that borrow from it and the lists that
score those; a tag edit does the same through the tag candidates; a new topic, author or date
changes how the article scores with every other, so the lists it is a candidate in. Everything
else is taken over. Each step recomputes its rows with the same functions a full run uses, and a
row's result never depends on which other rows are computed with it, so the outcome is the one
a full run would give (tests/test_related_update.py compares them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
import scipy.sparse as sp

from builder.config import RelatedWeights
from builder.related.assemble import Pool, RowLists, assemble
from builder.related.engine import (
    EXPAND_NEIGHBOURS,
    EXPAND_STRENGTH,
    TAG_CANDIDATES,
    TAG_MAX_POSTINGS,
    Fallback,
    Outcome,
    analyse_all,
    candidate_sources,
    candidate_table,
    copies_of,
    duplicate_pairs,
    first_k,
    in_slug_order,
    pins_and_excludes,
    uses_tags,
)
from builder.related.neighbours import top_k
from builder.related.signals import Signals, make_signals, tag_candidates
from builder.related.types import RelatedDoc
from builder.related.vectors import LENT_TERMS, TextVectors, expand, prune_rows, query_vectors, text_vectors

# Past this share of changed text vectors, most lists change anyway and a full run is cheaper.
MAX_CHANGED_SHARE = 0.1
# Scores recomputed for the "might it enter this list" test may differ from the search's own in
# the last bits (another summation order); anything this close to a list's last score is searched.
SCORE_SLACK = 1e-5

_SIGNALS = attrgetter("topic", "authors", "date")  # what scores pairs besides texts and tags
_RULES = attrgetter("pins", "excludes")


def rerun(previous: object, docs: Sequence[RelatedDoc], count: int, weights: RelatedWeights, language: str,
          cache: MutableMapping[str, Any] | None) -> Outcome | None:
    """The outcome of run(DOCS, ...) computed from PREVIOUS (an Outcome's stored() state), or None
    when a full run is needed: the settings changed, or the edits (added and removed articles
    included) reached too many articles."""
    ordered = in_slug_order(docs)
    if not isinstance(previous, Outcome) or previous.count != count or previous.weights != weights:
        return None
    n_docs = len(ordered)
    moves = _Moves(previous.docs, ordered)
    if moves.added.size + moves.removed > MAX_CHANGED_SHARE * max(n_docs, 1):
        return None
    before_docs = moves.previous_docs(previous.docs)
    if not moves.identity:
        previous = moves.outcome(previous)
    # documents whose topic, authors or date changed score differently with everyone
    moved = [i for i, (a, b) in enumerate(zip(ordered, before_docs)) if b is None or _SIGNALS(a) != _SIGNALS(b)]
    ruled = [i for i, (a, b) in enumerate(zip(ordered, before_docs)) if b is None or _RULES(a) != _RULES(b)]
    retagged = [i for i, (a, b) in enumerate(zip(ordered, before_docs)) if b is None or a.tags != b.tags]
    analyses = analyse_all(ordered, language, cache)
    vectors = text_vectors(analyses)
    renumber = _Renumbering(previous.vectors.terms, vectors.terms)
    old_matrix = renumber(previous.vectors.matrix)
    changed = np.union1d(changed_rows(old_matrix, vectors.matrix), moves.added)
    if changed.size + len(moved) + len(retagged) + moves.removed > MAX_CHANGED_SHARE * n_docs:
        return None
    if moves.identity and changed.size == 0 and renumber.identity and not (moved or ruled or retagged):
        return dataclasses.replace(previous, docs=ordered, analyses=analyses)

    old_queries = renumber(previous.queries)
    queries = _queries(vectors.matrix, old_matrix, old_queries, changed)
    searched = _to_search_again(previous.neighbours, previous.similarity, queries, vectors.matrix, changed,
                                np.union1d(changed_rows(old_queries, queries), moves.lost_neighbours))
    neighbours = previous.neighbours.copy()
    similarity = previous.similarity.copy()
    neighbours[searched], similarity[searched] = top_k(queries, vectors.matrix, first_k(count), rows=searched)

    # near-copies: a document's pairs depend on its own search and on the texts of what it found
    redo = np.union1d(searched, changed)
    kept = ~np.isin(previous.duplicates[0], redo)
    found = duplicate_pairs(vectors.matrix, queries, neighbours[redo], similarity[redo], rows=redo)
    duplicates = (np.concatenate([previous.duplicates[0][kept], found[0]]),
                  np.concatenate([previous.duplicates[1][kept], found[1]]))
    copies = copies_of(duplicates)

    before = renumber(previous.signals.text)
    expanded = _expanded(vectors.matrix, before, previous, neighbours, similarity, changed)
    signals = make_signals(ordered, expanded, weights)
    tags_renumber = _Renumbering(previous.signals.tag_names, signals.tag_names)
    by_tags, tag_similarity = _tag_neighbours(previous, signals, tags_renumber, moves.lost_tag_neighbours)
    pins, excludes = pins_and_excludes(ordered)
    table = candidate_table(candidate_sources(count, neighbours, by_tags), pins)
    # a list depends on its candidates, their (and its own) signals and their near-copies
    touched = np.zeros(n_docs, dtype=bool)
    touched[changed_rows(before, expanded)] = True
    touched[changed_rows(tags_renumber(previous.signals.tags), signals.tags)] = True
    touched[moved] = True
    touched[[doc for doc in previous.copies.keys() | copies.keys() if previous.copies.get(doc) != copies.get(doc)]] = True
    again = touched | previous.lists.filled | _rows_differ(previous.table, table)
    again[ruled] = True
    again[moves.lost_items] = True
    again |= np.where(table >= 0, touched[np.maximum(table, 0)], False).any(axis=1)
    fallback = Fallback(signals)
    lists = _reassembled(previous.lists, count, np.flatnonzero(again), table, pins, excludes, copies, fallback,
                         signals)
    return dataclasses.replace(previous, docs=ordered, analyses=analyses, vectors=vectors, queries=queries,
                               neighbours=neighbours, similarity=similarity, duplicates=duplicates, copies=copies,
                               by_tags=by_tags, tag_similarity=tag_similarity, pins=pins, excludes=excludes,
                               table=table, signals=signals, fallback=fallback, lists=lists)


def _tag_neighbours(previous: Outcome, signals: Signals, renumber: _Renumbering,
                    lost: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The candidates found through shared tags, searched again where tags changed (as for text)
    and where a removed article was among them (LOST)."""
    if not uses_tags(signals):
        return None, None
    tags = tag_candidates(signals, TAG_MAX_POSTINGS)
    if previous.by_tags is None or previous.tag_similarity is None:
        return top_k(tags, tags, TAG_CANDIDATES)
    moved = changed_rows(renumber(tag_candidates(previous.signals, TAG_MAX_POSTINGS)), tags)
    again = _to_search_again(previous.by_tags, previous.tag_similarity, tags, tags, moved, np.union1d(moved, lost))
    by_tags, similarity = previous.by_tags.copy(), previous.tag_similarity.copy()
    by_tags[again], similarity[again] = top_k(tags, tags, TAG_CANDIDATES, rows=again)
    return by_tags, similarity


def _queries(matrix: sp.csr_matrix, old_matrix: sp.csr_matrix, old_queries: sp.csr_matrix,
             changed: np.ndarray) -> sp.csr_matrix:
    """The queries of MATRIX: a query depends on its row and on the lengths of the posting lists
    it could search, so only rows that changed or hold a term whose list changed are cut again."""
    width = matrix.shape[1]
    moved_terms = np.bincount(old_matrix.indices, minlength=width) != np.bincount(matrix.indices, minlength=width)
    affected = np.zeros(matrix.shape[0], dtype=bool)
    affected[np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[moved_terms[matrix.indices]]] = True
    affected[changed] = True
    asked = np.flatnonzero(affected)
    return replace_rows(old_queries, asked, query_vectors(matrix, asked))


def _expanded(matrix: sp.csr_matrix, before: sp.csr_matrix, previous: Outcome, neighbours: np.ndarray,
              similarity: np.ndarray, changed: np.ndarray) -> sp.csr_matrix:
    """The expanded vectors: a row depends on its own text, its first neighbours and their
    similarity, and what those neighbours lend; rows where none of these changed are kept."""
    head = slice(0, EXPAND_NEIGHBOURS)
    again = np.zeros(matrix.shape[0], dtype=bool)
    again[changed] = True
    again |= np.isin(neighbours[:, head], changed).any(axis=1)
    again |= ((neighbours[:, head] != previous.neighbours[:, head])
              | (similarity[:, head] != previous.similarity[:, head])).any(axis=1)
    rows = np.flatnonzero(again)
    lenders = np.unique(neighbours[rows, head])
    lenders = lenders[lenders >= 0]
    lent = replace_rows(sp.csr_matrix(matrix.shape, dtype=matrix.dtype), lenders,
                        prune_rows(matrix[lenders], LENT_TERMS))
    fresh = expand(matrix, lent, neighbours[rows, head], similarity[rows, head], strength=EXPAND_STRENGTH, rows=rows)
    return replace_rows(before, rows, fresh)


def _reassembled(previous: RowLists, count: int, rows: np.ndarray, table: np.ndarray, pins: list[tuple[int, ...]],
                 excludes: list[frozenset[int]], copies: dict[int, frozenset[int]], fallback: Pool,
                 signals: Signals) -> RowLists:
    """PREVIOUS lists with those of ROWS assembled again."""
    partial = assemble(count, table[rows], pins, excludes, copies, fallback, signals.score, docs=rows)
    lists = RowLists(list(previous.items), list(previous.parts), list(previous.pinned), previous.filled.copy())
    for at, doc in enumerate(rows.tolist()):
        lists.items[doc] = partial.items[at]
        lists.parts[doc] = partial.parts[at]
        lists.pinned[doc] = partial.pinned[at]
        lists.filled[doc] = partial.filled[at]
    return lists


def _to_search_again(neighbours: np.ndarray, similarity: np.ndarray, queries: sp.csr_matrix, matrix: sp.csr_matrix,
                     changed: np.ndarray, requery: np.ndarray) -> np.ndarray:
    """Documents whose nearest neighbours (NEIGHBOURS and SIMILARITY, from before) may have
    changed: those that search with a new query, those that had a changed document among their
    neighbours (it may have dropped out) and those a changed document now scores high enough for
    (it may come in)."""
    again = np.zeros(neighbours.shape[0], dtype=bool)
    again[requery] = True
    if changed.size and neighbours.shape[1]:
        again |= np.isin(neighbours, changed).any(axis=1)
        scores = (matrix[changed] @ queries.T).tocoo()
        searcher, candidate, value = scores.col, changed[scores.row], scores.data
        full = neighbours[:, -1] >= 0
        last = similarity[:, -1]
        enters = (value > 0) & (searcher != candidate) & (~full[searcher] | (value >= last[searcher] - SCORE_SLACK))
        again[searcher[enters]] = True
    return np.flatnonzero(again)


class _Moves:
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


class _Renumbering:
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
        counts = np.bincount(np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))[kept],
                             minlength=matrix.shape[0])
        indptr = np.concatenate(([0], np.cumsum(counts)))
        return sp.csr_matrix((matrix.data[kept], columns[kept].astype(matrix.indices.dtype), indptr),
                             shape=(matrix.shape[0], self.width))


def _entries(indptr: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The storage offsets of every entry of ROWS (in row order) in a CSR structure."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))


def changed_rows(old: sp.csr_matrix, new: sp.csr_matrix) -> np.ndarray:
    """Rows whose stored entries (columns, values, order) differ between two matrices."""
    old_lengths = np.diff(old.indptr)
    differ = old_lengths != np.diff(new.indptr)
    alike = np.flatnonzero(~differ)
    at_old = _entries(old.indptr, alike)
    at_new = _entries(new.indptr, alike)
    bad = (old.indices[at_old] != new.indices[at_new]) | (old.data[at_old] != new.data[at_new])
    differ[np.repeat(alike, old_lengths[alike])[bad]] = True
    return np.flatnonzero(differ)


def replace_rows(matrix: sp.csr_matrix, rows: np.ndarray, new_rows: sp.csr_matrix) -> sp.csr_matrix:
    """MATRIX with ROWS (ascending) replaced by the rows of NEW_ROWS, in order."""
    lengths = np.diff(matrix.indptr)
    lengths[rows] = np.diff(new_rows.indptr)
    indptr = np.concatenate(([0], np.cumsum(lengths)))
    data = np.empty(int(indptr[-1]), dtype=matrix.data.dtype)
    indices = np.empty(int(indptr[-1]), dtype=matrix.indices.dtype)
    others = np.setdiff1d(np.arange(matrix.shape[0]), rows)
    source, target = _entries(matrix.indptr, others), _entries(indptr, others)
    data[target], indices[target] = matrix.data[source], matrix.indices[source]
    target = _entries(indptr, rows)
    data[target], indices[target] = new_rows.data, new_rows.indices
    return sp.csr_matrix((data, indices, indptr), shape=matrix.shape)


def _rows_differ(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Per row, whether two candidate tables (perhaps of different widths) differ."""
    width = max(old.shape[1], new.shape[1])
    differ: np.ndarray = (_widen(old, width) != _widen(new, width)).any(axis=1)
    return differ


def _widen(table: np.ndarray, width: int) -> np.ndarray:
    padded = np.full((table.shape[0], width), -1, dtype=table.dtype)
    padded[:, : table.shape[1]] = table
    return padded
