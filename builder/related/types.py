"""The plain data types of the related-articles engine: input documents and explanations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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

    def as_row(self) -> tuple[Any, ...]:
        """The fields as plain values, the date as a POSIX timestamp: a timezone-aware datetime
        pickles as a call to its zone's constructor, which made pickling 10,000 docs five times
        slower. Lists depend on the moment only, not on the zone it is written in."""
        return (self.slug, self.title, self.summary, self.text, self.topic, self.tags, self.authors,
                self.date.timestamp(), self.pins, self.excludes, self.key)

    @classmethod
    def from_row(cls, row: tuple[Any, ...]) -> RelatedDoc:
        slug, title, summary, text, topic, tags, authors, moment, pins, excludes, key = row
        return cls(slug, title, summary, text, topic, tags, authors, datetime.fromtimestamp(moment, UTC),
                   pins, excludes, key)


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
