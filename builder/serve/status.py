"""The latest build as the browser sees it: its id, its problems, what kind of files it changed."""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from dataclasses import dataclass

from builder.errors import Problem


@dataclass(frozen=True, slots=True)
class BuildOutcome:
    """What a rebuild callable returns: problems (empty on success) and the output files it changed."""

    problems: tuple[Problem, ...] = ()
    changed: tuple[str, ...] = ()  # output-relative paths written or removed
    base_path: str | None = None  # the path the site is served under; None keeps the current one


@dataclass(frozen=True, slots=True)
class Snapshot:
    build: int  # builds finished so far, failed ones included: the build id
    pages: int  # id of the last build that changed anything other than stylesheets
    styles: int  # id of the last build that changed stylesheets
    problems: tuple[Problem, ...]
    base_path: str
    session: str  # differs after a restart of the server, so open pages reload
    building: bool = False

    def to_json(self) -> str:
        problems = [{"path": p.path, "line": p.line, "message": p.message, "hint": p.hint} for p in self.problems]
        return json.dumps({"build": self.build, "pages": self.pages, "styles": self.styles, "problems": problems,
                           "session": self.session, "building": self.building}, ensure_ascii=False)


class Status:
    """Shared by the rebuild thread (which publishes) and the server's threads (which read and wait)."""

    def __init__(self, base_path: str = "/") -> None:
        self._cond = threading.Condition()
        self._snapshot = Snapshot(0, 0, 0, (), base_path, secrets.token_hex(6))
        self._closed = False

    def snapshot(self) -> Snapshot:
        with self._cond:
            return self._snapshot

    def started(self) -> None:
        """A build began; the next publish() ends it."""
        with self._cond:
            self._snapshot = dataclasses.replace(self._snapshot, building=True)

    def publish(self, outcome: BuildOutcome) -> Snapshot:
        with self._cond:
            old = self._snapshot
            build = old.build + 1
            styles_only = bool(outcome.changed) and all(p.endswith(".css") for p in outcome.changed)
            self._snapshot = dataclasses.replace(
                old,
                build=build,
                pages=build if outcome.changed and not styles_only else old.pages,
                styles=build if styles_only else old.styles,
                problems=outcome.problems,
                base_path=outcome.base_path or old.base_path,
                building=False,
            )
            self._cond.notify_all()
            return self._snapshot

    def wait(self, seen: int, timeout: float) -> Snapshot | None:
        """The snapshot once its build id is past `seen`; None on timeout or after close()."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._snapshot.build > seen, timeout)
            if self._closed or self._snapshot.build <= seen:
                return None
            return self._snapshot

    def close(self) -> None:
        """Wake every waiter for good: the server is stopping."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed
