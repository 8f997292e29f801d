"""Site data from content/_data (YAML, JSON, CSV, TOML) and read counts from reads.csv/json."""

from __future__ import annotations

import csv
import io
import json
import posixpath
import tomllib
from dataclasses import dataclass
from typing import Any

import yaml

from builder.content.discover import CONTENT, DATA
from builder.errors import Problem

_Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
READS_STEM = "reads"
# Column names used by common analytics exports (Plausible, Matomo, Google Analytics 4), best first.
_SLUG_COLUMNS = ("slug", "page", "path", "url", "page path", "pagepath", "page_path", "page path and screen class",
                 "page_location", "label", "landing page")
_COUNT_COLUMNS = ("reads", "pageviews", "page views", "views", "screenpageviews", "nb_hits", "hits", "visits",
                  "nb_visits", "visitors", "unique pageviews", "count")


@dataclass(frozen=True, slots=True)
class SiteData:
    data: dict[str, Any]
    reads: dict[str, int]
    problems: tuple[Problem, ...]


def load_data(files: dict[str, str]) -> SiteData:
    """`files` maps site-relative paths under content/_data/ to their text."""
    data: dict[str, Any] = {}
    reads: dict[str, int] = {}
    problems: list[Problem] = []
    prefix = f"{CONTENT}/{DATA}/"
    for rel, text in sorted(files.items()):
        inner, suffix = posixpath.splitext(rel.removeprefix(prefix))
        parsed = _parse(rel, suffix.lower(), text, problems)
        if parsed is _FAILED:
            continue
        if inner == READS_STEM:
            if reads:
                problems.append(Problem(rel, None, "read counts are given twice (reads.csv and reads.json)",
                                        "keep one of the two files"))
                continue
            reads = _reads(rel, parsed, problems)
        parts = inner.split("/")
        target = data
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = parsed
    return SiteData(data, reads, tuple(problems))


_FAILED = object()


def _parse(rel: str, suffix: str, text: str, problems: list[Problem]) -> Any:
    try:
        if suffix in (".yaml", ".yml"):
            return yaml.load(text, Loader=_Loader)
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            return tomllib.loads(text)
        return list(csv.DictReader(io.StringIO(text)))
    except yaml.YAMLError as exc:
        # An unclosed bracket or quote is noticed lines later; the line where it opened is the one to fix.
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        problems.append(Problem(rel, mark.line + 1 if mark else None,
                                f"is not valid YAML: {getattr(exc, 'problem', None) or exc}",
                                "check indentation and quotes on that line"))
    except json.JSONDecodeError as exc:
        problems.append(Problem(rel, exc.lineno, f"is not valid JSON: {exc.msg}",
                                "check commas and quotes on that line"))
    except (tomllib.TOMLDecodeError, csv.Error) as exc:
        problems.append(Problem(rel, None, f"cannot be read: {exc}", "check the file's syntax"))
    return _FAILED


def _reads(rel: str, parsed: Any, problems: list[Problem]) -> dict[str, int]:
    """slug -> reads, from rows of an analytics export or a {slug: reads} object."""
    rows: list[tuple[int | None, Any, Any]]
    if isinstance(parsed, dict):
        rows = [(None, k, v) for k, v in parsed.items()]
    elif isinstance(parsed, list) and all(isinstance(r, dict) for r in parsed):
        if not parsed:
            return {}
        columns = {c.strip().lower(): c for c in parsed[0] if c}
        slug_col = next((columns[c] for c in _SLUG_COLUMNS if c in columns), None)
        count_col = next((columns[c] for c in _COUNT_COLUMNS if c in columns), None)
        if slug_col is None or count_col is None:
            problems.append(Problem(rel, 1, "read counts need a column 'slug' (or page/path/url) and a column "
                                    "'reads' (or views/pageviews)", "make the first line: slug,reads"))
            return {}
        # Line numbers: the header is line 1 of a CSV file.
        rows = [(i + 2, r.get(slug_col), r.get(count_col)) for i, r in enumerate(parsed)]
    else:
        problems.append(Problem(rel, None, "read counts must be rows of slug,reads or a {\"slug\": reads} object",
                                "see the README section 'Read counts'"))
        return {}
    reads: dict[str, int] = {}
    for line, key, count in rows:
        slug = slug_from_path(str(key or ""))
        try:
            number = int(str(count).replace(",", "").replace("_", "").strip())
            if number < 0:
                raise ValueError
        except ValueError:
            problems.append(Problem(rel, line, f"read count {count!r} for '{key}' is not a whole number",
                                    "write counts as plain numbers such as 1200"))
            continue
        if slug:
            reads[slug] = reads.get(slug, 0) + number
    return reads


def slug_from_path(value: str) -> str:
    """'/peace/talks-resume/' or 'https://x.org/peace/talks-resume/index.html' -> 'talks-resume'."""
    path = value.split("?")[0].split("#")[0].strip()
    parts = [p for p in path.split("/") if p and p not in ("index.html", "index.htm")]
    if not parts:
        return ""
    last = parts[-1]
    return last.removesuffix(".html")
