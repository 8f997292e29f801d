"""View models: the plain, documented objects templates receive (see docs/themes.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup


@dataclass(frozen=True, slots=True)
class ImageView:
    url: str
    alt: str
    caption: str = ""
    width: int | None = None
    height: int | None = None
    absolute: str = ""  # the URL with scheme and host, for feeds and social cards


@dataclass(frozen=True, slots=True)
class TopicRef:
    slug: str
    title: str
    description: str
    url: str
    feed_url: str
    count: int


@dataclass(frozen=True, slots=True)
class TermRef:
    """A tag or an author."""

    slug: str
    name: str
    url: str
    count: int


@dataclass(frozen=True, slots=True)
class Card:
    """An article as shown in lists; the article page adds its body (ArticleView)."""

    slug: str
    title: str
    url: str
    topic: TopicRef
    date: datetime
    date_text: str
    date_iso: str
    summary: str
    authors: tuple[TermRef, ...]
    tags: tuple[TermRef, ...]
    image: ImageView | None
    reads: int | None
    reading_minutes: int
    updated_iso: str = ""


@dataclass(frozen=True, slots=True)
class HeadingView:
    level: int
    anchor: str
    text: str


@dataclass(frozen=True, slots=True)
class ArticleView:
    card: Card
    body: Markup
    headings: tuple[HeadingView, ...]
    related: tuple[Card, ...]
    more_in_topic: tuple[Card, ...]
    previous: Card | None  # the next older article in the same topic
    next: Card | None  # the next newer one
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PageLink:
    number: int
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class Pagination:
    number: int
    total: int
    prev_url: str | None
    next_url: str | None
    pages: tuple[PageLink, ...]  # a window around the current page, with first and last


@dataclass(frozen=True, slots=True)
class Section:
    topic: TopicRef
    items: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class YearView:
    year: int
    url: str
    count: int


@dataclass(frozen=True, slots=True)
class MonthView:
    name: str
    items: tuple[Card, ...]


@dataclass(frozen=True, slots=True)
class Page:
    """What every template gets as `page`; `kind` says which of the optional parts are set."""

    kind: str  # home, article, topic, tag, author, topics, tags, authors, archive, year, search, 404
    url: str
    title: str
    description: str
    canonical: str
    image: ImageView | None = None
    article: ArticleView | None = None
    items: tuple[Card, ...] = ()
    pagination: Pagination | None = None
    topic: TopicRef | None = None
    term: TermRef | None = None
    feed_url: str | None = None
    lead: Card | None = None
    top: tuple[Card, ...] = ()
    sections: tuple[Section, ...] = ()
    most_read: tuple[Card, ...] = ()
    topics: tuple[TopicRef, ...] = ()
    terms: tuple[TermRef, ...] = ()
    years: tuple[YearView, ...] = ()
    months: tuple[MonthView, ...] = ()
    noindex: bool = False
    structured_data: Markup | None = None  # JSON-LD, already safe to place inside <script>


@dataclass(frozen=True, slots=True)
class SiteView:
    title: str
    tagline: str
    language: str
    base_url: str
    home_url: str
    copyright: str
    logo: ImageView | None
    topics: tuple[TopicRef, ...]
    feed_url: str
    search_url: str
    topics_url: str
    tags_url: str
    authors_url: str
    archive_url: str
    article_count: int
