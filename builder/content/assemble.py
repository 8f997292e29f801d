"""Gather parsed articles into the Site: who is published now, topics, tags, authors, checks across files."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from operator import attrgetter
from typing import Any

from builder.config import RESERVED_TOPIC_SLUGS, SiteConfig
from builder.content.discover import CONTENT
from builder.content.model import Article, Site, Term, Topic
from builder.errors import Problem, did_you_mean
from builder.slugs import slugify

_SLUG = attrgetter("slug")
_DATE = attrgetter("date")


@dataclass(frozen=True, slots=True)
class Assembled:
    site: Site
    problems: tuple[Problem, ...]
    scheduled: tuple[tuple[datetime, str, Article], ...]  # (when, "publishes"/"expires", article), soonest first


def is_live(article: Article, now: datetime, include_drafts: bool) -> bool:
    if article.draft and not include_drafts:
        return False
    starts = article.publish_at or article.date
    return starts <= now and (article.expire_at is None or now < article.expire_at)


def assemble(articles: Sequence[Article], config: SiteConfig, *, now: datetime, include_drafts: bool = False,
             data: Mapping[str, Any] | None = None, reads: Mapping[str, int] | None = None,
             assets: Iterable[str] = ()) -> Assembled:
    problems: list[Problem] = []
    asset_set = frozenset(assets)
    duplicates = _check_unique_slugs(articles)
    problems += duplicates
    clashing = {p.path for p in duplicates}  # kept out of the site: one address cannot hold two pages
    all_slugs = {a.slug for a in articles}
    topic_slug_of, topics = _resolve_topics(articles, config, problems)
    for article in articles:
        problems += _check_pins(article, all_slugs)
        image = article.image
        if image and "://" not in image.src and f"{CONTENT}/{image.src}" not in asset_set:
            problems.append(Problem(article.source, article.line_of.get("image"),
                                    f"image file '{image.src}' does not exist",
                                    f"looked for {CONTENT}/{image.src}; check the file name and its folder "
                                    "(paths are relative to the article)"))
    live = sorted((a for a in articles
                   if is_live(a, now, include_drafts) and a.source in topic_slug_of and a.source not in clashing),
                  key=_SLUG)
    live.sort(key=_DATE, reverse=True)  # newest first, then by slug (a stable sort); no timestamp a date
    tags, by_tag = _terms(live, lambda a: a.tags, "tag", problems)
    authors, by_author = _terms(live, lambda a: a.authors, "author", problems)
    by_topic: dict[str, list[str]] = {t.slug: [] for t in topics}
    for article in live:
        by_topic[topic_slug_of[article.source]].append(article.slug)
    site = Site(
        config=config,
        articles=tuple(live),
        by_slug={a.slug: a for a in live},
        topics=tuple(topics),
        topic_of={a.slug: topic_slug_of[a.source] for a in live},
        tags=tags, authors=authors,
        by_topic={k: tuple(v) for k, v in by_topic.items()},
        by_tag=by_tag, by_author=by_author,
        data=dict(data or {}),
        reads={slug: n for slug, n in (reads or {}).items()},
        assets=tuple(sorted(asset_set)),
    )
    return Assembled(site, tuple(problems), _scheduled(articles, now, include_drafts))


def _check_unique_slugs(articles: Sequence[Article]) -> list[Problem]:
    owners: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        owners[article.slug].append(article)
    problems = []
    for slug, same in owners.items():
        if len(same) > 1:
            files = sorted(a.source for a in same)
            for article in same:
                others = ", ".join(f for f in files if f != article.source)
                problems.append(Problem(article.source, article.line_of.get("slug") or article.line_of.get("title"),
                                        f"slug '{slug}' is also used by {others}; both would be published at the "
                                        "same address", "give one of them its own  slug: ...  in the front matter"))
    return problems


def _check_pins(article: Article, known: set[str]) -> list[Problem]:
    problems = []
    for key, slugs in (("related", article.related_pins), ("related_exclude", article.related_exclude)):
        for slug in slugs:
            if slug == article.slug:
                problems.append(Problem(article.source, article.line_of.get(key),
                                        f"'{key}' names this article itself ('{slug}')", "remove it from the list"))
            elif slug not in known:
                problems.append(Problem(article.source, article.line_of.get(key),
                                        f"'{key}' names an unknown article '{slug}'", did_you_mean(slug, known)))
    return problems


def _resolve_topics(articles: Sequence[Article], config: SiteConfig,
                    problems: list[Problem]) -> tuple[dict[str, str], list[Topic]]:
    """Map each article's source to a topic slug; declared topics, else topics found in the articles."""
    topic_of: dict[str, str] = {}
    if config.topics:
        lookup: dict[str, str] = {}
        for t in config.topics:
            for key in (t.slug, t.title.casefold(), slugify(t.title)):
                lookup.setdefault(key, t.slug)
        for article in articles:
            slug = lookup.get(article.topic) or lookup.get(article.topic.casefold()) or lookup.get(slugify(article.topic))
            if slug is None:
                choices = [t.title for t in config.topics] if "topic" in article.line_of else [t.slug for t in config.topics]
                where = ("its topic: line" if "topic" in article.line_of
                         else f"its folder content/{article.topic}/")
                problems.append(Problem(article.source, article.line_of.get("topic"),
                                        f"unknown topic '{article.topic}' (from {where})",
                                        f"{did_you_mean(article.topic, choices)} (topics are declared in portal.toml)"))
                continue
            topic_of[article.source] = slug
        return topic_of, [Topic(t.slug, t.title, t.description) for t in config.topics]
    titles: dict[str, Counter[str]] = defaultdict(Counter)
    for article in articles:
        slug = slugify(article.topic)
        if not slug or slug in RESERVED_TOPIC_SLUGS:
            reason = "has no letters or digits to make an address from" if not slug else "is reserved for the site's own pages"
            problems.append(Problem(article.source, article.line_of.get("topic"),
                                    f"topic '{article.topic}' {reason}", "choose another topic name"))
            continue
        topic_of[article.source] = slug
        from_folder = "topic" not in article.line_of
        titles[slug][article.topic.replace("-", " ").title() if from_folder else article.topic] += 1
    topics = [Topic(slug, _most_common(names)) for slug, names in titles.items()]
    return topic_of, sorted(topics, key=lambda t: (t.title.casefold(), t.slug))


def _terms(articles: Sequence[Article], names_of: Any, kind: str,
           problems: list[Problem]) -> tuple[dict[str, Term], dict[str, tuple[str, ...]]]:
    # Names are counted and slugified once each, not once an article (0.09 s of an edit
    # rebuild's assembling at 10,000 articles was this loop).
    counts = Counter(chain.from_iterable(map(names_of, articles)))
    slug_of = {name: slugify(name) for name in counts}
    spellings: dict[str, dict[str, int]] = defaultdict(dict)
    for name, count in counts.items():
        if slug_of[name]:
            spellings[slug_of[name]][name] = count
    members: dict[str, list[str]] = {slug: [] for slug in spellings}
    for article in articles:
        names = names_of(article)
        if not names:
            continue
        if len(names) == 1:
            slugs: Iterable[str] = (slug_of[names[0]],)
        else:  # (each term once an article, in the order written)
            slugs = dict.fromkeys(map(slug_of.__getitem__, names))
        for slug in slugs:
            if slug:
                members[slug].append(article.slug)
            else:
                for name in names:
                    if not slug_of[name]:
                        problems.append(Problem(article.source,
                                                article.line_of.get(f"{kind}s") or article.line_of.get(kind),
                                                f"{kind} '{name}' has no letters or digits to make an address from",
                                                f"rename the {kind}"))
    terms = {slug: Term(slug, _most_common(names)) for slug, names in sorted(spellings.items())}
    return terms, {slug: tuple(members[slug]) for slug in terms}


def _most_common(names: Mapping[str, int]) -> str:
    return min(names.items(), key=lambda item: (-item[1], item[0]))[0]


def _scheduled(articles: Sequence[Article], now: datetime,
               include_drafts: bool) -> tuple[tuple[datetime, str, Article], ...]:
    events = []
    for article in articles:
        if article.draft and not include_drafts:
            continue
        starts = article.publish_at or article.date
        if starts > now:
            events.append((starts, "publishes", article))
        if article.expire_at and article.expire_at > now:
            events.append((article.expire_at, "expires", article))
    return tuple(sorted(events, key=lambda e: (e[0], e[2].slug)))
