"""Related lists after articles were edited, from the previous run's outcome.

An edit reaches few lists. A text edit changes the article's text vector, so its own neighbours,
the lists it was in or now enters, the expanded vectors that borrow from it and the lists that
score those; a tag edit does the same through the tag candidates; a new topic, author or date
changes how the article scores with every other, so the lists it is a candidate in; an added
article is a changed one that was empty before, and a removed one reaches the lists that held
it (builder.related.moves re-indexes the previous state). Everything else is taken over. Each
step recomputes its rows with the same functions a full run uses, and a row's result never
depends on which other rows are computed with it, so the outcome is the one a full run would
give (tests/test_related_update.py compares them).
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
    Analyses,
    Fallback,
    Outcome,
    candidate_sources,
    candidate_table,
    copies_of,
    duplicate_pairs,
    first_k,
    in_slug_order,
    pins_and_excludes,
    tag_neighbours,
    uses_tags,
)
from builder.related.keys import analysis_key
from builder.related.moves import Moves
from builder.related.neighbours import top_k
from builder.related.rows import Renumbering, changed_rows, replace_rows, rows_differ
from builder.related.signals import Signals, make_signals, tag_candidates
from builder.related.types import RelatedDoc
from builder.related.vectors import (
    LENT_TERMS,
    TextVectors,
    expand,
    prune_rows,
    query_vectors,
    text_vectors,
    text_vectors_after,
)

# Past this share of articles reached (changed text vectors or other signals, added or removed),
# most lists change anyway and a full run is about as cheap (measured: even at about 17%).
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
    moves = Moves(previous.docs, ordered)
    if moves.added.size + moves.removed > MAX_CHANGED_SHARE * max(n_docs, 1):
        return None
    before_docs = moves.previous_docs(previous.docs)
    if not moves.identity:
        previous = moves.outcome(previous)
    # documents whose topic, authors or date changed score differently with everyone (a doc the
    # caller took over from PREVIOUS, docs_from_rows, is the very object: nothing to compare)
    differing = [(i, a, b) for i, (a, b) in enumerate(zip(ordered, before_docs)) if a is not b]
    moved = [i for i, a, b in differing if b is None or _SIGNALS(a) != _SIGNALS(b)]
    ruled = [i for i, a, b in differing if b is None or _RULES(a) != _RULES(b)]
    retagged = [i for i, a, b in differing if b is None or a.tags != b.tags]
    analyses = Analyses(ordered, language, cache)
    vectors = _text_vectors(previous, analyses, ordered, before_docs if moves.identity else None)
    renumber = Renumbering(previous.vectors.terms, vectors.terms)
    old_matrix = renumber(previous.vectors.matrix)
    changed = np.union1d(changed_rows(old_matrix, vectors.matrix), moves.added)
    if changed.size + len(moved) + len(retagged) + moves.removed > MAX_CHANGED_SHARE * n_docs:
        return None
    if moves.identity and changed.size == 0 and renumber.identity and not (moved or ruled or retagged):
        return dataclasses.replace(previous, docs=ordered, analyses=analyses)

    old_queries = renumber(previous.queries)
    queries = _queries(vectors.matrix, old_matrix, old_queries, changed)
    neighbours, similarity, searched = _searched_again(
        previous.neighbours, previous.similarity, queries, vectors.matrix, first_k(count), changed,
        np.union1d(changed_rows(old_queries, queries), moves.lost_neighbours))

    # near-copies: a document's pairs depend on its own search and on the texts of what it found
    redo = np.union1d(searched, changed)
    kept = ~np.isin(previous.duplicates[0], redo)
    found = duplicate_pairs(vectors.matrix, queries, neighbours[redo], similarity[redo], rows=redo)
    duplicates = (np.concatenate([previous.duplicates[0][kept], found[0]]),
                  np.concatenate([previous.duplicates[1][kept], found[1]]))
    copies = copies_of(duplicates)

    before = renumber(previous.signals.text)
    expanded = _expanded(vectors.matrix, before, previous, neighbours, similarity, changed)
    touched = np.zeros(n_docs, dtype=bool)
    touched[changed_rows(before, expanded)] = True
    if moves.identity and not (moved or retagged):  # only texts changed: the other signals stand
        signals = dataclasses.replace(previous.signals, text=expanded)
        by_tags, tag_similarity, fallback = previous.by_tags, previous.tag_similarity, previous.fallback
    else:
        signals = make_signals(ordered, expanded, weights)
        tags_renumber = Renumbering(previous.signals.tag_names, signals.tag_names)
        by_tags, tag_similarity = _tag_neighbours(previous, signals, tags_renumber, moves.lost_tag_neighbours)
        touched[changed_rows(tags_renumber(previous.signals.tags), signals.tags)] = True
        fallback = Fallback(signals)
    pins, excludes = (previous.pins, previous.excludes) if moves.identity and not ruled else pins_and_excludes(ordered)
    table = candidate_table(candidate_sources(count, neighbours, by_tags), pins)
    # a list depends on its candidates, their (and its own) signals and their near-copies
    touched[moved] = True
    touched[[doc for doc in previous.copies.keys() | copies.keys() if previous.copies.get(doc) != copies.get(doc)]] = True
    again = touched | previous.lists.filled | rows_differ(previous.table, table)
    again[ruled] = True
    again[moves.lost_items] = True
    again |= np.where(table >= 0, touched[np.maximum(table, 0)], False).any(axis=1)
    lists = _reassembled(previous.lists, count, np.flatnonzero(again), table, pins, excludes, copies, fallback,
                         signals)
    return dataclasses.replace(previous, docs=ordered, analyses=analyses, vectors=vectors, queries=queries,
                               neighbours=neighbours, similarity=similarity, duplicates=duplicates, copies=copies,
                               by_tags=by_tags, tag_similarity=tag_similarity, pins=pins, excludes=excludes,
                               table=table, signals=signals, fallback=fallback, lists=lists)


def _tag_neighbours(previous: Outcome, signals: Signals, renumber: Renumbering,
                    lost: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The candidates found through shared tags, searched again where tags changed (as for text)
    and where a removed article was among them (LOST)."""
    if not uses_tags(signals) or previous.by_tags is None or previous.tag_similarity is None:
        return tag_neighbours(signals)
    tags = tag_candidates(signals, TAG_MAX_POSTINGS)
    moved = changed_rows(renumber(tag_candidates(previous.signals, TAG_MAX_POSTINGS)), tags)
    by_tags, similarity, _ = _searched_again(previous.by_tags, previous.tag_similarity, tags, tags, TAG_CANDIDATES,
                                             moved, np.union1d(moved, lost))
    return by_tags, similarity


def _text_vectors(previous: Outcome, analyses: Sequence[dict[str, Any]], docs: Sequence[RelatedDoc],
                  before: Sequence[RelatedDoc | None] | None) -> TextVectors:
    """text_vectors(ANALYSES); when the documents are those of PREVIOUS in the same order (BEFORE),
    made from its vectors, again only for documents whose analysis key changed."""
    if before is None or previous.vectors.raw is None:
        return text_vectors(analyses[:])
    changed = [i for i, (doc, old) in enumerate(zip(docs, before, strict=True))
               if doc is not old and (old is None or analysis_key(doc) != analysis_key(old))]
    return text_vectors_after(previous.vectors, analyses, changed)


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


def _searched_again(neighbours: np.ndarray, similarity: np.ndarray, queries: sp.csr_matrix, matrix: sp.csr_matrix,
                    k: int, changed: np.ndarray, requery: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NEIGHBOURS and SIMILARITY (from before) with the rows _to_search_again names searched
    again; those rows too."""
    again = _to_search_again(neighbours, similarity, queries, matrix, changed, requery)
    neighbours, similarity = neighbours.copy(), similarity.copy()
    neighbours[again], similarity[again] = top_k(queries, matrix, k, rows=again)
    return neighbours, similarity, again


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
