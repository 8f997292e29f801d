"""Human-readable reasons for each related item: signal parts, shared terms and tags."""

from __future__ import annotations

from itertools import chain

import numpy as np
import scipy.sparse as sp

from builder.related.engine import Outcome
from builder.related.signals import SIGNALS
from builder.related.types import Explanation

SHARED_TERMS = 8


class Explainer:
    """Builds Explanation objects on demand; the corpus-wide word forms are found once, lazily."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self._surface: list[str] | None = None

    def explain(self, doc: int) -> tuple[Explanation, ...]:
        out = self.outcome
        lists = out.lists
        source = out.docs[doc]
        result = []
        for col, parts, pinned in zip(lists.items[doc], lists.parts[doc], lists.pinned[doc]):
            other = out.docs[int(col)]
            contributions = {name: float(value) for name, value in zip(SIGNALS, parts)}
            result.append(
                Explanation(
                    slug=other.slug,
                    score=float(sum(contributions.values())),
                    parts=contributions,
                    shared_terms=self._shared_terms(doc, int(col)),
                    shared_tags=self._shared_tags(doc, int(col)),
                    same_topic=bool(source.topic) and source.topic == other.topic,
                    same_author=bool(set(source.authors) & set(other.authors)),
                    days_apart=abs(source.date - other.date).days,
                    pinned=bool(pinned),
                )
            )
        return tuple(result)

    def _shared_terms(self, a: int, b: int) -> tuple[str, ...]:
        """The terms adding most to the two documents' (unexpanded) text similarity."""
        cols_a, data_a = _row(self.outcome.vectors.matrix, a)
        cols_b, data_b = _row(self.outcome.vectors.matrix, b)
        common, in_a, in_b = np.intersect1d(cols_a, cols_b, assume_unique=True, return_indices=True)
        if common.size == 0:
            return ()
        weight = data_a[in_a] * data_b[in_b]
        order = np.lexsort((common, -weight))[:SHARED_TERMS]
        surface = self._surface_forms()
        return tuple(surface[int(common[k])] for k in order)

    def _shared_tags(self, a: int, b: int) -> tuple[str, ...]:
        """Tags both documents carry, rarest first."""
        signals = self.outcome.signals
        cols_a, data_a = _row(signals.tags, a)
        cols_b, _ = _row(signals.tags, b)
        common, in_a, _ = np.intersect1d(cols_a, cols_b, assume_unique=True, return_indices=True)
        # in a normalised row a rarer tag has the larger weight
        order = np.lexsort((common, -data_a[in_a]))
        return tuple(signals.tag_names[int(common[k])] for k in order)

    def _surface_forms(self) -> list[str]:
        """For every term, the surface form that most documents use most often."""
        if self._surface is None:
            vocab = self.outcome.vectors.terms
            analyses = self.outcome.analyses
            index = {t: i for i, t in enumerate(vocab)}
            terms = list(chain.from_iterable(a["terms"] for a in analyses))
            forms = list(chain.from_iterable(a["surface"] for a in analyses))
            form_names = sorted(set(forms))
            form_index = {f: i for i, f in enumerate(form_names)}
            term_ids = np.fromiter(map(index.__getitem__, terms), dtype=np.int64, count=len(terms))
            form_ids = np.fromiter(map(form_index.__getitem__, forms), dtype=np.int64, count=len(forms))
            pairs, counts = np.unique(term_ids * len(form_names) + form_ids, return_counts=True)
            pair_terms = pairs // len(form_names)
            # per term: the most frequent form, ties to the alphabetically first
            order = np.lexsort((pairs % len(form_names), -counts, pair_terms))
            first = np.ones(order.size, dtype=bool)
            first[1:] = pair_terms[order][1:] != pair_terms[order][:-1]
            best = order[first]
            surface = list(vocab)
            for term, form in zip(pair_terms[best], pairs[best] % len(form_names)):
                surface[int(term)] = form_names[int(form)]
            self._surface = surface
        return self._surface


def _row(matrix: sp.csr_matrix, row: int) -> tuple[np.ndarray, np.ndarray]:
    """The column indices and values of one CSR row, without building a new matrix."""
    start, stop = matrix.indptr[row], matrix.indptr[row + 1]
    return matrix.indices[start:stop], matrix.data[start:stop]
