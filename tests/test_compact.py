"""Dataclasses pickled as (class, field values) come back equal, and misuse is refused."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from builder.compact import pickled_as_tuple
from builder.content.model import Article, ImageRef


def test_articles_round_trip_through_pickle() -> None:
    article = Article(source="content/peace/a.md", slug="a", title="A", date=datetime(2026, 1, 2, tzinfo=UTC),
                      topic="Peace", body_key="k", summary="s", word_count=3,
                      tags=("t",), image=ImageRef("a.png", "alt"), extra={"mood": "calm"}, line_of={"title": 2})
    assert pickle.loads(pickle.dumps(article)) == article
    assert article.__reduce__() == (Article, tuple(getattr(article, name) for name in Article.__slots__))


def test_fields_outside_init_are_refused() -> None:
    @dataclass
    class Counter:
        total: int = field(default=0, init=False)

    with pytest.raises(TypeError, match="__init__"):
        pickled_as_tuple(Counter)


def test_a_single_field_dataclass_round_trips() -> None:
    @pickled_as_tuple
    @dataclass(frozen=True)
    class Box:
        value: int

    globals()["Box"] = Box  # pickle finds classes by module-level name
    Box.__qualname__ = "Box"
    assert pickle.loads(pickle.dumps(Box(4))) == Box(4)
