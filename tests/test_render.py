"""Rendering: template dependency keys, compiled templates kept between builds, the by_reads filter."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

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


def test_prepared_templates_leave_nothing_to_compile_in_a_forked_process(tmp_path: Path) -> None:
    """prepare() compiles what the named templates extend, include and import too: Jinja loads
    those only when a page renders, which in each render worker and the listings' process would
    compile them again."""
    (tmp_path / "base.html").write_text("<body>{% block main %}{% endblock %}</body>")
    (tmp_path / "_macros.html").write_text("{% macro x() %}x{% endmacro %}")
    (tmp_path / "page.html").write_text('{% extends "base.html" %}{% import "_macros.html" as m %}'
                                        "{% block main %}{{ m.x() }} {{ page }}{% endblock %}")
    (tmp_path / "broken.html").write_text("{% if %}")
    renderer = renderer_for(tmp_path)
    renderer.prepare({"page.html", "broken.html", "missing.html"})  # (mistakes are render()'s to report)

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("prepare() should have compiled it")

    renderer.env.compile = no_compiling  # type: ignore[method-assign, assignment]
    spec = SimpleNamespace(template="page.html", page="A", path="index.html")
    assert renderer.render(spec) == b"<body>x A</body>"  # type: ignore[arg-type]


def test_by_reads_sorts_most_read_first_and_unknown_last() -> None:
    class Card:
        def __init__(self, slug: str, reads: int | None, day: int) -> None:
            self.slug, self.reads, self.date = slug, reads, datetime(2026, 1, day, tzinfo=UTC)

    cards = [Card("a", None, 5), Card("b", 10, 1), Card("c", 99, 2), Card("d", None, 9), Card("e", 10, 3)]
    assert [c.slug for c in by_reads(cards)] == ["c", "e", "b", "d", "a"]


def test_cached_makes_a_macro_piece_once_per_set_of_arguments(tmp_path: Path) -> None:
    (tmp_path / "_macros.html").write_text("{% macro card(c, level=2) %}<h{{ level }}>{{ c }}</h{{ level }}>{% endmacro %}")
    (tmp_path / "page.html").write_text('{% import "_macros.html" as m %}'
                                        "{% for c in page %}{{ cached(m.card, c, level=3) }}{{ m.card(c) }}{% endfor %}")
    renderer = renderer_for(tmp_path)
    spec = SimpleNamespace(template="page.html", page=["a&b", "c", "a&b"], path="index.html")
    expected = b"<h3>a&amp;b</h3><h2>a&amp;b</h2><h3>c</h3><h2>c</h2><h3>a&amp;b</h3><h2>a&amp;b</h2>"
    assert renderer.render(spec) == expected  # type: ignore[arg-type]
    assert renderer.render(spec) == expected  # type: ignore[arg-type]
    assert (renderer.cached.calls, renderer.cached.made) == (6, 2)  # the imported macro is the same each page


def test_cached_keys_on_every_argument_and_still_calls_with_unhashable_ones() -> None:
    from builder import render

    made: list[tuple[object, ...]] = []

    def piece(*args: object, **kwargs: object) -> str:
        made.append((args, kwargs))
        return f"{args}{sorted(kwargs.items())}"

    cached = render._CachedPieces()
    assert cached(piece, 1, a=1, b=2) == cached(piece, 1, b=2, a=1) == "(1,)[('a', 1), ('b', 2)]"
    assert cached(piece, 1, a=2, b=2) != cached(piece, 2, a=1, b=2)
    assert len(made) == 3
    assert cached(piece, [1]) == cached(piece, [1]) and len(made) == 5  # a list is no key: made each time


def test_cached_starts_afresh_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    from builder import render

    monkeypatch.setattr(render, "CACHED_PIECES", 3)
    cached = render._CachedPieces()
    for n in range(7):
        cached(str, n)
    assert len(cached._made) == 1 and cached.made == 7
    cached(str, 6)
    assert cached.made == 7
