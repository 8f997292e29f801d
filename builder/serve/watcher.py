"""watchdog glue: report file events under content/, themes/ and portal.toml to a callback."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from builder.serve.events import WATCHED_FOLDERS, FileEvent, Kind

_KINDS: dict[str, Kind] = {"created": "created", "modified": "modified", "attrib": "modified",
                           "deleted": "deleted", "moved": "moved"}


class SourceWatcher(FileSystemEventHandler):
    """Uses the platform's native observer (inotify, FSEvents, ...); `sink` is called from its thread."""

    def __init__(self, source: Path, sink: Callable[[FileEvent], None]) -> None:
        self.source = os.path.abspath(source)
        self._sink = sink
        self._observer = Observer()
        self._watched: set[str] = set()

    def start(self) -> None:
        # The site folder itself only shallowly (portal.toml, a content/ or themes/ that appears later):
        # a deep watch would include site/, .git/ and the preview folder.
        self._observer.schedule(self, self.source, recursive=False)
        for name in WATCHED_FOLDERS:
            self._watch(name)
        self._observer.start()

    def stop(self) -> None:
        self._observer.stop()
        if self._observer.is_alive():
            self._observer.join()

    def _watch(self, name: str) -> None:
        folder = os.path.join(self.source, name)
        if name in WATCHED_FOLDERS and folder not in self._watched and os.path.isdir(folder):
            self._observer.schedule(self, folder, recursive=True)
            self._watched.add(folder)

    def on_any_event(self, event: FileSystemEvent) -> None:
        kind = _KINDS.get(event.event_type)
        if kind is None:  # opened, closed: a write shows up as "modified" as well
            return
        path = os.fsdecode(event.src_path)
        dest = os.fsdecode(event.dest_path) if kind == "moved" else ""
        appeared = path if kind == "created" else dest
        if event.is_directory and os.path.dirname(appeared) == self.source:
            self._watch(os.path.basename(appeared))
        self._sink(FileEvent(kind, path, dest, event.is_directory))
