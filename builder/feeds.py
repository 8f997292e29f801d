"""Atom feeds for the site, each topic and (optionally) each tag; absolute URLs throughout."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from builder import __version__
from builder.views import Card

ATOM = "http://www.w3.org/2005/Atom"
_ROOT_RELATIVE = re.compile(r'\b(href|src)="/(?!/)')


@dataclass(frozen=True, slots=True)
class FeedSpec:
    path: str  # output-relative, e.g. "human-rights/feed.xml"
    title: str
    subtitle: str
    page_url: str  # absolute URL of the HTML page the feed follows
    feed_url: str  # absolute URL of the feed itself
    cards: tuple[Card, ...]


def atom(spec: FeedSpec, *, language: str, origin: str, site_title: str,
         body_of: Callable[[str], str] | None) -> bytes:
    """The feed as UTF-8 XML; `body_of(slug)` gives full HTML content, or None for summaries only."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": language})
    _text(feed, "title", spec.title)
    if spec.subtitle:
        _text(feed, "subtitle", spec.subtitle)
    _link(feed, "alternate", spec.page_url, "text/html")
    _link(feed, "self", spec.feed_url, "application/atom+xml")
    _text(feed, "id", spec.feed_url)
    _text(feed, "updated", _stamp(max((_updated(c) for c in spec.cards), default=_EPOCH)))
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    _text(author, "name", site_title)
    ET.SubElement(feed, f"{{{ATOM}}}generator", {"version": __version__}).text = "builder"
    for card in spec.cards:
        feed.append(_entry(card, origin, body_of))
    ET.indent(feed)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + bytes(ET.tostring(feed, encoding="utf-8", xml_declaration=False)) + b"\n"


def _entry(card: Card, origin: str, body_of: Callable[[str], str] | None) -> ET.Element:
    entry = ET.Element(f"{{{ATOM}}}entry")
    url = f"{origin}{card.url}"
    _text(entry, "title", card.title)
    _link(entry, "alternate", url, "text/html")
    _text(entry, "id", url)
    _text(entry, "published", _stamp(card.date))
    _text(entry, "updated", _stamp(_updated(card)))
    for person in card.authors:
        author = ET.SubElement(entry, f"{{{ATOM}}}author")
        _text(author, "name", person.name)
        _text(author, "uri", f"{origin}{person.url}")
    ET.SubElement(entry, f"{{{ATOM}}}category", {"term": card.topic.slug, "label": card.topic.title,
                                                 "scheme": f"{origin}{card.topic.url}"})
    for tag in card.tags:
        ET.SubElement(entry, f"{{{ATOM}}}category", {"term": tag.slug, "label": tag.name})
    if card.summary:
        ET.SubElement(entry, f"{{{ATOM}}}summary", {"type": "text"}).text = card.summary
    if body_of is not None:
        html = _ROOT_RELATIVE.sub(lambda m: f'{m.group(1)}="{origin}/', body_of(card.slug))
        if card.image:
            image = card.image.url if "://" in card.image.url else f"{origin}{card.image.url}"
            html = f'<p><img src="{_attr(image)}" alt="{_attr(card.image.alt)}"></p>\n{html}'
        ET.SubElement(entry, f"{{{ATOM}}}content", {"type": "html"}).text = html
    return entry


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _updated(card: Card) -> datetime:
    return datetime.fromisoformat(card.updated_iso) if card.updated_iso else card.date


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(parent: ET.Element, name: str, value: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}{name}").text = value


def _link(parent: ET.Element, rel: str, href: str, kind: str) -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"rel": rel, "type": kind, "href": href})


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def newest(cards: Sequence[Card], count: int) -> tuple[Card, ...]:
    return tuple(cards[:count])
