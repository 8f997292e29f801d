"""The pipeline: analyses -> text vectors -> neighbours -> expansion -> scored, assembled lists."""

from __future__ import annotations

import dataclasses
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, overload

import numpy as np
import scipy.sparse as sp

from builder.config import RelatedWeights
from builder.related.analyze import Analyzer
from builder.related.assemble import RowLists, assemble
from builder.related.keys import analysis_key
from builder.related.neighbours import top_k
from builder.related.signals import Signals, make_signals, tag_candidates
from builder.related.types import RelatedDoc
from builder.related.vectors import (
    LENT_TERMS,
    TextVectors,
    expand,
    pair_dots,
    prune_rows,
    query_vectors,
    text_vectors,
)

TEXT_CANDIDATES = 32  # first-pass neighbours per document, re-ranked by the full score
EXPAND_NEIGHBOURS = 20  # neighbours whose vocabulary a document borrows
EXPAND_STRENGTH = 1.0  # weight of that borrowed vocabulary (times each neighbour's similarity)
TAG_CANDIDATES = 10  # extra candidates found through shared rare tags alone
TAG_MAX_POSTINGS = 5000  # tags on more documents than this are too broad to search by
NEAR_DUPLICATE = 0.9  # text cosine above which two articles count as the same story
DUPLICATE_PREFILTER = 0.6  # share of a query's own weight a pair must match to be checked as a duplicate


@dataclass(slots=True)
class Outcome:
    """What relate() computed: kept for the lists, for lazy explanations and for updating
    the lists after an edit (builder.related.update) without starting over."""

    docs: list[RelatedDoc]  # in slug order; every index below refers to this order
    count: int
    weights: RelatedWeights
    analyses: Sequence[dict[str, Any]]
    vectors: TextVectors
    queries: sp.csr_matrix  # the vectors cut to what each document searches with
    neighbours: np.ndarray  # (documents, first_k) nearest by text, -1 where fewer
    similarity: np.ndarray  # their (lower-bound) scores
    duplicates: tuple[np.ndarray, np.ndarray]  # near-copy pairs (searching doc, found doc)
    copies: dict[int, frozenset[int]]
    by_tags: np.ndarray | None  # candidates through shared rare tags
    tag_similarity: np.ndarray | None  # their tag scores
    pins: list[tuple[int, ...]]
    excludes: list[frozenset[int]]
    table: np.ndarray  # candidate_table() of the sources above
    signals: Signals
    fallback: Fallback
    lists: RowLists

    def stored(self) -> Outcome:
        """This outcome without the analyses (the build cache keeps those on its own), for
        keeping until the next run."""
        return dataclasses.replace(self, analyses=[])


class Analyses(Sequence[dict[str, Any]]):
    """The analysis of each doc, from CACHE (keyed by analysis_key) where usable, else made and
    put there; each fetched when first asked for: an update after an edit needs only the edited
    documents' (fetching and checking all 10,000 cost 0.03 s, and a related helper then need
    not read the cache's 10,000 at all: 0.07 s). A full run asks for all of them ([:]). (Worker
    processes were tried for cold builds: shipping the analyses back cost more than the
    tokenizing they saved on 2 CPUs.)"""

    def __init__(self, docs: Sequence[RelatedDoc], language: str, cache: MutableMapping[str, Any] | None) -> None:
        self._docs = docs
        self._cache = cache
        self._analyzer = Analyzer(language)
        self._got: list[dict[str, Any] | None] = [None] * len(docs)

    def __len__(self) -> int:
        return len(self._docs)

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._docs)))]
        got = self._got[index]
        if got is not None:
            return got
        doc, cache = self._docs[index], self._cache
        key = analysis_key(doc)
        found: Any = cache.get(key) if cache is not None else None
        analysis: dict[str, Any] = found if self._analyzer.usable(found) else self._analyzer.analyze(doc)
        if analysis is not found and cache is not None:
            cache[key] = analysis
        self._got[index] = analysis
        return analysis


def run(docs: Sequence[RelatedDoc], count: int, weights: RelatedWeights, language: str,
        cache: MutableMapping[str, Any] | None) -> Outcome:
    """Everything relate() needs, computed over DOCS put in slug order (so input order is moot)."""
    ordered = in_slug_order(docs)
    analyses = Analyses(ordered, language, cache)[:]
    vectors = text_vectors(analyses)
    # On large sites each document searches with its strongest terms only, which keeps the
    # work bounded; the scores found are then lower bounds of the full cosine.
    queries = query_vectors(vectors.matrix)
    neighbours, similarity = top_k(queries, vectors.matrix, first_k(count))
    duplicates = duplicate_pairs(vectors.matrix, queries, neighbours, similarity)
    # the text signal is the cosine of neighbourhood-expanded vectors (see vectors.expand)
    expanded = expand(vectors.matrix, prune_rows(vectors.matrix, LENT_TERMS), neighbours[:, :EXPAND_NEIGHBOURS],
                      similarity[:, :EXPAND_NEIGHBOURS], strength=EXPAND_STRENGTH)
    signals = make_signals(ordered, expanded, weights)

    pins, excludes = pins_and_excludes(ordered)
    by_tags, tag_similarity = tag_neighbours(signals)
    table = candidate_table(candidate_sources(count, neighbours, by_tags), pins)
    fallback = Fallback(signals)
    copies = copies_of(duplicates)
    lists = assemble(count, table, pins, excludes, copies, fallback, signals.score)
    return Outcome(ordered, count, weights, analyses, vectors, queries, neighbours, similarity, duplicates, copies,
                   by_tags, tag_similarity, pins, excludes, table, signals, fallback, lists)


def pins_and_excludes(ordered: Sequence[RelatedDoc]) -> tuple[list[tuple[int, ...]], list[frozenset[int]]]:
    """Per document, its pinned and its excluded documents as indices (unknown slugs dropped)."""
    index = {d.slug: i for i, d in enumerate(ordered)}
    none: frozenset[int] = frozenset()
    excludes = [frozenset(index[s] for s in d.excludes if s in index and s != d.slug) if d.excludes else none
                for d in ordered]
    pins = [_resolve_pins(i, d, index, excludes[i]) if d.pins else () for i, d in enumerate(ordered)]
    return pins, excludes


def uses_tags(signals: Signals) -> bool:
    """Whether candidates are also looked up through shared tags."""
    return bool(signals.weights.tags) and signals.tags.nnz > 0


def tag_neighbours(signals: Signals) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Each document's candidates through shared rare tags and their tag scores (None, None when
    tags are not used)."""
    if not uses_tags(signals):
        return None, None
    tags = tag_candidates(signals, TAG_MAX_POSTINGS)
    return top_k(tags, tags, TAG_CANDIDATES)


def in_slug_order(docs: Sequence[RelatedDoc]) -> list[RelatedDoc]:
    """DOCS sorted by slug (every index the engine keeps refers to this order); slugs must be unique."""
    ordered = sorted(docs, key=lambda d: d.slug)
    for a, b in pairwise(ordered):
        if a.slug == b.slug:
            raise ValueError(f"related articles: the slug {a.slug!r} is used by more than one document")
    return ordered


def first_k(count: int) -> int:
    """How many text neighbours each document looks up."""
    return max(TEXT_CANDIDATES, EXPAND_NEIGHBOURS, 2 * count)


def candidate_sources(count: int, neighbours: np.ndarray, by_tags: np.ndarray | None) -> list[np.ndarray]:
    """The neighbour tables a candidate table is made of (rows in step with NEIGHBOURS)."""
    if count <= 0:
        return []
    return [neighbours] if by_tags is None else [neighbours, by_tags]


def _resolve_pins(doc: int, d: RelatedDoc, index: dict[str, int], excluded: frozenset[int]) -> tuple[int, ...]:
    """Pinned indices in the editor's order; unknown slugs, the doc itself and excludes dropped."""
    out: list[int] = []
    for slug in d.pins:
        pin = index.get(slug)
        if pin is not None and pin != doc and pin not in excluded and pin not in out:
            out.append(pin)
    return tuple(out)


def candidate_table(sources: list[np.ndarray], pins: Sequence[tuple[int, ...]]) -> np.ndarray:
    """Per row, the distinct candidate columns from the neighbour tables and the pins (one entry
    per row; the tables' rows are in step with it).

    Shape (rows, width), each row sorted ascending with repeats and gaps (-1) moved to the end.
    """
    n_docs = len(pins)
    width = max((len(p) for p in pins), default=0)
    pinned = np.full((n_docs, width), -1, dtype=np.int32)
    for row, cols in enumerate(pins):
        if cols:
            pinned[row, : len(cols)] = cols
    table = np.concatenate([s.astype(np.int32) for s in sources] + [pinned], axis=1)
    table.sort(axis=1)
    repeat = np.zeros(table.shape, dtype=bool)
    repeat[:, 1:] = table[:, 1:] == table[:, :-1]
    table[repeat | (table < 0)] = np.iinfo(np.int32).max
    table.sort(axis=1)
    table[table == np.iinfo(np.int32).max] = -1
    # drop columns that are empty in every row
    used = int((table >= 0).sum(axis=1).max(initial=0))
    return table[:, :used]


def duplicate_pairs(matrix: sp.csr_matrix, queries: sp.csr_matrix, neighbours: np.ndarray, partial: np.ndarray,
                    rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The near-copies each document (or each of ROWS) finds among its neighbours: the pairs
    (document, neighbour) whose text cosine is above NEAR_DUPLICATE.

    PARTIAL scores come from pruned queries (a document's strongest terms). The exact cosine
    is computed only where the partial score keeps at least DUPLICATE_PREFILTER of the query's
    own mass: a republished story shares nearly all of its strongest terms (in practice over
    95% of that mass), while merely related articles rarely pass, so the check stays cheap.
    NEIGHBOURS and PARTIAL hold one line per document searched.
    """
    chosen = np.arange(matrix.shape[0]) if rows is None else np.asarray(rows, dtype=np.int64)
    lengths = np.diff(queries.indptr)
    own = np.bincount(np.repeat(np.arange(queries.shape[0]), lengths),
                      weights=queries.data.astype(np.float64) ** 2, minlength=queries.shape[0])[chosen]
    rest = np.sqrt(np.clip(1.0 - own, 0.0, None))
    maybe = ((neighbours >= 0) & (partial + rest[:, None] + 1e-6 > NEAR_DUPLICATE)
             & (partial >= DUPLICATE_PREFILTER * own[:, None]))
    left = np.repeat(chosen, maybe.sum(axis=1))
    right = neighbours[maybe].astype(np.int64)
    close = (pair_dots(matrix, left, right) > NEAR_DUPLICATE) & (left != right)
    return left[close], right[close]


def copies_of(pairs: tuple[np.ndarray, np.ndarray]) -> dict[int, frozenset[int]]:
    """Each document's near-copies from the pairs found either way round. Pairs, not clusters:
    joining pairs into connected clusters let a run of similar articles chain into one huge
    "story" and starve every list of them."""
    copies: dict[int, set[int]] = {}
    for a, b in zip(pairs[0].tolist(), pairs[1].tolist()):
        copies.setdefault(a, set()).add(b)
        copies.setdefault(b, set()).add(a)
    return {doc: frozenset(partners) for doc, partners in copies.items()}


class Fallback:
    """Fallback candidates: the documents closest in time, within the same topic and overall."""

    def __init__(self, signals: Signals) -> None:
        n_docs = signals.days.size
        self.by_time = np.lexsort((np.arange(n_docs), signals.days))
        self.position = np.empty(n_docs, dtype=np.int64)
        self.position[self.by_time] = np.arange(n_docs)
        self.topic = signals.topic
        # each topic's documents in time order, from one sort by (topic, time)
        by_topic = self.by_time[np.argsort(signals.topic[self.by_time], kind="stable")]
        topics = signals.topic[by_topic]
        bounds = np.flatnonzero(np.diff(topics)) + 1
        self.topic_members: dict[int, np.ndarray] = {
            int(topics[group[0]]): by_topic[group]
            for group in np.split(np.arange(n_docs), bounds) if group.size and topics[group[0]] >= 0
        }

    def __call__(self, doc: int, size: int) -> np.ndarray:
        pools = [_window(self.by_time, int(self.position[doc]), size)]
        members = self.topic_members.get(int(self.topic[doc]))
        if members is not None:
            where = int(np.searchsorted(self.position[members], self.position[doc]))
            pools.append(_window(members, where, size))
        return np.unique(np.concatenate(pools))


def _window(ordered: np.ndarray, centre: int, size: int) -> np.ndarray:
    """The SIZE entries on each side of CENTRE in ORDERED (which holds the nearest in time)."""
    return ordered[max(0, centre - size) : centre + size + 1]
