"""What loading a site hands on: card tokens that change exactly when the card does (a body edit must
not re-plan every listing), the related engine's rows, and the engine imported while articles parse."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import article

from builder.content.model import ImageRef
from builder.fingerprint import digest
from builder.load import load_site
from builder.pages import Planner
from builder.urls import Urls


def test_the_card_token_follows_the_card_not_the_file(make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = make_site({
        "portal.toml": 'title = "Cards"\nbase_url = "https://example.org/"\n',
        "content/peace/a.md": article("Talks resume", topic="peace", tags=["Mediation"], author="Ana Ruiz",
                                      body="word " * 400),
        "content/peace/b.md": article("Wells dug", topic="peace", tags=["Water"], author="Ben Ode"),
    })
    loaded = load_site(root, now=datetime(2026, 11, 27, tzinfo=UTC))
    assert not loaded.problems
    planner = Planner(loaded.site, Urls("/", "https://example.org"), lambda path: None, loaded.source_urls,
                      lambda key: "", lambda key: "")
    first = loaded.site.articles[0]
    token = planner.card_token(first)
    # another body of about the same length: another file digest and body, the same card
    assert planner.card_token(replace(first, digest="another", body_key="another",
                                      word_count=first.word_count + 20)) == token
    # anything the card shows changes the token
    for changed in (replace(first, title="Talks end"), replace(first, summary="Another summary."),
                    replace(first, date=first.date + timedelta(days=1)),
                    replace(first, updated=first.date + timedelta(days=2)),
                    replace(first, word_count=first.word_count + 900),  # reading time
                    replace(first, tags=("Water",)), replace(first, authors=("Ben Ode",)),
                    replace(first, image=ImageRef("https://example.org/a.jpg", "A well"))):
        assert planner.card_token(changed) != token, changed


def test_related_rows_are_the_articles_as_the_engine_reads_them(
        make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    from builder.load import related_rows
    from builder.related import RelatedDoc

    root = make_site({
        "portal.toml": 'title = "Rows"\nbase_url = "https://example.org/"\ntimezone = "Europe/Berlin"\n',
        "content/peace/a.md": article("Talks resume", date="2025-10-26T02:30:00", topic="peace",
                                      tags=["Mediation", "Ceasefire"], author="Ana Ruiz", related=["wells-dug"]),
        "content/peace/b.md": article("Wells dug", topic="peace", tags=["Water"], author="Ben Ode"),
    })
    loaded = load_site(root, now=datetime(2026, 11, 27, tzinfo=UTC))
    assert not loaded.problems
    docs = {row[0]: RelatedDoc.from_row(row) for row in related_rows(loaded.site)}
    first = loaded.site.articles[0] if loaded.site.articles[0].slug == "talks-resume" else loaded.site.articles[1]
    doc = docs[first.slug]
    assert (doc.title, doc.summary, doc.topic, doc.tags, doc.authors) == (
        first.title, first.summary, "peace", ("mediation", "ceasefire"), ("ana-ruiz",))
    assert doc.date.timestamp() == first.date.timestamp() and doc.date.tzinfo is UTC  # (Berlin's repeated hour)
    assert doc.pins == first.related_pins and doc.excludes == first.related_exclude
    assert first.digest == digest((root / first.source).read_bytes())  # (what the cache's keys rest on)
    assert doc.key == f"{first.digest}:{loaded.config.language}"
    assert RelatedDoc.from_row(doc.as_row()) == doc


def test_a_build_that_relates_articles_itself_imports_the_engine_while_they_are_parsed(
        make_site: Callable[[dict[str, str | bytes]], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from builder import load

    root = make_site({f"content/peace/a{n}.md": article(f"Wells {n}", topic="Peace") for n in range(3)})
    real = load.load_engine
    asked: list[tuple[bool, int]] = []
    parsed = []
    real_parse = load._parse_files

    def parse_files(*args: object) -> object:
        out = real_parse(*args)  # type: ignore[arg-type]
        parsed.append(len(out))
        return out

    def load_engine() -> None:
        asked.append((threading.current_thread() is threading.main_thread(), sum(parsed)))
        real()

    monkeypatch.setattr(load, "_parse_files", parse_files)
    monkeypatch.setattr(load, "load_engine", load_engine)
    loaded = load_site(root, now=datetime(2026, 11, 27, tzinfo=UTC), jobs=1)
    assert [(main, done > 0) for main, done in asked] == [(False, True)]
    assert set(loaded.relations.lists) == {"wells-0", "wells-1", "wells-2"}


def test_a_card_hashes_without_its_tags_and_authors() -> None:
    """Templates' cached() pieces are keyed by cards, one lookup a page: a card with 10,000 tags, on
    each of its 10,000 tag pages, hashed every tag every time (a quadratic build). Equal cards must
    still hash alike, and unequal ones stay unequal."""
    from builder.render import _CachedPieces
    from builder.views import Card, TermRef, TopicRef

    class Unhashable(TermRef):
        __hash__ = None  # type: ignore[assignment]

    topic = TopicRef("peace", "Peace", "", "/peace/", "/peace/feed.xml")
    when = datetime(2026, 11, 27, tzinfo=UTC)
    tags = tuple(Unhashable(f"t{n}", f"T{n}", f"/tags/t{n}/") for n in range(3))
    card = Card("a", "A", "/peace/a/", topic, when, "27 Nov", when.isoformat(), "", (), tags, None, None, 1)
    twin = replace(card, tags=tuple(replace(tag) for tag in tags))
    assert twin == card and hash(twin) == hash(card)  # (hashing the tags would raise)
    assert replace(card, tags=tags[:2]) != card
    pieces, made = _CachedPieces(), []

    def macro(value: Card) -> str:
        made.append(value.slug)
        return value.title

    assert pieces(macro, card) == pieces(macro, twin) == "A" and made == ["a"]
    assert pieces(macro, replace(card, title="B")) == "B" and made == ["a", "a"]


def test_the_planners_templates_are_those_of_every_page(make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    """Planner.templates() names what is compiled before processes fork (Renderer.prepare): every
    template a page of the site is rendered with, listings, years and indexes included."""
    root = make_site({
        "portal.toml": 'title = "Cards"\nbase_url = "https://example.org/"\n',
        "content/peace/a.md": article("Talks resume", topic="peace", tags=["Mediation"], author="Ana Ruiz"),
        "content/water/b.md": article("Wells dug", topic="water", tags=["Water"], author="Ben Ode"),
    })
    loaded = load_site(root, now=datetime(2026, 11, 27, tzinfo=UTC))
    planner = Planner(loaded.site, Urls("/", "https://example.org"), lambda path: None, loaded.source_urls,
                      lambda key: "", lambda key: "")
    units = [planner.home_unit(), *planner.article_units(loaded.relations.lists), *planner.listing_units()]
    used = {spec.template for unit in units for spec in unit.plan()}
    assert used == planner.templates()
    assert {"home.html", "article.html", "topic.html", "tag.html", "author.html", "year.html"} <= used


def test_cards_are_found_changed_by_their_checks_then_where_only_the_file_changed_by_their_tokens() -> None:
    from types import SimpleNamespace as Doc

    from builder.replan import changed_cards

    articles = [Doc(slug="a", check=("d1", "t"), token="A"),  # as it was
                Doc(slug="b", check=("d2+", "t"), token="B"),  # its file changed, not its card
                Doc(slug="c", check=("d3+", "t"), token="C+"),  # its file and its card changed
                Doc(slug="d", check=("d4", "u"), token="D"),  # another topic
                Doc(slug="e", check=("d5+", "t"), token="E"),  # its file changed; no article known before
                Doc(slug="new", check=("d6", "t"), token="N")]
    before = {"a": ("d1", "t"), "b": ("d2", "t"), "c": ("d3", "t"), "d": ("d4", "t"), "e": ("d5", "t"),
              "gone": ("d7", "t")}
    previous = {"b": Doc(slug="b", token="B"), "c": Doc(slug="c", token="C")}
    made: list[str] = []

    def token_of(article: Doc) -> str:
        made.append(article.slug)
        return str(article.token)

    def run(suspects: set[str] | None) -> tuple[dict[str, object], set[str]]:
        made.clear()
        return changed_cards(articles, lambda a: a.check, token_of, before, previous, suspects)  # type: ignore[arg-type]

    after, changed = run(set())
    assert changed == {"c", "d", "e", "new", "gone"}
    assert made == ["b", "b", "c", "c"]  # tokens (before and now) only where only the file changed
    assert after["a"] is before["a"] and after["b"] == ("d2+", "t") and set(after) == {a.slug for a in articles}
    assert run({"a", "b"})[1] == {"a", "b", "c", "d", "e", "new", "gone"}  # their terms were renamed
    assert run(None)[1] == {"a", "b", "c", "d", "e", "new", "gone"} and not made  # other parse settings
