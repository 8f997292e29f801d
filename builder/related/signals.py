"""The per-pair signals (text, tags, topic, author, recency) and their weighted contributions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from builder.config import RelatedWeights
from builder.related.types import RelatedDoc
from builder.related.vectors import label_vectors, pair_dots

SIGNALS = ("text", "tags", "topic", "author", "recency")


@dataclass(slots=True)
class Signals:
    """Everything needed to score any pair of documents (indices in slug order)."""

    weights: RelatedWeights
    text: sp.csr_matrix  # expanded text vectors: the text signal is their cosine
    tags: sp.csr_matrix  # rarity-weighted, normalised tag vectors
    tag_names: list[str]
    authors: sp.csr_matrix  # 0/1 author membership
    topic: np.ndarray  # topic id per document, -1 for none
    days: np.ndarray  # publication time in days since the epoch

    def score(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Weighted contributions, shape (pairs, len(SIGNALS)), for the pairs (rows[k], cols[k])."""
        w = self.weights
        parts = np.zeros((rows.size, len(SIGNALS)), dtype=np.float64)
        if rows.size == 0:
            return parts
        parts[:, 0] = w.text * pair_dots(self.text, rows, cols)
        if w.tags and self.tags.nnz:
            parts[:, 1] = w.tags * pair_dots(self.tags, rows, cols)
        if w.topic:
            same = (self.topic[rows] == self.topic[cols]) & (self.topic[rows] >= 0)
            parts[:, 2] = w.topic * same
        if w.author and self.authors.nnz:
            parts[:, 3] = w.author * (pair_dots(self.authors, rows, cols) > 0)
        if w.recency:
            apart = np.abs(self.days[rows] - self.days[cols])
            half_life = max(float(w.recency_half_life_days), 1e-9)
            parts[:, 4] = w.recency * np.exp(-math.log(2.0) * apart / half_life)
        # rounding makes scores that differ only by float noise tie, and ties break by slug
        return np.round(parts, 9, out=parts)


def make_signals(docs: Sequence[RelatedDoc], text: sp.csr_matrix, weights: RelatedWeights) -> Signals:
    """Signals for DOCS (already in slug order) over the expanded text vectors TEXT."""
    tags, tag_names = label_vectors([d.tags for d in docs], idf_weighted=True)
    authors, _ = label_vectors([d.authors for d in docs], idf_weighted=False)
    topic_names = sorted({d.topic for d in docs if d.topic})
    topic_index = {name: i for i, name in enumerate(topic_names)}
    topic = np.array([topic_index.get(d.topic, -1) for d in docs], dtype=np.int32)
    days = np.array([d.date.timestamp() / 86400.0 for d in docs], dtype=np.float64)
    return Signals(weights, text, tags, tag_names, authors, topic, days)


def tag_candidates(signals: Signals, max_postings: int) -> sp.csr_matrix:
    """The tag matrix with over-common tags dropped, for finding tag-only candidates cheaply."""
    tags = signals.tags
    df = np.bincount(tags.indices, minlength=tags.shape[1])
    keep = df <= max_postings
    mask = keep[tags.indices]
    # copies: eliminate_zeros() works in place and must not touch the scoring matrix
    trimmed = sp.csr_matrix((tags.data * mask, tags.indices.copy(), tags.indptr.copy()), shape=tags.shape)
    trimmed.eliminate_zeros()
    return trimmed
