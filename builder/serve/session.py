"""One preview session: preview folder, server, watcher and rebuild loop, started and stopped together."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from builder.report import Reporter
from builder.serve.events import ChangeBatcher
from builder.serve.loop import RebuildLoop
from builder.serve.preview import PreviewBuild, preview_folder
from builder.serve.server import PreviewServer
from builder.serve.status import Status
from builder.serve.watcher import SourceWatcher


class CannotServe(Exception):
    """The port is taken, or the folders cannot be watched; `hint` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Session:
    origin: str  # http://host:port
    status: Status
    output: Path

    @property
    def url(self) -> str:
        return self.origin + self.status.snapshot().base_path


@contextlib.contextmanager
def preview_session(source: Path, reporter: Reporter, *, host: str = "127.0.0.1", port: int = 8000,
                    drafts: bool = False, now: datetime | None = None, debug: bool = False) -> Iterator[Session]:
    """Build once, then serve and rebuild on every change until the `with` block ends."""
    output = preview_folder(source)  # OutputRefused when it holds someone else's files
    status = Status()
    try:
        server = PreviewServer(host, port, output, status)
    except OSError as exc:
        raise CannotServe(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                           "choose another port with --port, or --port 0 for any free one") from None
    rebuild = PreviewBuild(source, output, server.origin, reporter, drafts=drafts, now=now, debug=debug)
    loop = RebuildLoop(rebuild, status, ChangeBatcher(os.path.abspath(source)))
    watcher = SourceWatcher(source, loop.put)
    serving = threading.Thread(target=server.serve_forever, name="builder-http", daemon=True)
    try:
        try:
            watcher.start()  # before the first build, so edits made during it are not missed
        except OSError as exc:
            raise CannotServe(f"cannot watch {source} for changes: {exc.strerror or exc}",
                              "on Linux, raise fs.inotify.max_user_watches or close other watching programs") from None
        loop.build()
        serving.start()
        loop.start()
        yield Session(server.origin, status, output)
    finally:
        status.close()  # ends the event streams
        watcher.stop()
        loop.stop()  # lets a running build finish, so the preview folder stays whole
        if serving.is_alive():
            server.shutdown()
        server.server_close()
        rebuild.close()
