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
