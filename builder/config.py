"""Read portal.toml into a frozen, validated SiteConfig; every mistake is reported at once."""

from __future__ import annotations

import dataclasses
import posixpath
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from builder.errors import BuildError, Problem, did_you_mean
from builder.slugs import is_safe_slug, slugify

CONFIG_NAME = "portal.toml"

# URL segments the site itself uses at the top level; a topic may not take them.
RESERVED_TOPIC_SLUGS = frozenset(
    {"tags", "authors", "topics", "archive", "search", "static", "page", "pagefind", "media"}
)


@dataclass(frozen=True, slots=True)
class TopicConfig:
    slug: str
    title: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class RelatedWeights:
    """How much each signal counts in the related-articles score (see builder.related)."""

    text: float = 1.0
    tags: float = 0.15
    topic: float = 0.08
    author: float = 0.03
    recency: float = 0.05
    recency_half_life_days: float = 365.0


@dataclass(frozen=True, slots=True)
class RelatedConfig:
    count: int = 5
    weights: RelatedWeights = field(default_factory=RelatedWeights)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    entries: int = 20
    full_content: bool = True
    tags: bool = False


@dataclass(frozen=True, slots=True)
class SiteConfig:
    title: str = "Peace News"
    tagline: str = ""
    base_url: str = "http://localhost:8000/"
    language: str = "en"
    theme: str = "peace"
    per_page: int = 10
    date_format: str = "%-d %B %Y"
    timezone: str = "UTC"
    logo: str = ""
    copyright: str = ""
    sanitize: bool = False
    topics: tuple[TopicConfig, ...] = ()
    related: RelatedConfig = field(default_factory=RelatedConfig)
    feeds: FeedConfig = field(default_factory=FeedConfig)

    @property
    def base_path(self) -> str:
        """The path part of base_url, always starting and ending with '/'."""
        path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]*", "", self.base_url, flags=re.I)
        return "/" + path.strip("/") + "/" if path.strip("/") else "/"

    @property
    def origin(self) -> str:
        match = re.match(r"^[a-z][a-z0-9+.-]*://[^/]*", self.base_url, flags=re.I)
        return match.group(0) if match else ""

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(source: Path) -> SiteConfig:
    """SiteConfig from SOURCE/portal.toml, or the defaults when there is none."""
    path = source / CONFIG_NAME
    if not path.is_file():
        return SiteConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BuildError([Problem(CONFIG_NAME, None, f"is not UTF-8 text ({exc.reason} at byte {exc.start})",
                                  "save the file as UTF-8")]) from None
    return parse_config(text)


def parse_config(text: str, name: str = CONFIG_NAME) -> SiteConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _line_of_toml_error(str(exc))
        if line is None and "(at end of document)" in str(exc):
            line = text.rstrip("\n").count("\n") + 1
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(exc))
        message = _TOML_PLAIN_WORDS.get(message, message)
        raise BuildError([Problem(name, line, f"TOML syntax error: {message}",
                                  "check quotes, brackets and '=' on that line (https://toml.io)")]) from None
    problems: list[Problem] = []
    locate = _KeyLocator(text)
    config: SiteConfig | None = _build(SiteConfig, raw, (), problems, locate, name)
    if config is not None:
        problems += _check_values(config, locate, name)
    if problems or config is None:
        raise BuildError(problems)
    if config.logo.startswith("/"):  # "/media/logo.png" means content/media/logo.png, as for article images
        config = dataclasses.replace(config, logo=config.logo.lstrip("/"))
    return config


# tomllib's wording for the most common slips, said the way a writer would see them.
_TOML_PLAIN_WORDS = {
    "Illegal character '\\n'": "a quoted value is not closed before the end of the line",
    "Cannot overwrite a value": "a key is given twice",
    "Unclosed array": "a [ list ] is not closed",
}

KeyPath = tuple[str | int, ...]


def _build(cls: type, raw: Any, path: KeyPath, problems: list[Problem],
           locate: _KeyLocator, name: str) -> Any:
    """Turn a TOML table into dataclass `cls`, recording wrong keys and types."""
    if not isinstance(raw, dict):
        problems.append(Problem(name, locate(path), f"'{_dotted(path)}' must be a table",
                                f"write it as [{_dotted(path)}] followed by key = value lines"))
        return None
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    ok = True
    for key, value in raw.items():
        if key not in known:
            problems.append(Problem(name, locate(path + (key,)), f"unknown key '{_dotted(path + (key,))}'",
                                    did_you_mean(key, known)))
            ok = False
            continue
        converted = _convert(hints[key], value, path + (key,), problems, locate, name)
        if converted is _INVALID:
            ok = False
        else:
            values[key] = converted
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in raw:
            problems.append(Problem(name, locate(path), f"'{_dotted(path + (f.name,))}' is required",
                                    f"add {f.name} = ... to this table"))
            ok = False
    return cls(**values) if ok else None


_INVALID = object()
_TYPE_NAMES = {str: "a string", int: "a whole number", float: "a number", bool: "true or false"}


def _convert(hint: Any, value: Any, path: KeyPath, problems: list[Problem],
             locate: _KeyLocator, name: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        result = _build(typing.cast(type, hint), value, path, problems, locate, name)
        return _INVALID if result is None else result
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, list):
            problems.append(Problem(name, locate(path), f"'{_dotted(path)}' must be a list",
                                    f"write it as [[{_dotted(path)}]] tables or a [...] list"))
            return _INVALID
        items = [_convert(item_type, v, path + (i,), problems, locate, name) for i, v in enumerate(value)]
        return _INVALID if any(i is _INVALID for i in items) else tuple(items)
    if origin in (types.UnionType, typing.Union):
        hint = next(a for a in typing.get_args(hint) if a is not type(None))
    expected = hint
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, expected) and not (expected is int and isinstance(value, bool)):
        return value
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    problems.append(Problem(name, locate(path),
                            f"'{_dotted(path)}' must be {_TYPE_NAMES.get(expected, expected.__name__)}, not {shown}",
                            'put text in quotes ("..."), write numbers and true/false without them'))
    return _INVALID


def _check_values(config: SiteConfig, locate: _KeyLocator, name: str) -> list[Problem]:
    """Checks on values that a type alone cannot express."""
    problems: list[Problem] = []

    def bad(path: KeyPath, message: str, hint: str) -> None:
        problems.append(Problem(name, locate(path), message, hint))

    if not re.match(r"^https?://[^/\s]+(/\S*)?$", config.base_url):
        bad(("base_url",), f"base_url '{config.base_url}' is not an absolute http(s) URL",
            'write it like base_url = "https://news.example.org/"')
    if config.per_page < 1:
        bad(("per_page",), "per_page must be at least 1", "10 is a common choice")
    if config.related.count < 0:
        bad(("related", "count"), "related.count cannot be negative", "5 is the default")
    if config.feeds.entries < 1:
        bad(("feeds", "entries"), "feeds.entries must be at least 1", "20 is the default")
    if not re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", config.language):
        bad(("language",), f"language '{config.language}' is not a language tag", 'use e.g. "en", "fr" or "pt-BR"')
    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        bad(("timezone",), f"unknown timezone '{config.timezone}'", 'use an IANA name such as "UTC" or "Europe/Zurich"')
    logo = config.logo
    if logo and "://" not in logo:
        if "\\" in logo or any(ord(char) < 32 for char in logo):
            bad(("logo",), f"logo '{logo}' is not a usable file path (it holds '\\' or a control character)",
                'write it relative to content/ with \'/\' between folders, e.g. logo = "media/logo.png"')
        elif posixpath.normpath(logo.lstrip("/")).startswith(".."):
            bad(("logo",), f"logo '{logo}' points outside content/",
                'put the logo in content/ and write its path from there, e.g. logo = "media/logo.png"')
    seen: dict[str, int] = {}
    for index, topic in enumerate(config.topics):
        if not is_safe_slug(topic.slug):
            bad(("topics", index, "slug"), f"topic slug '{topic.slug}' is not usable in a URL",
                f"use lowercase letters, digits and hyphens, e.g. '{slugify(topic.slug) or 'peace'}'")
        elif topic.slug in RESERVED_TOPIC_SLUGS:
            bad(("topics", index, "slug"), f"topic slug '{topic.slug}' is reserved for the site's own pages",
                "choose another slug")
        elif topic.slug in seen:
            bad(("topics", index, "slug"), f"topic slug '{topic.slug}' is declared twice",
                "give each topic its own slug")
        seen.setdefault(topic.slug, index)
        if not topic.title.strip():
            bad(("topics", index, "title"), "topic title is empty", "give the topic a title readers will see")
    return problems


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _line_of_toml_error(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


class _KeyLocator:
    """Finds the line a key was written on; tomllib keeps no positions."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+))*)\s*=""")

    def __init__(self, text: str) -> None:
        self._lines: dict[KeyPath, int] = {}
        table: KeyPath = ()
        counts: dict[KeyPath, int] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                parts = tuple(self._split(header.group(2)))
                if header.group(1) == "[[":
                    index = counts.get(parts, 0)
                    counts[parts] = index + 1
                    table = parts + (index,)
                else:
                    table = parts
                self._lines.setdefault(table, number)
                continue
            key = self._KEY.match(line)
            if key:
                self._lines.setdefault(table + tuple(self._split(key.group(1))), number)

    @staticmethod
    def _split(dotted: str) -> list[str]:
        return [part.strip().strip("\"'") for part in re.findall(r'"[^"]*"|\'[^\']*\'|[^.]+', dotted)]

    def __call__(self, path: KeyPath) -> int | None:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return None
