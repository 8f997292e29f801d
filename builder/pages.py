"""Plan every page of the site: which template renders it, at which address, with which view model."""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from builder.content.markup import REF_SCHEME
from builder.content.model import Article, Site, decode_headings
from builder.dates import format_date
from builder.feeds import FeedSpec
from builder.slugs import slugify
from builder.structured import home_graph, news_article, organization
from builder.urls import Urls
from builder.views import (
    ArticleView,
    BodyRef,
    Card,
    HeadingsRef,
    HeadingView,
    ImageView,
    MonthView,
    Page,
    PageLink,
    Pagination,
    Section,
    SiteView,
    TermEntry,
    TermRef,
    TopicEntry,
    TopicRef,
    YearView,
)

MOST_READ = 5
MORE_IN_TOPIC = 4
HOME_TOP = 4
HOME_PER_TOPIC = 3
LEAD_WINDOW = 10  # a featured article leads the front page while it is among the ten newest
ARTICLE_TEMPLATE = "article.html"

ImageSizes = Callable[[str], tuple[int, int] | None]  # content-relative path -> (width, height)


@dataclass(frozen=True, slots=True)
class Unit:
    """Pages planned together. With the site-wide inputs and the unit's templates, `inputs` and the
    cards of the articles the pages show determine the pages exactly; when none of
    those changed, the unit need not be planned again (builder.build). `inputs` None: always
    planned (the pages read the whole site). `watches` gives the slugs of the articles whose cards
    the pages may show; while `inputs` are unchanged it names the same articles as last time, so
    it is computed from the current site instead of being stored."""

    name: str
    inputs: str | None
    templates: tuple[str, ...]
    plan: Callable[[], list[PageSpec]]
    watches: Callable[[], Iterable[str]] = tuple


@dataclass(frozen=True, slots=True)
class PageSpec:
    """A page to write. Its view model is made only when the page is rendered (`page`); whether it
    must be is decided from `recipe`, which holds everything the view model is made from (cards and
    bodies count by their keys, see builder.fingerprint), so equal recipes make equal pages."""

    path: str  # output-relative file path
    template: str
    url: str
    recipe: Any
    make: Callable[[], Page]
    lastmod: datetime | None = None  # for the sitemap
    noindex: bool = False

    @property
    def page(self) -> Page:
        return self.make()


class Planner:
    """Builds view models once per article and reuses them in every list that shows the article."""

    def __init__(self, site: Site, urls: Urls, image_sizes: ImageSizes, source_urls: Mapping[str, str],
                 stored_body: Callable[[str], str], stored_headings: Callable[[str], str]) -> None:
        self.site = site
        self.urls = urls
        self.config = site.config
        self._image_sizes = image_sizes
        self._source_urls = source_urls
        self._stored_body = stored_body  # body key -> HTML as parsed
        self._stored_headings = stored_headings  # body key -> its headings (encode_headings)
        self.topics = {t.slug: TopicRef(t.slug, t.title, t.description, urls.topic(t.slug), urls.feed(f"{t.slug}/"))
                       for t in site.topics}
        self.tags = {s: TermRef(s, t.name, urls.tag(s)) for s, t in site.tags.items()}
        self.authors = {s: TermRef(s, t.name, urls.author(s)) for s, t in site.authors.items()}
        self.cards = _Cards(site.by_slug, self._card)
        # a name as card tokens hold it, made once a name
        self._author_tokens = _NameTokens(self.authors)
        self._tag_tokens = _NameTokens(self.tags)
        self._position = {slug: i for slugs in site.by_topic.values() for i, slug in enumerate(slugs)}
        logo = self.image(self.config.logo, self.config.title) if self.config.logo else None
        self.publisher = organization(self.config.title, urls.absolute(urls.home()), logo.absolute if logo else None)

    # --- view models -------------------------------------------------------------------------

    def site_view(self) -> SiteView:
        urls, config = self.urls, self.config
        logo = self.image(config.logo, config.title) if config.logo else None
        return SiteView(
            title=config.title, tagline=config.tagline, language=config.language, base_url=config.base_url,
            home_url=urls.home(), copyright=config.copyright, logo=logo,
            topics=tuple(self.topics.values()), feed_url=urls.feed(), search_url=urls.search(),
            topics_url=urls.topics_index(), tags_url=urls.tags_index(), authors_url=urls.authors_index(),
            archive_url=urls.archive(),
        )

    def image(self, src: str, alt: str, caption: str = "") -> ImageView:
        if "://" in src:
            return ImageView(src, alt, caption, absolute=src)
        width, height = self._image_sizes(src) or (None, None)
        url = self.urls.asset(src)
        return ImageView(url, alt, caption, width, height, absolute=self.urls.absolute(url))

    def _card(self, article: Article) -> Card:
        tz = self.config.tzinfo
        topic = self.topics[self.site.topic_of[article.slug]]
        image = article.image
        return Card(
            slug=article.slug, title=article.title, url=self.urls.article(topic.slug, article.slug), topic=topic,
            date=article.date, date_text=format_date(article.date.astimezone(tz), self.config.date_format),
            date_iso=article.date.isoformat(), summary=article.summary,
            authors=tuple(self.authors[slugify(n)] for n in article.authors if slugify(n) in self.authors),
            tags=tuple(self.tags[slugify(n)] for n in article.tags if slugify(n) in self.tags),
            image=self.image(image.src, image.alt, image.caption) if image else None,
            reads=self.site.reads.get(article.slug), reading_minutes=article.reading_minutes,
            updated_iso=article.updated.isoformat() if article.updated else "",
        )

    def body(self, article: Article) -> str:
        """Article HTML with internal references resolved and images given their sizes."""
        text = _REF.sub(lambda m: self._resolve_ref(m.group(1), m.group(2) or ""), self._stored_body(article.body_key))
        return _IMG.sub(self._size_image, text)

    def body_ref(self, article: Article) -> BodyRef:
        """The body for templates; its key covers everything body() reads, so unchanged keys mean
        unchanged HTML (links to other articles and image sizes included)."""
        parts = [article.body_key, *self._link_targets(article)]
        key = hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()
        return BodyRef(key, lambda: self.body(article))

    def _headings(self, body_key: str) -> tuple[HeadingView, ...]:
        return tuple(HeadingView(h.level, h.anchor, h.text) for h in decode_headings(self._stored_headings(body_key)))

    def _link_targets(self, article: Article) -> Iterator[str]:
        """Where each internal link and image of the body points: an article's URL or an image's size."""
        for link in article.links:
            yield f"{link}={self._source_urls.get(link) or self._image_sizes(link)}"

    def _resolve_ref(self, path: str, fragment: str) -> str:
        url = self._source_urls.get(path)
        return html.escape(url + fragment if url else path + fragment)

    def _size_image(self, match: re.Match[str]) -> str:
        tag = match.group(0)
        if " width=" in tag:
            return tag
        src = re.search(r'src="([^"]+)"', tag)
        prefix = self.urls.base_path
        if not src or not src.group(1).startswith(prefix) or "://" in src.group(1):
            return tag
        size = self._image_sizes(unquote(html.unescape(src.group(1))[len(prefix):]))
        return tag if size is None else tag[:-1] + f' width="{size[0]}" height="{size[1]}">'

    # --- pages -------------------------------------------------------------------------------

    # Every page of the site, in groups that are planned together; in sitemap order: the home
    # unit, the article units, the listing units.

    def templates(self) -> set[str]:
        """The templates of every page (to compile before processes fork)."""
        return {*self.home_unit().templates, ARTICLE_TEMPLATE,
                *(name for unit in self.listing_units() for name in unit.templates)}

    def home_unit(self) -> Unit:
        return Unit("home", None, ("home.html",), lambda: [self.home()])

    def article_units(self, related: Mapping[str, Sequence[str]]) -> Iterator[Unit]:
        """The article pages: the only ones that show related lists."""
        site = self.site
        orders = {t: _sequence(slugs) for t, slugs in site.by_topic.items()}
        for article in site.articles:
            slugs = related.get(article.slug, ())
            yield Unit(f"article:{article.slug}",
                       "\0".join([orders[site.topic_of[article.slug]], self.body_token(article), *slugs]),
                       (ARTICLE_TEMPLATE,), functools.partial(lambda a, r: [self.article(a, r)], article, slugs),
                       functools.partial(self._article_watches, article, slugs))

    def listing_units(self) -> Iterator[Unit]:
        """Every page after the articles: topics, tags, authors, indexes, archive, search."""
        site, urls = self.site, self.urls
        reads = _sequence(f"{slug}={count}" for slug, count in sorted(site.reads.items()))
        for topic in self.topics.values():
            members = site.by_topic.get(topic.slug, ())
            yield self._listing_unit(
                "topic", topic.slug, members, reads,
                functools.partial(self.listing, "topic", members, topic.title,
                                  topic.description or f"The latest articles on {topic.title}.",
                                  functools.partial(urls.topic, topic.slug), topic=topic, feed_url=topic.feed_url))
        for slug, term in self.tags.items():
            feed = urls.feed(f"tags/{slug}/") if self.config.feeds.tags else None
            members = site.by_tag[slug]
            yield self._listing_unit(
                "tag", slug, members, f"{term.name}\0{feed}",
                functools.partial(self.listing, "tag", members, term.name, f"Articles tagged “{term.name}”.",
                                  functools.partial(urls.tag, slug), term=term, feed_url=feed))
        for slug, term in self.authors.items():
            members = site.by_author[slug]
            yield self._listing_unit(
                "author", slug, members, term.name,
                functools.partial(self.listing, "author", members, term.name, f"Articles by {term.name}.",
                                  functools.partial(urls.author, slug), term=term))
        yield Unit("indexes", None, ("topics.html", "tags.html", "authors.html"), lambda: list(self.indexes()))
        by_year = self._by_year()
        years = tuple(YearView(y, urls.archive(y), len(by_year[y])) for y in sorted(by_year, reverse=True))
        yield Unit("archive", None, ("archive.html",), lambda: [self._spec("archive.html", self._page(
            "archive", urls.archive(), "Archive", f"Every article of {self.config.title}, by year.", years=years))])
        summary = _sequence(f"{y.year}={y.count}" for y in years)
        for year in years:
            members = tuple(a.slug for a in by_year[year.year])
            yield Unit(f"year:{year.year}", f"{summary}\0{_sequence(members)}", ("year.html",),
                       functools.partial(lambda y, m: [self.year(y, years, m)], year, members),
                       functools.partial(lambda m: m, members))
        yield Unit("search", None, ("search.html", "404.html"), lambda: [
            self.index("search", "Search", urls.search(), noindex=True),
            self._spec("404.html", self._page("404", urls.base_path + "404.html", "Page not found",
                                              "The page you asked for is not here.", noindex=True))])

    @staticmethod
    def _listing_unit(kind: str, slug: str, members: Sequence[str], inputs: str,
                      plan: Callable[[], Iterator[PageSpec]]) -> Unit:
        # Listings watch every member, not only the ones shown: "most read" ranks them all.
        return Unit(f"{kind}:{slug}", f"{_sequence(members)}\0{inputs}", (f"{kind}.html",),
                    lambda: list(plan()), lambda: members)

    def _article_watches(self, article: Article, related: Sequence[str]) -> Iterator[str]:
        """The articles whose cards the page can show (a superset): itself, its related list, the
        newest of its topic that "More in" picks from, and its neighbours in time."""
        siblings = self.site.by_topic[self.site.topic_of[article.slug]]
        position = self._position[article.slug]
        yield article.slug
        yield from related
        yield from siblings[:MORE_IN_TOPIC + len(related) + 1]
        yield from siblings[max(0, position - 1):position + 2]

    def body_token(self, article: Article) -> str:
        """What the article's own page reads besides cards: the file (its digest stands for body,
        headings and extra fields) and where its internal links and images point."""
        return "\0".join([article.digest, article.body_key, *self._link_targets(article)])

    def card_check(self, article: Article) -> tuple[Any, ...]:
        """What a card reads besides its article's file (its digest), the parse settings and its
        terms' display names: with those the same, equal checks stand for equal card tokens
        (builder.replan.changed_cards)."""
        slug = article.slug
        return (article.digest, self.site.topic_of[slug], self.site.reads.get(slug), self._local_size(article))

    def _local_size(self, article: Article) -> tuple[int, int] | None:
        """The size of the article's image when it is a file of the site (a URL has none here)."""
        image = article.image
        return self._image_sizes(image.src) if image and "://" not in image.src else None

    def term_names(self) -> tuple[dict[str, str], dict[str, str]]:
        """The display name of every tag and of every author, by slug."""
        return ({slug: term.name for slug, term in self.tags.items()},
                {slug: term.name for slug, term in self.authors.items()})

    def card_token(self, article: Article) -> tuple[Any, ...]:
        """Everything a card (_card) reads of its article, besides site-wide settings: equal
        tokens, equal cards. Not the file's digest: a body edit that keeps the reading time
        leaves the card, and so every listing and page that shows it, as it was. Dates as the card
        prints them: another offset for the same moment is another card."""
        slug = article.slug
        image = article.image
        return (slug, article.title, article.date.isoformat(), article.summary, self.site.topic_of[slug],
                tuple(map(self._author_tokens.__getitem__, article.authors)),
                tuple(map(self._tag_tokens.__getitem__, article.tags)),
                image, self._local_size(article),
                self.site.reads.get(slug), article.reading_minutes,
                article.updated.isoformat() if article.updated else None)

    def indexes(self) -> Iterator[PageSpec]:
        topics = tuple(TopicEntry(**vars(t), count=len(self.site.by_topic.get(t.slug, ()))) for t in self.topics.values())
        yield self.index("topics", "Topics", self.urls.topics_index(), topics=topics)
        yield self.index("tags", "Tags", self.urls.tags_index(), terms=self._entries(self.tags, self.site.by_tag))
        yield self.index("authors", "Authors", self.urls.authors_index(),
                         terms=self._entries(self.authors, self.site.by_author))

    @staticmethod
    def _entries(refs: Mapping[str, TermRef], members: Mapping[str, Sequence[str]]) -> tuple[TermEntry, ...]:
        entries = (TermEntry(**vars(ref), count=len(members[slug])) for slug, ref in refs.items())
        return tuple(sorted(entries, key=lambda t: (t.name.casefold(), t.slug)))

    def _page(self, kind: str, url: str, title: str, description: str, **parts: object) -> Page:
        return Page(kind=kind, url=url, title=title, description=description,
                    canonical=self.urls.absolute(url), **parts)  # type: ignore[arg-type]

    def _spec(self, template: str, page: Page) -> PageSpec:
        """A page whose view model is cheap enough to make at once: it is its own recipe."""
        first = page.items[0] if page.items else page.lead
        return PageSpec(self.urls.output_path(page.url), template, page.url, page, lambda: page,
                        first.date if first else None, page.noindex)

    def home(self) -> PageSpec:
        cards = [self.cards[a.slug] for a in self.site.articles[:max(LEAD_WINDOW, 1 + HOME_TOP)]]
        sections = tuple(
            Section(topic, tuple(self.cards[s] for s in self.site.by_topic.get(topic.slug, ())[:HOME_PER_TOPIC]))
            for topic in self.topics.values() if self.site.by_topic.get(topic.slug)
        )
        # The lead story: the newest article an editor marked `featured: true` among the recent
        # ones, else simply the newest.
        featured = [c for a, c in zip(self.site.articles[:LEAD_WINDOW], cards) if a.featured]
        lead = featured[0] if featured else (cards[0] if cards else None)
        top = tuple(c for c in cards[:1 + HOME_TOP] if c is not lead)[:HOME_TOP]
        page = self._page("home", self.urls.home(), self.config.title,
                          self.config.tagline or f"News from {self.config.title}.",
                          lead=lead, top=top, sections=sections,
                          most_read=self.most_read(self.site.articles), feed_url=self.urls.feed(),
                          image=lead.image if lead else None,
                          structured_data=home_graph(name=self.config.title, home=self.urls.absolute(self.urls.home()),
                                                     description=self.config.tagline, language=self.config.language,
                                                     publisher=self.publisher))
        return self._spec("home.html", page)

    def most_read(self, articles: Sequence[Article]) -> tuple[Card, ...]:
        counted = [a for a in articles if self.site.reads.get(a.slug)]
        counted.sort(key=lambda a: (-self.site.reads[a.slug], -a.date.timestamp(), a.slug))
        return tuple(self.cards[a.slug] for a in counted[:MOST_READ])

    def article(self, article: Article, related: Sequence[str]) -> PageSpec:
        card = self.cards[article.slug]
        siblings = self.site.by_topic[card.topic.slug]
        position = self._position[article.slug]
        related_cards = tuple(self.cards[s] for s in related if s in self.site.by_slug)
        shown = {article.slug, *related}
        # "More in topic": the newest others; a slice bounds the scan (at most 1 + len(related) are skipped).
        more = tuple(self.cards[s] for s in siblings[:MORE_IN_TOPIC + len(shown)] if s not in shown)[:MORE_IN_TOPIC]
        previous = self.cards[siblings[position + 1]] if position + 1 < len(siblings) else None
        newer = self.cards[siblings[position - 1]] if position > 0 else None
        body = self.body_ref(article)
        # Everything _article_page reads: the file's digest stands for headings, extra and summary.
        recipe = ("article", article.digest, card, body, related_cards, more, previous, newer)
        lastmod = datetime.fromisoformat(card.updated_iso) if card.updated_iso else card.date
        return PageSpec(self.urls.output_path(card.url), ARTICLE_TEMPLATE, card.url, recipe,
                        functools.partial(self._article_page, article, card, body, related_cards, more, previous,
                                          newer), lastmod)

    def _article_page(self, article: Article, card: Card, body: BodyRef, related: tuple[Card, ...],
                      more: tuple[Card, ...], previous: Card | None, newer: Card | None) -> Page:
        view = ArticleView(
            card=card, body=body, headings=HeadingsRef(functools.partial(self._headings, article.body_key)),
            related=related, more_in_topic=more, previous=previous, next=newer, extra=dict(article.extra),
        )
        canonical = self.urls.absolute(card.url)
        data = news_article(card, canonical=canonical, origin=self.urls.origin, publisher=self.publisher)
        return self._page("article", card.url, article.title, article.summary, article=view, image=card.image,
                          topic=card.topic, feed_url=card.topic.feed_url, structured_data=data)

    def listing(self, kind: str, slugs: Sequence[str], title: str, description: str, url_of: Callable[[int], str],
                **parts: object) -> Iterator[PageSpec]:
        per_page = self.config.per_page
        total = max(1, -(-len(slugs) // per_page))
        most_read = self.most_read([self.site.by_slug[s] for s in slugs]) if kind == "topic" else ()
        for number in range(1, total + 1):
            items = tuple(self.cards[s] for s in slugs[(number - 1) * per_page:number * per_page])
            pagination = Pagination(
                number=number, total=total,
                prev_url=url_of(number - 1) if number > 1 else None,
                next_url=url_of(number + 1) if number < total else None,
                pages=tuple(PageLink(n, url_of(n), n == number) for n in _window(number, total)),
            )
            page_title = title if number == 1 else f"{title} (page {number} of {total})"
            page = self._page(kind, url_of(number), page_title, description, items=items, pagination=pagination,
                              most_read=most_read, **parts)
            yield self._spec(f"{kind}.html", page)

    def index(self, kind: str, title: str, url: str, **parts: object) -> PageSpec:
        description = {"topics": "All topics covered by", "tags": "Every tag used on", "authors": "Everyone writing for",
                       "search": "Search the articles of"}.get(kind, "") + f" {self.config.title}."
        return self._spec(f"{kind}.html", self._page(kind, url, title, description.strip(), **parts))

    def _by_year(self) -> dict[int, list[Article]]:
        tz = self.config.tzinfo
        by_year: dict[int, list[Article]] = defaultdict(list)
        for article in self.site.articles:
            by_year[article.date.astimezone(tz).year].append(article)
        return by_year

    def year(self, year: YearView, years: tuple[YearView, ...], members: Sequence[str]) -> PageSpec:
        tz = self.config.tzinfo
        months: dict[int, list[Card]] = defaultdict(list)
        for slug in members:
            months[self.site.by_slug[slug].date.astimezone(tz).month].append(self.cards[slug])
        views = tuple(MonthView(format_date(datetime(year.year, m, 1), "%B"), tuple(months[m]))
                      for m in sorted(months, reverse=True))
        return self._spec("year.html", self._page("year", year.url, f"Archive {year.year}",
                                                  f"Articles published in {year.year}.", months=views, years=years))

    def feeds(self) -> Iterator[FeedSpec]:
        """The site feed, one per topic, and one per tag when portal.toml's [feeds] tags = true."""
        urls, count, title = self.urls, self.config.feeds.entries, self.config.title
        latest = tuple(self.cards[a.slug] for a in self.site.articles[:count])
        yield FeedSpec(urls.output_path(urls.feed()), title, self.config.tagline, urls.absolute(urls.home()),
                       urls.absolute(urls.feed()), latest)
        for topic in self.topics.values():
            cards = tuple(self.cards[s] for s in self.site.by_topic.get(topic.slug, ())[:count])
            yield FeedSpec(urls.output_path(topic.feed_url), f"{topic.title} – {title}", topic.description,
                           urls.absolute(topic.url), urls.absolute(topic.feed_url), cards)
        if self.config.feeds.tags:
            for slug, term in self.tags.items():
                feed_url = urls.feed(f"tags/{slug}/")
                cards = tuple(self.cards[s] for s in self.site.by_tag[slug][:count])
                yield FeedSpec(urls.output_path(feed_url), f"{term.name} – {title}", "",
                               urls.absolute(term.url), urls.absolute(feed_url), cards)


_REF = re.compile(re.escape(REF_SCHEME) + r'([^"#]*)(#[^"]*)?')
_IMG = re.compile(r"<img\b[^>]*>")


class _Cards(dict[str, Card]):
    """Cards by slug, each made when first asked for: an edit rebuild plans a few pages and
    should not pay for ten thousand cards."""

    def __init__(self, articles: Mapping[str, Article], make: Callable[[Article], Card]) -> None:
        super().__init__()
        self._articles = articles
        self._make = make

    def __missing__(self, slug: str) -> Card:
        card = self[slug] = self._make(self._articles[slug])
        return card


class _NameTokens(dict[str, tuple[str, str] | None]):
    """A tag's or author's name as written -> (slug, display name) of the term it belongs to, or
    None for a name with no term (no letters); each made when first asked for."""

    def __init__(self, terms: Mapping[str, TermRef]) -> None:
        super().__init__()
        self._terms = terms

    def __missing__(self, name: str) -> tuple[str, str] | None:
        slug = slugify(name)
        term = self._terms.get(slug)
        token = self[name] = (slug, term.name) if term is not None else None
        return token


def _sequence(items: Iterable[str]) -> str:
    """A short digest of an ordered list of names."""
    return hashlib.blake2b("\n".join(items).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _window(current: int, total: int, radius: int = 2) -> list[int]:
    numbers = {1, total, *range(max(1, current - radius), min(total, current + radius) + 1)}
    return sorted(numbers)
