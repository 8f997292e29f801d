"""The plain data types of the related-articles engine: input documents and explanations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from builder.compact import pickled_as_tuple


@pickled_as_tuple  # the engine's kept state holds one per article
@dataclass(frozen=True, slots=True)
class RelatedDoc:
    slug: str
    title: str
    summary: str
    text: str  # plain text of the body
    topic: str  # topic slug ("" when none)
    tags: tuple[str, ...]  # tag slugs
    authors: tuple[str, ...]  # author slugs
    date: datetime  # timezone-aware
    pins: tuple[str, ...] = ()  # editor-pinned slugs, shown first in this order
    excludes: tuple[str, ...] = ()  # slugs never to show in this doc's list
    key: str = ""  # optional: a digest of the source that title, summary and text come from (cache key)


@dataclass(frozen=True, slots=True)
class Explanation:
    slug: str
    score: float  # total
    parts: dict[str, float]  # signal name -> contribution
    shared_terms: tuple[str, ...]  # the most contributing terms, as their commonest surface form
    shared_tags: tuple[str, ...]
    same_topic: bool
    same_author: bool
    days_apart: int
    pinned: bool
