"""Rendering: template dependency keys, compiled templates kept between builds, the by_reads filter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from builder.render import Renderer, by_reads


def renderer_for(folder: Path, compiled: dict[str, bytes] | None = None) -> Renderer:
    return Renderer([str(folder)], site=None, data={}, static_urls={}, source=folder,  # type: ignore[arg-type]
                    date_format="%Y", compiled=compiled)


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


def test_compiled_templates_are_reused_until_the_template_changes(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("first {{ page }}")
    store: dict[str, bytes] = {}
    spec = SimpleNamespace(template="page.html", page="A", path="index.html")
    assert renderer_for(tmp_path, store).render(spec) == b"first A"  # type: ignore[arg-type]
    assert len(store) == 1
    stored = dict(store)
    again = renderer_for(tmp_path, store)

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the stored code should have been used")

    again.env.compile = no_compiling  # type: ignore[method-assign, assignment]
    assert again.render(spec) == b"first A"  # type: ignore[arg-type]
    (tmp_path / "page.html").write_text("second {{ page }}")
    assert renderer_for(tmp_path, store).render(spec) == b"second A"  # type: ignore[arg-type]
    assert store != stored


def test_by_reads_sorts_most_read_first_and_unknown_last() -> None:
    class Card:
        def __init__(self, slug: str, reads: int | None, day: int) -> None:
            self.slug, self.reads, self.date = slug, reads, datetime(2026, 1, day, tzinfo=UTC)

    cards = [Card("a", None, 5), Card("b", 10, 1), Card("c", 99, 2), Card("d", None, 9), Card("e", 10, 3)]
    assert [c.slug for c in by_reads(cards)] == ["c", "e", "b", "d", "a"]
