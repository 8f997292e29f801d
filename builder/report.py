"""The only module that talks to the terminal: problems, warnings and summaries."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from builder.errors import Problem, printable


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

    def progress(self) -> ProgressBar | None:
        """A progress display for long builds, on an interactive terminal only."""
        return ProgressBar(self.err) if self.err.isatty() else None

    def failure(self, message: str, hint: str = "") -> None:
        print(f"{self._paint('error:', '31;1')} {printable(message)}", file=self.err)
        if hint:
            print(f"    hint: {printable(hint)}", file=self.err)
        self.err.flush()


class ProgressBar:
    """Shows build steps with rich's progress bars, once a build has run for a second: short builds
    stay quiet, long ones show they are alive."""

    DELAY = 1.0

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.perf_counter()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __call__(self, step: str, done: int, total: int) -> None:
        if self._progress is None:
            if time.perf_counter() - self._started < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(TextColumn("{task.description:<8}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=Console(file=self._stream), transient=True)
            self._progress.start()
        if step not in self._tasks:
            self._tasks[step] = self._progress.add_task(step, total=total)
        self._progress.update(self._tasks[step], completed=done, total=total)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


ProgressCallback = Callable[[str, int, int], None]
