"""Validate one article's front matter and body into an Article; pure, so results can be cached."""

from __future__ import annotations

import difflib
import hashlib
import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from builder.compact import pickled_as_tuple
from builder.content.frontmatter import FrontMatter, split_front_matter
from builder.content.markup import MarkdownRenderer, Rendered
from builder.content.model import Article, Heading, ImageRef
from builder.dates import parse_when
from builder.errors import Problem
from builder.slugs import is_safe_slug, slugify

KNOWN_KEYS = frozenset({
    "title", "date", "updated", "publish_at", "expire_at", "topic", "tags", "author", "authors",
    "summary", "slug", "image", "image_alt", "image_caption", "draft", "featured", "related", "related_exclude",
})
SUMMARY_LIMIT = 300
_DATE_HINT = "write it as YYYY-MM-DD or YYYY-MM-DD HH:MM (optionally with a timezone such as +02:00)"


@pickled_as_tuple
@dataclass(slots=True)
class ParseResult:
    article: Article | None
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    body_html: str = ""
    text: str = ""  # plain text of the body, for related articles
    headings: tuple[Heading, ...] = ()  # the body's, stored with body_html


def parse_article(path: str, text: str, renderer: MarkdownRenderer, tz: tzinfo, digest: str = "") -> ParseResult:
    """`path` is relative to the site folder and starts with 'content/'; DIGEST, the source
    file's, goes into the article as it is made (dataclasses.replace() afterwards: 12 us)."""
    front = split_front_matter(path, text)
    if isinstance(front, Problem):
        return ParseResult(None, [front])
    reader = _FieldReader(path, front, tz)
    article, rendered = reader.read(renderer, digest)
    if article is None or reader.errors:
        return ParseResult(None, reader.errors, reader.warnings)
    return ParseResult(article, reader.errors, reader.warnings, rendered.html, rendered.text, rendered.headings)


class _FieldReader:
    def __init__(self, path: str, front: FrontMatter, tz: tzinfo) -> None:
        self.path = path
        self.front = front
        self.tz = tz
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.folder = posixpath.dirname(path.removeprefix("content/")) if path.startswith("content/") else ""

    def error(self, key: str | None, message: str, hint: str = "") -> None:
        line = self.front.line_of.get(key, self.front.first_line) if key else self.front.first_line
        self.errors.append(Problem(self.path, line, message, hint))

    def read(self, renderer: MarkdownRenderer, digest: str = "") -> tuple[Article | None, Rendered]:
        data = self.front.data
        title = self.text("title", required=True)
        when = self.datetime("date", required=True)
        updated = self.datetime("updated")
        publish_at = self.datetime("publish_at")
        expire_at = self.datetime("expire_at")
        topic = self.topic()
        tags = self.names("tags")
        authors = self.authors()
        slug = self.slug(title)
        image = self.image()
        draft = self.flag("draft")
        featured = self.flag("featured")
        pins = self.slugs("related")
        excludes = self.slugs("related_exclude")
        summary_given = self.text("summary")
        for key in data:
            if key not in KNOWN_KEYS:
                close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.75)
                if close:
                    self.warnings.append(Problem(self.path, self.front.line_of.get(key), f"unknown key '{key}' is kept "
                                                 "as extra data", f"did you mean '{close[0]}'?"))
        rendered = renderer.render(self.front.body, self.folder)
        if self.errors or title is None or when is None or topic is None or slug is None:
            return None, rendered
        return Article(
            source=self.path, slug=slug, title=title, date=when, topic=topic,
            body_key=hashlib.blake2b(rendered.html.encode(), digest_size=16).hexdigest(),
            summary=summary_given or _shorten(rendered.first_paragraph),
            word_count=len(rendered.text.split()),
            updated=updated, publish_at=publish_at, expire_at=expire_at, tags=tags, authors=authors,
            image=image, draft=draft, featured=featured, related_pins=pins, related_exclude=excludes, links=rendered.links,
            extra={k: v for k, v in data.items() if k not in KNOWN_KEYS}, line_of=dict(self.front.line_of),
            digest=digest,
        ), rendered

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.front.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(key, f"'{key}' is missing or empty", f"add a line such as  {key}: ...  to the front matter")
            return None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.error(key, f"'{key}' must be text, not {_kind(value)}", f'write it in quotes:  {key}: "..."')
            return None
        return value.strip()

    def datetime(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.front.data.get(key)
        if value is None or value == "":
            if required:
                self.error(key, f"'{key}' is missing", f"add  {key}: 2026-05-01  ({_DATE_HINT})")
            return None
        if not isinstance(value, str):
            self.error(key, f"'{key}' must be a date, not {_kind(value)}", _DATE_HINT)
            return None
        try:
            parsed = parse_when(value, self.tz)
        except ValueError as exc:
            reason = str(exc)
            detail = f" ({reason})" if "must be in" in reason or "out of range" in reason else ""
            self.error(key, f"'{key}' is not a valid date: '{value}'{detail}", _DATE_HINT)
            return None
        return parsed

    def topic(self) -> str | None:
        if "topic" in self.front.data:
            return self.text("topic", required=True)
        if self.folder:
            return self.folder.split("/")[0]
        self.error(None, "'topic' is missing", "add  topic: ...  to the front matter, or move the file into "
                   "content/<topic-slug>/")
        return None

    def names(self, key: str) -> tuple[str, ...]:
        value = self.front.data.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.error(key, f"'{key}' must be a list of names, not {_kind(value)}",
                       f"write  {key}: [first, second]  or one name per line starting with '- '")
            return ()
        names: list[str] = []
        for item in items:
            if not isinstance(item, str):
                hint = ('put entries that look like numbers or dates in quotes: "2026"'
                        if isinstance(item, (int, float)) else "write each entry as plain text, without ':' or brackets")
                self.error(key, f"'{key}' holds {_kind(item)} ({item!r}); every entry must be a name", hint)
                continue
            if item.strip() and item.strip() not in names:
                names.append(item.strip())
        return tuple(names)

    def authors(self) -> tuple[str, ...]:
        if "author" in self.front.data and "authors" in self.front.data:
            self.error("authors", "both 'author' and 'authors' are given", "keep one of them")
            return ()
        return self.names("authors" if "authors" in self.front.data else "author")

    def slugs(self, key: str) -> tuple[str, ...]:
        return tuple(s.strip("/").split("/")[-1] for s in self.names(key))

    def slug(self, title: str | None) -> str | None:
        if "slug" in self.front.data:
            given = self.text("slug", required=True)
            if given is None:
                return None
            if not is_safe_slug(given):
                suggestion = slugify(given)
                self.error("slug", f"slug '{given}' cannot be used in a URL",
                           "use lowercase letters, digits and hyphens"
                           + (f", e.g. '{suggestion}'" if suggestion else ""))
                return None
            return given
        if title is None:
            return None
        derived = slugify(title) or slugify(posixpath.splitext(posixpath.basename(self.path))[0])
        if not derived:
            self.error("title", "no URL slug can be made from the title or the file name",
                       "add  slug: some-words  to the front matter")
            return None
        return derived

    def image(self) -> ImageRef | None:
        src = self.text("image")
        alt = self.text("image_alt")
        caption = self.text("image_caption") or ""
        if src is None:
            if alt is not None:
                self.warnings.append(Problem(self.path, self.front.line_of.get("image_alt"),
                                             "'image_alt' is given but there is no 'image'", "add  image: file.jpg"))
            return None
        if alt is None:
            self.error("image", "'image' has no 'image_alt' (text describing the image for people who cannot see it)",
                       "add  image_alt: What the picture shows  below the image line")
            return None
        if re.match(r"^https?://", src):
            return ImageRef(src, alt, caption)
        resolved = posixpath.normpath(src.lstrip("/") if src.startswith("/") else posixpath.join(self.folder, src))
        if "\\" in resolved or any(ord(char) < 32 for char in resolved):
            self.error("image", f"image '{src}' is not a usable file path (it holds '\\' or a control character)",
                       "write the path with '/' between folders, e.g. photos/harbour.jpg")
            return None
        if resolved.startswith(".."):
            self.error("image", f"image '{src}' points outside content/", "keep images inside the content folder")
            return None
        return ImageRef(resolved, alt, caption)

    def flag(self, key: str) -> bool:
        value = self.front.data.get(key, False)
        if not isinstance(value, bool):
            self.error(key, f"'{key}' must be true or false, not {value!r}", f"write  {key}: true  or  {key}: false")
            return False
        return value


def _shorten(text: str) -> str:
    if len(text) <= SUMMARY_LIMIT:
        return text
    cut = text[: SUMMARY_LIMIT + 1].rsplit(" ", 1)[0].rstrip(",;:.-–— ")
    return cut + "…"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__
