"""Front matter fields to Article: derived values and every field error with its line."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from builder.content.fields import parse_article, parse_when
from builder.content.markup import MarkdownRenderer

UTC = UTC


@pytest.fixture(scope="module")
def renderer() -> MarkdownRenderer:
    return MarkdownRenderer()


def parse(text: str, renderer: MarkdownRenderer, path: str = "content/peace/a.md", tz: str = "UTC"):
    return parse_article(path, text, renderer, ZoneInfo(tz))


def test_minimal_article_derives_slug_topic_summary(renderer: MarkdownRenderer) -> None:
    result = parse("---\ntitle: \"Grüße aus Köln: Talks Resume!\"\ndate: 2026-03-01\n---\n"
                   "First *paragraph* here.\n\nSecond.\n", renderer)
    article = result.article
    assert article is not None, result.errors
    assert article.slug == "grusse-aus-koln-talks-resume"
    assert article.topic == "peace"  # from the folder
    assert article.summary == "First paragraph here."
    assert article.date == datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC"))
    assert article.word_count == 4
    assert article.reading_minutes == 1


def test_fields_are_read(renderer: MarkdownRenderer) -> None:
    result = parse("""---
title: Talks
date: 2026-03-01 09:30
updated: 2026-03-02
topic: Peace and Security
tags: [Mediation, Women]
author: [Ana Ruiz, Li Wei]
summary: Given summary.
image: map.png
image_alt: A map of the valley
image_caption: The valley
draft: true
related: [other-story]
related_exclude: old-story
mood: hopeful
---
Body.
""", renderer, tz="Europe/Zurich")
    a = result.article
    assert a is not None, result.errors
    assert a.date == datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("Europe/Zurich"))
    assert a.topic == "Peace and Security"
    assert a.tags == ("Mediation", "Women") and a.authors == ("Ana Ruiz", "Li Wei")
    assert a.summary == "Given summary."
    assert a.image is not None and a.image.src == "peace/map.png" and a.image.caption == "The valley"
    assert a.draft and a.related_pins == ("other-story",) and a.related_exclude == ("old-story",)
    assert a.extra == {"mood": "hopeful"}


@pytest.mark.parametrize("front, line, message", [
    ("title: ''\ndate: 2026-01-01", 2, "'title' is missing or empty"),
    ("title: T", 1, "'date' is missing"),
    ("title: T\ndate: 2025-13-45", 3, "'date' is not a valid date: '2025-13-45' (month must be in 1..12)"),
    ("title: T\ndate: 2026-01-01\ntags: {a: 1}", 4, "'tags' must be a list of names, not a mapping"),
    ("title: T\ndate: 2026-01-01\ntags: 2024", 4, "'tags' must be a list of names, not a number"),
    ("title: T\ndate: 2026-01-01\nauthor: 7", 4, "'author' must be a list of names, not a number"),
    ("title: T\ndate: 2026-01-01\nslug: ../../etc", 4, "slug '../../etc' cannot be used in a URL"),
    ("title: T\ndate: 2026-01-01\nimage: x.png", 4, "'image' has no 'image_alt'"),
    ("title: T\ndate: 2026-01-01\nimage: ../../x.png\nimage_alt: x", 4, "image '../../x.png' points outside content/"),
    ("title: T\ndate: 2026-01-01\ndraft: maybe", 4, "'draft' must be true or false, not 'maybe'"),
])
def test_field_errors(renderer: MarkdownRenderer, front: str, line: int, message: str) -> None:
    result = parse(f"---\n{front}\n---\nBody\n", renderer)
    assert result.article is None
    assert [(p.line, p.message[:len(message)]) for p in result.errors] == [(line, message)]
    assert result.errors[0].hint


def test_all_field_errors_in_one_pass(renderer: MarkdownRenderer) -> None:
    result = parse("---\ntitle: ''\ndate: nope\ntags: 3\n---\nBody\n", renderer)
    assert len(result.errors) == 3


def test_topic_required_outside_a_topic_folder(renderer: MarkdownRenderer) -> None:
    result = parse("---\ntitle: T\ndate: 2026-01-01\n---\nBody\n", renderer, path="content/a.md")
    assert [p.message for p in result.errors] == ["'topic' is missing"]


def test_typo_key_warns(renderer: MarkdownRenderer) -> None:
    result = parse("---\ntitle: T\ndate: 2026-01-01\ntgas: [a]\n---\nBody\n", renderer)
    assert result.article is not None
    assert result.warnings[0].line == 4 and "did you mean 'tags'" in result.warnings[0].hint


def test_long_first_paragraph_is_shortened(renderer: MarkdownRenderer) -> None:
    body = " ".join(["word"] * 200)
    result = parse(f"---\ntitle: T\ndate: 2026-01-01\n---\n{body}\n", renderer)
    assert result.article is not None
    assert result.article.summary.endswith("…") and len(result.article.summary) <= 301


def test_parse_when_forms() -> None:
    tz = ZoneInfo("Europe/Zurich")
    assert parse_when("2026-01-02", tz) == datetime(2026, 1, 2, tzinfo=tz)
    assert parse_when("2026-01-02T03:04:05Z", tz) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_when("2026-01-02 03:04+02:00", tz).utcoffset().total_seconds() == 7200  # type: ignore[union-attr]
    with pytest.raises(ValueError):
        parse_when("2026-02-30", tz)
