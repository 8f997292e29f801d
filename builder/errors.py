"""Problems are values: a path, a line, a message and a hint, gathered across a run."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from builder.compact import pickled_as_tuple


@pickled_as_tuple
@dataclass(frozen=True, slots=True, order=True)
class Problem:
    """One thing wrong with the user's input, phrased so a non-programmer can fix it."""

    path: str
    line: int | None
    message: str
    hint: str = ""

    def location(self) -> str:
        path = printable(self.path)
        return f"{path}:{self.line}" if self.line else path

    def __str__(self) -> str:
        text = f"{self.location()}: {printable(self.message)}"
        # Hints may span lines (examples); everything else stays on one line.
        return f"{text}\n    hint: {printable(self.hint, keep_newlines=True)}" if self.hint else text


# Control characters from file names or front matter must not reach the terminal as they are:
# a newline would split a problem in two, an escape sequence could rewrite the screen. The
# Unicode line and paragraph separators split a line too (for str.splitlines and many editors).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CONTROL_BUT_NEWLINE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """TEXT with control characters and line separators written as escapes (\\n, \\x1b, \\u2028)."""
    pattern = _CONTROL_BUT_NEWLINE if keep_newlines else _CONTROL
    return pattern.sub(lambda m: repr(m.group())[1:-1], text)


class BuildError(Exception):
    """Raised at a stage boundary when the problems gathered so far make going on pointless."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(sorted(set(problems), key=_sort_key))
        super().__init__("\n".join(str(p) for p in self.problems))


def _sort_key(problem: Problem) -> tuple[str, int, str]:
    return (problem.path, problem.line or 0, problem.message)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest known choice, or listing them when none is close."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if not options:
        return ""
    shown = ", ".join(f"'{o}'" for o in options[:12])
    more = f" (and {len(options) - 12} more)" if len(options) > 12 else ""
    return f"known values are {shown}{more}"
