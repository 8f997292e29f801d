"""View models: the plain, documented objects templates receive (see docs/themes.md).

They are frozen dataclasses without __slots__ on purpose: they are pickled to fingerprint
pages (builder.fingerprint), and pickling dict-based instances is much faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

from markupsafe import Markup


@dataclass(frozen=True)
class ImageView:
    url: str
    alt: str
    caption: str = ""
    width: int | None = None
    height: int | None = None
    absolute: str = ""  # the URL with scheme and host, for feeds and social cards


@dataclass(frozen=True)
class TopicRef:
    """A topic as every page links to it. No article count here: a count would change every page
    that links to the topic whenever one article is added, defeating incremental builds."""

    slug: str
    title: str
    description: str
    url: str
    feed_url: str


@dataclass(frozen=True)
class TopicEntry(TopicRef):
    """A topic in the index of topics, with its number of articles."""

    count: int = 0


@dataclass(frozen=True)
class TermRef:
    """A tag or an author."""

    slug: str
    name: str
    url: str


@dataclass(frozen=True)
class TermEntry(TermRef):
    """A tag or author in an index page, with its number of articles."""

    count: int = 0


@dataclass(frozen=True)
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

    def __hash__(self) -> int:
        # Templates' cached() pieces are keyed by their cards, one lookup a page; hashing every
        # field hashed each tag, which made a card with 10,000 tags on its 10,000 tag pages
        # quadratic. Equal cards have equal slugs, addresses and dates, so these few suffice.
        return hash((self.slug, self.url, self.date_iso))


@dataclass(frozen=True)
class HeadingView:
    level: int
    anchor: str
    text: str


class BodyRef:
    """An article's HTML, loaded only when a template prints it; `key` changes whenever the HTML would."""

    __slots__ = ("_load", "key")

    def __init__(self, key: str, load: Callable[[], str]) -> None:
        self.key = key
        self._load = load

    def __html__(self) -> str:
        return self._load()

    def __str__(self) -> str:
        return self._load()


class HeadingsRef(Sequence[HeadingView]):
    """An article's headings, read from the cache's body store only when a template uses them
    (the default theme does not)."""

    __slots__ = ("_headings", "_load")

    def __init__(self, load: Callable[[], tuple[HeadingView, ...]]) -> None:
        self._load = load
        self._headings: tuple[HeadingView, ...] | None = None

    def _all(self) -> tuple[HeadingView, ...]:
        if self._headings is None:
            self._headings = self._load()
        return self._headings

    @overload
    def __getitem__(self, index: int) -> HeadingView: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[HeadingView, ...]: ...

    def __getitem__(self, index: int | slice) -> HeadingView | tuple[HeadingView, ...]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())


@dataclass(frozen=True)
class ArticleView:
    card: Card
    body: BodyRef
    headings: Sequence[HeadingView]
    related: tuple[Card, ...]
    more_in_topic: tuple[Card, ...]
    previous: Card | None  # the next older article in the same topic
    next: Card | None  # the next newer one
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PageLink:
    number: int
    url: str
    current: bool


@dataclass(frozen=True)
class Pagination:
    number: int
    total: int
    prev_url: str | None
    next_url: str | None
    pages: tuple[PageLink, ...]  # a window around the current page, with first and last


@dataclass(frozen=True)
class Section:
    topic: TopicRef
    items: tuple[Card, ...]


@dataclass(frozen=True)
class YearView:
    year: int
    url: str
    count: int


@dataclass(frozen=True)
class MonthView:
    name: str
    items: tuple[Card, ...]


@dataclass(frozen=True)
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
    topics: tuple[TopicEntry, ...] = ()
    terms: tuple[TermEntry, ...] = ()
    years: tuple[YearView, ...] = ()
    months: tuple[MonthView, ...] = ()
    noindex: bool = False
    structured_data: Markup | None = None  # JSON-LD, already safe to place inside <script>


@dataclass(frozen=True)
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
