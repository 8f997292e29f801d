"""Rendering: template dependency keys, the by_reads filter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from builder.render import Renderer, by_reads


def renderer_for(folder: Path) -> Renderer:
    return Renderer([str(folder)], site=None, data={}, static_urls={}, source=folder,  # type: ignore[arg-type]
                    date_format="%Y")


def test_template_key_follows_extends_include_and_import(tmp_path: Path) -> None:
    (tmp_path / "base.html").write_text("<body>{% block main %}{% endblock %}</body>")
    (tmp_path / "_macros.html").write_text("{% macro x() %}x{% endmacro %}")
    (tmp_path / "article.html").write_text('{% extends "base.html" %}{% import "_macros.html" as m %}')
    (tmp_path / "tag.html").write_text("{% include 'part.html' %}")
    (tmp_path / "part.html").write_text("part")
    before = renderer_for(tmp_path)
    keys = {name: before.template_key(name) for name in ("article.html", "tag.html")}
    (tmp_path / "_macros.html").write_text("{% macro x() %}changed{% endmacro %}")
    after = renderer_for(tmp_path)
    assert after.template_key("article.html") != keys["article.html"]
    assert after.template_key("tag.html") == keys["tag.html"]  # it does not use _macros.html
    (tmp_path / "tag.html").write_text("{% include name %}")  # a computed name: depends on everything
    dynamic = renderer_for(tmp_path).template_key("tag.html")
    (tmp_path / "base.html").write_text("<body>changed</body>")
    assert renderer_for(tmp_path).template_key("tag.html") != dynamic


def test_by_reads_sorts_most_read_first_and_unknown_last() -> None:
    class Card:
        def __init__(self, slug: str, reads: int | None, day: int) -> None:
            self.slug, self.reads, self.date = slug, reads, datetime(2026, 1, day, tzinfo=UTC)

    cards = [Card("a", None, 5), Card("b", 10, 1), Card("c", 99, 2), Card("d", None, 9), Card("e", 10, 3)]
    assert [c.slug for c in by_reads(cards)] == ["c", "e", "b", "d", "a"]
