"""Render view models through the theme's Jinja2 templates; template mistakes become Problems."""

from __future__ import annotations

import contextlib
import re
import traceback
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from jinja2.bccache import Bucket, BytecodeCache

from builder.dates import format_date
from builder.errors import Problem
from builder.fingerprint import digest
from builder.pages import PageSpec
from builder.views import SiteView

_TEMPLATE_STATEMENT = re.compile(
    r"{%-?\s*(?:extends|include|import|from)\s+(.+?)(?:\s+(?:import|as|ignore|with|without)\b.*?)?\s*-?%}", re.S)
_QUOTED = re.compile(r"""["']([^"']+)["']""")

# How many pieces cached() keeps in one process (about 25 MB of cards); when full it starts
# afresh, so a theme whose pieces seldom repeat costs no more than this.
CACHED_PIECES = 20_000


class _CachedPieces:
    """The templates' cached(macro, ...): what the macro makes of these arguments, made once per
    build and process. A card is on its topic's page, its tags' pages, its author's page and in
    several related lists, one macro call each (11 us; 104,000 calls at 10,000 articles). Like
    Hugo's partialCached, it is for macros whose output depends on their arguments alone."""

    def __init__(self) -> None:
        self._made: dict[Any, Any] = {}
        self.calls = self.made = 0

    def __call__(self, macro: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        try:
            key = (macro, args, frozenset(kwargs.items()))
            piece = self._made.get(key)
        except TypeError:  # an argument that cannot be a key (a list, a dict): made every time
            return macro(*args, **kwargs)
        if piece is None:
            self.made += 1
            if len(self._made) >= CACHED_PIECES:
                self._made.clear()
            piece = self._made[key] = macro(*args, **kwargs)
        return piece


class TemplateProblem(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Renderer:
    def __init__(self, template_dirs: list[str], site: SiteView, data: Mapping[str, Any],
                 static_urls: Mapping[str, str], source: Path, date_format: str,
                 compiled: dict[str, bytes] | None = None) -> None:
        """COMPILED: a store of compiled templates kept between builds (see _StoredBytecode)."""
        self._source = source
        self._static_urls = static_urls
        self._date_format = date_format
        self.env = Environment(
            loader=FileSystemLoader(template_dirs),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
            bytecode_cache=_StoredBytecode(compiled) if compiled is not None else None,
        )
        self.cached = _CachedPieces()
        self.env.globals.update(site=site, data=data, static=self.static, cached=self.cached)
        self._template_keys: dict[str, str] = {}
        self._texts: dict[str, str | None] = {}
        self.env.filters["date"] = self.date
        self.env.filters["by_reads"] = by_reads

    def static(self, path: str) -> str:
        """URL of a theme static file; an unknown name is a template error, not a broken link."""
        try:
            return self._static_urls[path]
        except KeyError:
            raise jinja2.UndefinedError(f"no static file '{path}' in the theme's static/ folders") from None

    def template_key(self, name: str) -> str:
        """A digest of the template and of every template it extends, includes or imports."""
        if name not in self._template_keys:
            sources: dict[str, str] = {}
            self._collect(name, sources)
            self._template_keys[name] = digest("\0".join(f"{n}\0{s}" for n, s in sorted(sources.items())).encode())
        return self._template_keys[name]

    def _template_text(self, name: str) -> str | None:
        """Template NAME's text (None if there is none), read once per build: every page template's
        key and prepare() follow the same base and macros."""
        if name not in self._texts:
            try:
                self._texts[name] = self.env.loader.get_source(self.env, name)[0]  # type: ignore[union-attr]
            except jinja2.TemplateNotFound:
                self._texts[name] = None
        return self._texts[name]

    def _collect(self, name: str, sources: dict[str, str]) -> None:
        if name in sources:
            return
        source = self._template_text(name)
        sources[name] = source or ""
        if source is None:
            return
        # A regular expression, not Jinja's parser: parsing every template cost more than hashing
        # all of a small site's pages. A name it cannot read makes the page depend on every template.
        for statement in _TEMPLATE_STATEMENT.finditer(source):
            literal = _QUOTED.fullmatch(statement.group(1).strip())
            if literal is None:
                for other in self.env.list_templates():
                    self._collect(other, sources)
                return
            self._collect(literal.group(1), sources)

    def prepare(self, names: set[str]) -> None:
        """Compile templates NAMES and those they extend, include or import (which Jinja loads only
        once a page is rendered) before processes fork, so none of them compiles them again (the
        default theme's base and macros are most of its compiling) and the compiled code lands in
        the store; mistakes are reported by render()."""
        sources: dict[str, str] = {}
        for name in names:
            self._collect(name, sources)
        for name in sorted(sources):
            with contextlib.suppress(TemplateError, OSError):
                self.env.get_template(name)

    def date(self, moment: datetime, pattern: str | None = None) -> str:
        return format_date(moment, pattern or self._date_format)

    def render(self, spec: PageSpec) -> bytes:
        try:
            template = self.env.get_template(spec.template)
            return template.render(page=spec.page).encode("utf-8")
        except jinja2.TemplateNotFound as exc:
            raise TemplateProblem(Problem(self._display(str(exc.name)), None,
                                          f"template '{exc.name}' not found (needed for {spec.path})",
                                          "add it to your theme's templates/ folder, or remove the reference")) from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(Problem(self._display(exc.filename or exc.name or spec.template), exc.lineno,
                                          f"template syntax error: {exc.message}",
                                          "check the {% ... %} and {{ ... }} tags on that line")) from None
        except (TemplateError, AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
            filename, line = _template_frame(exc)
            message = exc.message if isinstance(exc, TemplateError) and exc.message else str(exc)
            raise TemplateProblem(Problem(self._display(filename or spec.template), line,
                                          f"template error while rendering {spec.path}: {message}",
                                          "check the variable names against docs/themes.md")) from None

    def _display(self, filename: str | None) -> str:
        if not filename:
            return "(template)"
        path = Path(filename)
        try:
            return path.resolve().relative_to(self._source.resolve()).as_posix()
        except ValueError:
            return f"(default theme) {'/'.join(path.parts[-3:])}"


class _StoredBytecode(BytecodeCache):
    """Compiled templates in a dict the build cache keeps. Jinja checks each entry against the
    template's source checksum and its own format and Python version, so stale code is never run;
    compiling the default theme's templates cost more than rendering a page edit."""

    def __init__(self, store: dict[str, bytes]) -> None:
        self._store = store

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


def by_reads(cards: Any) -> list[Any]:
    """Cards sorted by read count, most read first; articles without a count go last, newest first."""
    return sorted(cards, key=lambda c: (c.reads is None, -(c.reads or 0), -c.date.timestamp(), c.slug))


def _template_frame(exc: BaseException) -> tuple[str | None, int | None]:
    """The innermost traceback frame that belongs to a template (Jinja maps them to template lines)."""
    found: tuple[str | None, int | None] = (None, None)
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename.endswith((".html", ".xml", ".txt", ".j2", ".jinja")):
            found = (frame.filename, frame.lineno)
    return found
