"""Which file-system events matter to the site, and when a burst of them has settled (pure; time is passed in)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Literal

from builder.config import CONFIG_NAME
from builder.content.discover import CONTENT, is_ignored_name

WATCHED_FOLDERS = (CONTENT, "themes")

# Beyond discover's list: more editors' swap and lock files, and downloads still in progress.
_MORE_IGNORED = re.compile(r"(\.sw[a-p]|\.kate-swp|\.crswap|\.crdownload|\.part|#)$|^~\$|^~lock\.")

Kind = Literal["created", "modified", "deleted", "moved"]


@dataclass(frozen=True, slots=True)
class FileEvent:
    """One event as the watcher saw it; paths are absolute, `dest` only for moves."""

    kind: Kind
    path: str
    dest: str = ""
    is_dir: bool = False


def is_ignored(name: str) -> bool:
    """Editor temporaries, swap files, hidden files: never a change to the site."""
    return is_ignored_name(name) or _MORE_IGNORED.search(name) is not None


def source_path(path: str, source: str) -> str | None:
    """`path` relative to the site folder (POSIX style) if the site is built from it, else None."""
    rel = os.path.relpath(path, source)
    parts = rel.split(os.sep)
    if rel == CONFIG_NAME:
        return rel
    if parts[0] not in WATCHED_FOLDERS or any(is_ignored(part) for part in parts):
        return None
    return "/".join(parts)


@dataclass(slots=True)
class ChangeBatcher:
    """Gathers relevant changes until none came for `quiet` seconds (or `max_wait` passed since the first).

    A file created and then moved away or deleted within one batch never existed as far as the
    site is concerned, so an atomic save (write a temporary file, rename it over the real one)
    is one change of the real file.
    """

    source: str
    quiet: float = 0.05  # an editor's save or a checkout writes its files within a few milliseconds
    max_wait: float = 2.0
    _changed: set[str] = field(default_factory=set)
    _fresh: set[str] = field(default_factory=set)  # first seen in this batch as newly created
    _first: float | None = None
    _last: float = 0.0

    def add(self, event: FileEvent, now: float) -> None:
        if event.kind == "modified" and event.is_dir:
            return  # a folder's own mtime: the file events inside it say what changed
        touched = False
        for path, kind in _effects(event):
            rel = source_path(path, self.source)
            if rel is None:
                continue
            touched = True
            if kind == "deleted" and rel in self._fresh:
                self._fresh.discard(rel)
                self._changed.discard(rel)
            elif rel not in self._changed:
                self._changed.add(rel)
                if kind == "created":
                    self._fresh.add(rel)
        if touched:
            self._first = now if self._first is None else self._first
            self._last = now

    def wait_time(self, now: float) -> float | None:
        """Seconds until the batch is due (0 when it is), or None when nothing is pending."""
        if self._first is None:
            return None
        due = min(self._last + self.quiet, self._first + self.max_wait)
        return max(0.0, due - now)

    def take(self, now: float) -> frozenset[str] | None:
        """The settled batch of source-relative paths, or None when nothing is due."""
        if self.wait_time(now) != 0.0:
            return None
        batch = frozenset(self._changed)
        self._changed.clear()
        self._fresh.clear()
        self._first = None
        return batch or None


def _effects(event: FileEvent) -> list[tuple[str, Kind]]:
    # A move's destination may have existed before (a rename over it), so it is "modified", not "created".
    if event.kind == "moved":
        return [(event.path, "deleted"), (event.dest, "modified")]
    return [(event.path, event.kind)]
