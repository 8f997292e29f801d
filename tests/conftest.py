"""Shared test helpers: tiny sites written into temporary folders, and the CLI run in-process."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

NOW = "2026-11-27T12:00:00Z"


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def article(title: str, date: str = "2026-05-01", body: str = "Some text.", **fields: object) -> str:
    """Markdown source of an article with the given front matter fields."""
    lines = ["---", f"title: {title!r}" if ":" in title or "'" in title else f"title: {title}", f"date: {date}"]
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            lines.append(f"{key}: [{', '.join(str(v) for v in value)}]")
        else:
            lines.append(f"{key}: {value}")
    return "\n".join([*lines, "---", "", body, ""])


@pytest.fixture
def make_site(tmp_path: Path) -> Callable[[dict[str, str | bytes]], Path]:
    def make(files: dict[str, str | bytes]) -> Path:
        return write_files(tmp_path / "site-src", files)
    return make


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    from builder.cli import main

    def run_cli(*args: str | Path) -> CliResult:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)
    return run_cli


# --- headless Chromium -------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def missing_tool(reason: str) -> None:
    """Skip on a developer machine without the tool; fail in CI, where .ci/run sets BUILDER_REQUIRE_TOOLS."""
    import os

    if os.environ.get("BUILDER_REQUIRE_TOOLS"):
        pytest.fail(f"required test tool missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    import os

    if not os.path.exists(CHROMIUM):
        missing_tool(f"{CHROMIUM} not installed (Debian package chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("the Python package playwright is not installed")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def static_server():
    """Serve a folder on 127.0.0.1 for the browser; returns a function folder -> base URL."""
    import functools
    import http.server
    import threading

    servers = []

    def serve(folder: Path) -> str:
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()
