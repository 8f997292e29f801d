"""Split a Markdown file into YAML front matter and body, keeping line numbers for messages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from frontmatter.default_handlers import YAMLHandler

from builder.errors import Problem

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _NoTimestampLoader(_Loader):  # type: ignore[misc]
    """Safe YAML loader that leaves dates as text, so we can parse them and report bad ones by line."""


_NoTimestampLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _Loader.yaml_implicit_resolvers.items()  # type: ignore[attr-defined]
}

_HANDLER = YAMLHandler()
_TOP_LEVEL_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
EXAMPLE = "---\ntitle: A headline\ndate: 2026-05-01\ntopic: Peace\n---"


@dataclass(frozen=True, slots=True)
class FrontMatter:
    data: dict[str, Any]
    line_of: dict[str, int]  # top-level key -> line number in the file
    body: str
    first_line: int  # line of the opening '---'


def split_front_matter(path: str, text: str) -> FrontMatter | Problem:
    """Front matter and body of one article, or the one problem that stops reading it."""
    stripped = text.lstrip()
    if not stripped:
        return Problem(path, None, "the file is empty",
                       f"an article starts with front matter, for example:\n{_indent(EXAMPLE)}")
    first_line = text[: len(text) - len(stripped)].count("\n") + 1
    if not _HANDLER.detect(stripped):
        return Problem(path, first_line, "no front matter: the file must start with a line '---'",
                       f"put the article's details at the top, for example:\n{_indent(EXAMPLE)}")
    try:
        raw_yaml, body = _HANDLER.split(stripped)
    except ValueError:
        return Problem(path, first_line, "front matter is opened with '---' but never closed",
                       "add a line holding only '---' after the last front matter key")
    yaml_start = stripped.find(raw_yaml, 3)
    yaml_first_line = first_line + stripped.count("\n", 0, yaml_start)
    data = _simple_mapping(raw_yaml)
    if data is None:
        try:
            data = yaml.load(raw_yaml, Loader=_NoTimestampLoader)
        except yaml.YAMLError as exc:
            return _yaml_problem(path, exc, yaml_first_line)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return Problem(path, first_line + 1, "front matter must be a list of 'key: value' lines",
                       f"for example:\n{_indent(EXAMPLE)}")
    line_of: dict[str, int] = {}
    for offset, line in enumerate(raw_yaml.split("\n")):
        match = _TOP_LEVEL_KEY.match(line)
        if match:
            line_of.setdefault(match.group(1), yaml_first_line + offset)
    return FrontMatter({str(k): v for k, v in data.items()}, line_of, body, first_line)


# The front matter most articles have, read without the YAML parser (which builds and resolves
# every node in Python: 0.1-0.2 ms an article, as much as the rest of reading its fields): lines
# of "key: value" at the left margin, each value a quoted string (escaping only quotes and
# backslashes), a plain word or phrase, true or false, or a list [a, b] of plain words or phrases.
# Anything else, or any value YAML would read as another type (a number, null), goes to the YAML
# parser, which reads what this reads the same (tests/test_frontmatter.py compares them).
_SIMPLE_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*): +(.*)")
_NOT_SIMPLE = re.compile(r"[\t\r\x85\u2028\u2029\ufeff#]")  # (tabs, other line breaks, a BOM, comments)
_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\["\\])*)"')
_ESCAPED = re.compile(r'\\(["\\])')
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_STARTS_OTHER = frozenset("-?:,[]{}#&*!|>'\"%@`")  # a plain scalar never starts with these
_FLOW_OTHER = re.compile(r"[\[\]{}:'\"]")  # nor holds these, in a list (commas part the items)
_RESOLVERS: dict[str | None, list[tuple[str, re.Pattern[str]]]] = _NoTimestampLoader.yaml_implicit_resolvers
_STRING, _BOOLEAN = "tag:yaml.org,2002:str", "tag:yaml.org,2002:bool"


def _simple_mapping(raw: str) -> dict[str, Any] | None:
    """RAW read as YAML reads it, or None where it is not of the simple kind described above."""
    if _NOT_SIMPLE.search(raw) or yaml.reader.Reader.NON_PRINTABLE.search(raw):
        return None
    data: dict[str, Any] = {}
    for line in raw.split("\n"):
        if not line:
            continue
        match = _SIMPLE_LINE.fullmatch(line)
        if match is None or _tag_of(match.group(1)) != _STRING:
            return None
        key, value = match[1], match[2].rstrip(" ")
        first = value[:1]
        if first == '"':
            quoted = _DOUBLE_QUOTED.fullmatch(value)
            if quoted is None:
                return None
            data[key] = _ESCAPED.sub(r"\1", quoted.group(1))
        elif first == "'":
            quoted = _SINGLE_QUOTED.fullmatch(value)
            if quoted is None:
                return None
            data[key] = quoted.group(1).replace("''", "'")
        elif first == "[":
            if value[-1] != "]" or _FLOW_OTHER.search(value, 1, len(value) - 1):
                return None
            inner = value[1:-1]
            items = [item.strip(" ") for item in inner.split(",")] if inner.strip(" ") else []
            if not all(item and item[0] not in _STARTS_OTHER and _tag_of(item) == _STRING for item in items):
                return None
            data[key] = items
        else:
            if not value or first in _STARTS_OTHER or ": " in value or value[-1] == ":":
                return None
            tag = _tag_of(value)
            if tag == _BOOLEAN:
                data[key] = yaml.constructor.SafeConstructor.bool_values[value.lower()]
            elif tag == _STRING:
                data[key] = value
            else:
                return None
    return data or None  # (YAML reads nothing as None, not as an empty mapping)


def _tag_of(plain: str) -> str:
    """The type YAML resolves the plain scalar PLAIN to: a string unless it reads as another."""
    for first in (plain[:1], None):  # the resolvers for its first character, then those for any
        for tag, pattern in _RESOLVERS.get(first, ()):
            if pattern.match(plain):
                return str(tag)
    return _STRING


def _yaml_problem(path: str, exc: yaml.YAMLError, yaml_first_line: int) -> Problem:
    problem_mark = getattr(exc, "problem_mark", None)
    context_mark = getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    message = f"front matter is not valid YAML: {reason}"
    context = getattr(exc, "context", None)
    # An unclosed bracket or quote is noticed lines later; the line where it opened is the one to fix.
    mark = context_mark or problem_mark
    line = yaml_first_line + mark.line if mark is not None else None
    if context:
        message += f" ({context})"
    if context_mark is not None and problem_mark is not None and problem_mark.line != context_mark.line:
        message += f"; noticed on line {yaml_first_line + problem_mark.line}"
    return Problem(path, line, message,
                   "write one 'key: value' per line; put values containing ':' or '#' in quotes, "
                   "and close every bracket and quote on the line where it opens")


def _indent(text: str) -> str:
    return "\n".join("        " + line for line in text.splitlines())
