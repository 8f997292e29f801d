"""The one rebuild thread: settle the watcher's events into change sets, rebuild, publish the outcome."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from builder.errors import Problem
from builder.serve.events import ChangeBatcher, FileEvent
from builder.serve.status import BuildOutcome, Snapshot, Status

Rebuild = Callable[[frozenset[str]], BuildOutcome]


class RebuildLoop:
    """Events that arrive during a build wait in the queue, so they cause exactly one more build after it."""

    def __init__(self, rebuild: Rebuild, status: Status, batcher: ChangeBatcher,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rebuild = rebuild
        self._status = status
        self._batcher = batcher
        self._clock = clock
        self._events: queue.SimpleQueue[tuple[float, FileEvent] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="builder-rebuild", daemon=True)

    def put(self, event: FileEvent) -> None:
        """Called from the watcher's thread."""
        self._events.put((self._clock(), event))

    def build(self, changes: frozenset[str] = frozenset()) -> Snapshot:
        """Build once, in the calling thread, and publish the outcome."""
        self._status.started()
        try:
            outcome = self._rebuild(changes)
        # The rebuild callable reports its own failures; this only keeps the loop alive through a bug.
        except Exception as exc:
            outcome = BuildOutcome(problems=(Problem("builder", None, f"internal error: {type(exc).__name__}: {exc}",
                                                     "run again with --debug and report it"),))
        return self._status.publish(outcome)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Let a running build finish, then end the thread."""
        self._events.put(None)
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while True:
            try:
                items = [self._events.get(timeout=self._batcher.wait_time(self._clock()))]
            except queue.Empty:
                items = []  # no news: the pending batch is due
            items += self._drain()  # everything that queued up meanwhile, e.g. during a build
            for item in items:
                if item is None:
                    return
                when, event = item
                self._batcher.add(event, when)
            batch = self._batcher.take(self._clock())
            if batch:
                self.build(batch)

    def _drain(self) -> list[tuple[float, FileEvent] | None]:
        items: list[tuple[float, FileEvent] | None] = []
        while True:
            try:
                items.append(self._events.get_nowait())
            except queue.Empty:
                return items
