"""Related articles: text, tag, topic, author and recency signals combined into per-article lists."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any

from builder.config import RelatedWeights
from builder.related.keys import analysis_key
from builder.related.types import Explanation, RelatedDoc

if TYPE_CHECKING:
    from builder.related.explain import Explainer

# The engine (NumPy, SciPy) is imported only when lists are computed: a build whose lists come
# from the cache starts faster without it.
ENGINE_MODULE = "builder.related.engine"

__all__ = [
    "ENGINE_MODULE",
    "Explanation",
    "RelatedDoc",
    "RelatedWeights",
    "Relations",
    "analysis_key",
    "analyzer",
    "changed_lists",
    "docs_from_rows",
    "load_engine",
    "relate",
    "reusable_docs",
    "shared_words",
]


def load_engine() -> None:
    """Import the engine (a second call does nothing), SciPy first at a third of its usual cost
    (builder.related.numeric)."""
    if ENGINE_MODULE in sys.modules:
        return
    from builder.related.numeric import import_sparse

    import_sparse()
    importlib.import_module(ENGINE_MODULE)


def analyzer(language: str) -> Callable[[RelatedDoc], Any]:
    """The per-document text analysis relate() caches under analysis_key(doc). Builds run it where
    the text is at hand (in the parse workers), so relate() never needs every text at once."""
    from builder.related.analyze import Analyzer

    return Analyzer(language).analyze


def shared_words(analysis: Any) -> Any:
    """ANALYSIS with its words as interned strings. Analyses made in worker processes arrive with
    fresh copies of every word in each batch; at 100,000 articles those copies of a few thousand
    distinct words took 380 MB, in memory and again in every load of the cache."""
    if isinstance(analysis, dict):
        for name in ("terms", "surface"):
            words = analysis.get(name)
            if isinstance(words, tuple):
                analysis[name] = tuple(map(sys.intern, words))
    return analysis


def reusable_docs(previous: object) -> dict[str, tuple[tuple[Any, ...], RelatedDoc]]:
    """The docs of PREVIOUS (a state relate() returned, or None) with their rows, by slug, for
    docs_from_rows(): a related helper makes it before it is asked for the lists (it took the
    helper 0.02-0.03 s of the time the build waits for them)."""
    return {doc.slug: (doc.as_row(), doc) for doc in getattr(previous, "docs", ())}


def docs_from_rows(rows: Sequence[tuple[Any, ...]],
                   reusable: Mapping[str, tuple[tuple[Any, ...], RelatedDoc]]) -> list[RelatedDoc]:
    """RelatedDoc.from_row() of each row, or the equal doc of the previous state itself (REUSABLE,
    see reusable_docs): an update then compares only the docs that are other objects (making
    10,000 docs took a related helper 0.03-0.05 s of the time the build waits for its lists)."""
    docs = []
    for row in rows:
        old = reusable.get(row[0])
        docs.append(old[1] if old is not None and old[0] == row else RelatedDoc.from_row(row))
    return docs


def changed_lists(before: dict[str, tuple[str, ...]], after: dict[str, tuple[str, ...]]) -> set[str]:
    """Slugs whose related list differs between two runs (added and removed articles included):
    exactly the article pages an incremental build must render again for their related lists."""
    return {slug for slug in before.keys() | after.keys() if before.get(slug) != after.get(slug)}


class Relations:
    """Every document's related slugs in display order, with explanations on demand."""

    __slots__ = ("_explained", "_explainer", "_index", "_lists")

    def __init__(self, lists: dict[str, tuple[str, ...]] | None, explainer: Explainer | None,
                 index: dict[str, int]) -> None:
        """LISTS None: made from the explainer's outcome when first asked for (a helper process
        that sends only the lists an edit changed never makes the others: 0.04 s at 10,000)."""
        self._lists = lists
        self._explainer = explainer
        self._index = index
        self._explained: dict[str, tuple[Explanation, ...]] = {}

    @property
    def lists(self) -> dict[str, tuple[str, ...]]:
        if self._lists is None:
            assert self._explainer is not None
            outcome = self._explainer.outcome
            slugs = [doc.slug for doc in outcome.docs]
            self._lists = {slug: _named(items, slugs) for slug, items in zip(slugs, outcome.lists.items, strict=True)}
        return self._lists

    @classmethod
    def from_lists(cls, lists: dict[str, tuple[str, ...]]) -> Relations:
        """Lists remembered from an earlier run (the build cache); they carry no explanations."""
        return cls(dict(lists), None, {slug: i for i, slug in enumerate(lists)})

    def lists_since(self, previous: object) -> dict[str, tuple[str, ...]] | None:
        """The lists that may differ from those of PREVIOUS (the `state` an earlier call was given
        as its previous one), when both cover the same documents in the same order: the others
        are that call's very lists. None when that is not so (use `lists`)."""
        from builder.related.engine import Outcome

        outcome = None if self._explainer is None else self._explainer.outcome
        if not (isinstance(previous, Outcome) and outcome is not None and len(previous.docs) == len(outcome.docs)
                and all(a.slug == b.slug for a, b in zip(previous.docs, outcome.docs, strict=True))):
            return None
        slugs = [doc.slug for doc in outcome.docs]
        return {slug: _named(now, slugs)
                for slug, now, before in zip(slugs, outcome.lists.items, previous.lists.items, strict=True)
                if now is not before}

    @property
    def state(self) -> object | None:
        """The engine's state behind these lists (None for lists from the cache), picklable: pass
        it to relate() as `previous` after an edit to update the lists rather than start over."""
        return None if self._explainer is None else self._explainer.outcome.stored()

    def explain(self, slug: str) -> tuple[Explanation, ...]:
        """An Explanation for each item of lists[slug], in the same order (KeyError if unknown)."""
        if slug not in self.lists:
            raise KeyError(slug)
        cached = self._explained.get(slug)
        if cached is None:
            if self._explainer is None:
                raise LookupError("these lists came from the build cache; run relate() again to explain them")
            cached = self._explainer.explain(self._index[slug])
            self._explained[slug] = cached
        return cached

    def __repr__(self) -> str:
        return f"Relations({len(self.lists)} lists)"


def _named(items: Any, slugs: Sequence[str]) -> tuple[str, ...]:
    """A list of the engine's (document numbers, an array) as slugs."""
    return tuple(slugs[c] for c in items.tolist())


def relate(
    docs: Sequence[RelatedDoc],
    *,
    count: int = 5,
    weights: RelatedWeights | None = None,
    language: str = "en",
    analyses: MutableMapping[str, Any] | None = None,
    previous: object | None = None,
) -> Relations:
    """Related lists for every doc: pins first, then the best-scoring others, COUNT in all.

    ANALYSES, when given, is a cache from analysis_key(doc) to that doc's analysis; it is read
    to skip re-tokenizing unchanged docs and filled with the analyses made now. PREVIOUS, the
    `state` of an earlier call's result, lets an edit of titles, summaries or texts update the
    lists instead of computing them all again; the result is the same either way.
    """
    if count < 0:
        raise ValueError("related articles: count must be zero or more")
    weights = weights if weights is not None else RelatedWeights()
    if not docs:
        return Relations({}, None, {})
    load_engine()
    from builder.related.engine import run
    from builder.related.explain import Explainer
    from builder.related.update import rerun

    outcome = None
    if previous is not None:
        outcome = rerun(previous, docs, count, weights, language, analyses)
    if outcome is None:
        outcome = run(docs, count, weights, language, analyses)
    return Relations(None, Explainer(outcome), {doc.slug: i for i, doc in enumerate(outcome.docs)})
