"""The only module that talks to the terminal: problems, warnings and summaries."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TextIO

from builder.errors import Problem


class Reporter:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self._color = self.err.isatty() and "NO_COLOR" not in os.environ

    def _paint(self, text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self._color else text

    def info(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def problems(self, problems: Iterable[Problem], *, heading: str = "error") -> None:
        items = list(problems)
        for problem in items:
            label = self._paint(f"{heading}:", "31;1" if heading == "error" else "33;1")
            print(f"{label} {problem}", file=self.err)
        if heading == "error" and items:
            noun = "problem" if len(items) == 1 else "problems"
            print(self._paint(f"{len(items)} {noun} found; nothing was written.", "31"), file=self.err)
        self.err.flush()

    def warnings(self, warnings: Iterable[Problem]) -> None:
        self.problems(warnings, heading="warning")

    def failure(self, message: str, hint: str = "") -> None:
        print(f"{self._paint('error:', '31;1')} {message}", file=self.err)
        if hint:
            print(f"    hint: {hint}", file=self.err)
        self.err.flush()
