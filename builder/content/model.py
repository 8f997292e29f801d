"""The frozen content model every later step reads: articles, topics, terms and the site."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from builder.compact import pickled_as_tuple
from builder.config import SiteConfig


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    anchor: str
    text: str


def encode_headings(headings: Iterable[Heading]) -> str:
    """HEADINGS as text, kept with the body they come from (builder.bodies) rather than in the
    Article: only an article's own page reads them, and 45,000 Heading objects were a third of
    what loading a 10,000-article site's parsed articles from the cache cost."""
    return json.dumps([[h.level, h.anchor, h.text] for h in headings], ensure_ascii=False)


def decode_headings(text: str) -> tuple[Heading, ...]:
    return tuple(Heading(level, anchor, title) for level, anchor, title in json.loads(text or "[]"))


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image named in front matter: `src` is a content-relative path or an absolute URL."""

    src: str
    alt: str
    caption: str = ""


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Article:
    source: str  # path relative to the site folder, POSIX style: "content/peace/talks.md"
    slug: str
    title: str
    date: datetime
    topic: str  # the topic as written (front matter value or folder name); resolved to a slug later
    body_key: str  # digest of the body HTML; the HTML and its headings live in the body store (builder.bodies)
    summary: str
    word_count: int
    updated: datetime | None = None
    publish_at: datetime | None = None
    expire_at: datetime | None = None
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    image: ImageRef | None = None
    draft: bool = False
    featured: bool = False  # leads the front page while it is among the newest (builder.pages)
    related_pins: tuple[str, ...] = ()
    related_exclude: tuple[str, ...] = ()
    links: tuple[str, ...] = ()  # internal references in the body, content-relative
    extra: Mapping[str, Any] = field(default_factory=dict)
    line_of: Mapping[str, int] = field(default_factory=dict)  # front matter key -> line in file
    digest: str = ""  # digest of the source file; with the parse settings it determines everything above

    @property
    def reading_minutes(self) -> int:
        return max(1, round(self.word_count / 220))


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Topic:
    slug: str
    title: str
    description: str = ""


@pickled_as_tuple
@dataclass(frozen=True, slots=True)
class Term:
    """A tag or an author: a display name and its URL slug."""

    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Site:
    """Everything the render step needs, with relations kept as slugs."""

    config: SiteConfig
    articles: tuple[Article, ...]  # published only, newest first
    by_slug: Mapping[str, Article]
    topics: tuple[Topic, ...]
    topic_of: Mapping[str, str]  # article slug -> topic slug
    tags: Mapping[str, Term]  # tag slug -> term
    authors: Mapping[str, Term]
    by_topic: Mapping[str, tuple[str, ...]]  # topic slug -> article slugs, newest first
    by_tag: Mapping[str, tuple[str, ...]]
    by_author: Mapping[str, tuple[str, ...]]
    data: Mapping[str, Any]
    reads: Mapping[str, int]
    assets: tuple[str, ...]  # content-relative paths of files copied as they are
    related: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def article(self, slug: str) -> Article:
        return self.by_slug[slug]
