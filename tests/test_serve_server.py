"""builder serve's HTTP side: files under the base path, injection, safety, events, and a clean Ctrl-C."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import pytest
from conftest import NOW, CliResult, article, write_files

from builder.content.fields import parse_when
from builder.report import Reporter
from builder.serve.events import ChangeBatcher
from builder.serve.loop import RebuildLoop
from builder.serve.preview import PreviewBuild, preview_folder
from builder.serve.server import PreviewServer
from builder.serve.status import Status

REPO = Path(__file__).parent.parent
SECRET = "TOP-SECRET-OUTSIDE-THE-OUTPUT"
SITE: dict[str, str | bytes] = {
    "content/peace/first-steps.md": article("First Steps", topic="Peace", tags=["Talks"], body="Talks began at dawn."),
    "content/peace/second-round.md": article("Second Round", date="2026-05-02", topic="Peace", tags=["Talks"],
                                             body="The second round of talks opened in the border town."),
    "content/peace/map.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>\n',
    "content/peace/numbers.json": '{"ceasefires": 3}\n',
    "secret.txt": SECRET,  # in the site folder, two levels above the preview output
}


@dataclass
class Preview:
    source: Path
    output: Path
    status: Status
    loop: RebuildLoop
    server: PreviewServer

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def get(self, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path)  # sent exactly as given: no client-side normalising
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            conn.close()


@contextlib.contextmanager
def preview(source: Path, heartbeat: float = 15.0) -> Iterator[Preview]:
    """The serve command's pieces, in-process and without the file watcher: builds happen on demand."""
    status = Status()
    output = preview_folder(source)
    server = PreviewServer("127.0.0.1", 0, output, status, heartbeat=heartbeat)
    reporter = Reporter(out=open(os.devnull, "w"), err=open(os.devnull, "w"))  # noqa: SIM115
    rebuild = PreviewBuild(source, output, server.origin, reporter, now=parse_when(NOW, UTC))
    loop = RebuildLoop(rebuild, status, ChangeBatcher(str(source)))
    loop.build()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Preview(source, output, status, loop, server)
    finally:
        status.close()
        server.shutdown()
        server.server_close()
        reporter.out.close()
        reporter.err.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preview]:
    with preview(write_files(tmp_path_factory.mktemp("serve") / "src", SITE)) as running:
        assert not running.status.snapshot().problems
        yield running


# --- files, injection, types --------------------------------------------------------------------

def test_html_gets_the_reload_script_but_the_file_on_disk_does_not(site: Preview) -> None:
    code, headers, body = site.get("/peace/first-steps/")
    assert code == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert int(headers["content-length"]) == len(body)
    html = body.decode()
    assert "Talks began at dawn." in html
    match = re.search(r'<script src="/__builder/reload.js" data-build="(\d+)" data-session="\w+"></script>\s*</body>',
                      html)
    assert match and int(match.group(1)) == site.status.snapshot().build
    on_disk = (site.output / "peace" / "first-steps" / "index.html").read_text()
    assert "__builder" not in on_disk and "Talks began at dawn." in on_disk


def test_the_built_pages_link_to_the_preview_address(site: Preview) -> None:
    _, _, body = site.get("/")
    assert f'href="http://127.0.0.1:{site.port}/"' in body.decode()  # the canonical link


@pytest.mark.parametrize("path, expected", [
    ("/", "text/html; charset=utf-8"),
    ("/static/css/style.css", "text/css; charset=utf-8"),
    ("/feed.xml", "application/xml; charset=utf-8"),
    ("/peace/map.svg", "image/svg+xml; charset=utf-8"),
    ("/peace/numbers.json", "application/json; charset=utf-8"),
    ("/__builder/reload.js", "text/javascript; charset=utf-8"),
    ("/__builder/status", "application/json; charset=utf-8"),
])
def test_content_types(site: Preview, path: str, expected: str) -> None:
    code, headers, _ = site.get(path)
    assert code == 200
    assert headers["content-type"] == expected
    assert headers["x-content-type-options"] == "nosniff"


def test_non_html_files_are_sent_unchanged(site: Preview) -> None:
    _, _, body = site.get("/static/css/style.css")
    assert body == (site.output / "static" / "css" / "style.css").read_bytes()


@pytest.mark.parametrize("path", ["/peace/first-steps/", "/static/css/style.css", "/nowhere/"])
def test_head_sends_the_headers_of_get_without_a_body(site: Preview, path: str) -> None:
    get_code, get_headers, get_body = site.get(path)
    code, headers, body = site.get(path, method="HEAD")
    assert body == b""
    assert code == get_code
    assert headers["content-type"] == get_headers["content-type"]
    assert headers["content-length"] == str(len(get_body))


def test_unknown_paths_get_the_sites_404_page(site: Preview) -> None:
    code, headers, body = site.get("/peace/no-such-article/")
    assert code == 404
    assert headers["content-type"] == "text/html; charset=utf-8"
    html = body.decode()
    assert html.startswith((site.output / "404.html").read_text()[:200])
    assert "/__builder/reload.js" in html  # a 404 page reloads too: into the article once it exists


def test_folders_without_a_trailing_slash_redirect(site: Preview) -> None:
    code, headers, _ = site.get("/peace/first-steps")
    assert code in (301, 302)
    assert headers["location"] == "/peace/first-steps/"
    code, headers, _ = site.get("/peace?page=2")
    assert code in (301, 302) and headers["location"] == "/peace/?page=2"


def test_query_strings_do_not_change_the_file(site: Preview) -> None:
    code, _, body = site.get("/static/css/style.css?__builder=7")
    assert code == 200 and body == (site.output / "static" / "css" / "style.css").read_bytes()


def test_unknown_builder_paths_are_404(site: Preview) -> None:
    assert site.get("/__builder/nothing")[0] == 404


# --- safety ---------------------------------------------------------------------------------------

TRAVERSALS = [
    "/../secret.txt", "/../../secret.txt", "/../../../../../../etc/passwd",
    "/%2e%2e/%2e%2e/secret.txt", "/%2E%2E/%2E%2E/secret.txt", "/peace/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "/%252e%252e/%252e%252e/secret.txt", "/..%5c..%5csecret.txt", "/..\\..\\secret.txt",
    "//etc/passwd", "/%2fetc%2fpasswd", "/%2Fetc/passwd", "/etc/passwd%00.html", "/%00",
    "/./../secret.txt", "/.builder-site", "/leak.txt", "/leakdir/secret.txt", "/leakdir/",
]


@pytest.fixture(scope="module")
def leaky(site: Preview) -> Preview:
    """Links inside the output that point out of it (the writer never makes them; someone else might)."""
    os.symlink(site.source / "secret.txt", site.output / "leak.txt")
    os.symlink(site.source, site.output / "leakdir")
    return site


@pytest.mark.parametrize("path", TRAVERSALS)
def test_nothing_outside_the_output_is_ever_served(leaky: Preview, path: str) -> None:
    code, _, body = leaky.get(path)
    assert code in (403, 404), (path, code)
    assert SECRET.encode() not in body
    assert b"root:" not in body


def test_a_raw_request_with_dot_segments_is_refused(leaky: Preview) -> None:
    with socket.create_connection(("127.0.0.1", leaky.port), timeout=10) as sock:
        sock.sendall(b"GET /../../secret.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b"".join(iter(lambda: sock.recv(65536), b""))
    assert reply.startswith((b"HTTP/1.1 404", b"HTTP/1.1 403", b"HTTP/1.0 400"))
    assert SECRET.encode() not in reply


# --- events and load ----------------------------------------------------------------------------

def read_event(response: http.client.HTTPResponse) -> dict[str, object]:
    """The next `data:` message of an event stream."""
    while True:
        line = response.fp.readline()
        assert line, "the stream ended"
        if line.startswith(b"data: "):
            message: dict[str, object] = json.loads(line[6:])
            return message


def open_events(port: int) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/__builder/events")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == "text/event-stream; charset=utf-8"
    return conn, response


def test_the_event_stream_sends_the_build_id_at_once_and_after_each_build(tmp_path: Path) -> None:
    with preview(write_files(tmp_path / "src", SITE)) as running:
        conn, response = open_events(running.port)
        try:
            first = read_event(response)
            assert first["build"] == 1 and first["problems"] == []
            running.loop.build(frozenset({"content/peace/first-steps.md"}))
            second = read_event(response)
            assert second["build"] == 2
            assert second["session"] == first["session"]
        finally:
            conn.close()


def test_the_event_stream_sends_a_heartbeat(tmp_path: Path) -> None:
    with preview(write_files(tmp_path / "src", SITE), heartbeat=0.05) as running:
        conn, response = open_events(running.port)
        try:
            read_event(response)
            assert response.fp.readline() == b"\n"  # the end of the message
            assert response.fp.readline().startswith(b":")  # a comment, ignored by browsers
        finally:
            conn.close()


def test_50_concurrent_clients_all_get_their_pages(site: Preview) -> None:
    streams = [open_events(site.port) for _ in range(10)]  # open tabs holding event streams meanwhile
    try:
        paths = ["/", "/peace/first-steps/", "/static/css/style.css", "/peace/", "/feed.xml"] * 10
        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(site.get, paths))
    finally:
        for conn, _ in streams:
            conn.close()
    assert [code for code, _, _ in results] == [200] * 50
    assert all(b"</html>" in body for code, headers, body in results if "html" in headers["content-type"])


def test_tabs_that_vanish_mid_stream_do_not_break_the_server(tmp_path: Path) -> None:
    with preview(write_files(tmp_path / "src", SITE)) as running:
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=10)
            sock.sendall(b"GET /__builder/events HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while b"data:" not in received:
                received += sock.recv(65536)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not close
            sock.close()
        half = socket.create_connection(("127.0.0.1", running.port), timeout=10)  # a page half downloaded
        half.sendall(b"GET /static/css/style.css HTTP/1.1\r\nHost: x\r\n\r\n")
        half.recv(10)
        half.close()
        for _ in range(3):
            running.loop.build(frozenset())  # the server now writes to the dead streams
        conn, response = open_events(running.port)
        try:
            assert read_event(response)["build"] == 4
        finally:
            conn.close()
        assert running.get("/peace/first-steps/")[0] == 200


# --- base path and failed builds ------------------------------------------------------------------

def test_the_site_is_served_under_the_base_path_of_portal_toml(tmp_path: Path) -> None:
    files = {**SITE, "portal.toml": 'base_url = "https://news.example.org/dispatch/"\n'}
    with preview(write_files(tmp_path / "src", files)) as running:
        code, headers, _ = running.get("/")
        assert code in (301, 302) and headers["location"] == "/dispatch/"
        code, _, body = running.get("/dispatch/peace/first-steps/")
        assert code == 200 and b'href="/dispatch/static/css/style.css"' in body
        assert f"http://127.0.0.1:{running.port}/dispatch/".encode() in body
        assert running.get("/peace/first-steps/")[0] == 404


def test_a_failed_first_build_serves_a_page_that_shows_the_problems(tmp_path: Path) -> None:
    files = {"content/peace/broken.md": "---\ntitle: [unclosed\n---\nBody\n",
             "content/peace/first-steps.md": SITE["content/peace/first-steps.md"],
             "content/peace/second-round.md": SITE["content/peace/second-round.md"]}
    with preview(write_files(tmp_path / "src", files)) as running:
        snapshot = running.status.snapshot()
        assert snapshot.problems and snapshot.problems[0].path == "content/peace/broken.md"
        code, headers, body = running.get("/any/page/")
        assert code == 503 and headers["content-type"] == "text/html; charset=utf-8"
        assert b"/__builder/reload.js" in body
        conn, response = open_events(running.port)
        try:
            event = read_event(response)
        finally:
            conn.close()
        problems = event["problems"]
        assert isinstance(problems, list) and problems[0]["path"] == "content/peace/broken.md"
        assert problems[0]["line"] and problems[0]["message"]
        write_files(running.source, {"content/peace/broken.md": article("Fixed", topic="Peace", tags=["Talks"])})
        assert running.loop.build(frozenset({"content/peace/broken.md"})).problems == ()
        assert running.get("/peace/fixed/")[0] == 200


def test_a_later_failure_keeps_the_last_good_site(tmp_path: Path) -> None:
    with preview(write_files(tmp_path / "src", SITE)) as running:
        write_files(running.source, {"content/peace/first-steps.md": "---\ntitle: [unclosed\n---\n"})
        assert running.loop.build(frozenset({"content/peace/first-steps.md"})).problems
        code, _, body = running.get("/peace/first-steps/")
        assert code == 200 and b"Talks began at dawn." in body


def test_a_preview_folder_with_foreign_files_is_refused(tmp_path: Path, run: Callable[..., CliResult]) -> None:
    source = write_files(tmp_path / "src", {**SITE, ".cache/preview/mine.txt": "my own notes"})
    result = run("serve", "--source", source, "--port", "0")
    assert result.code == 2
    assert "already holds files that builder did not make" in result.err
    assert f"delete {source / '.cache/preview'}" in result.err
    assert (source / ".cache/preview/mine.txt").read_text() == "my own notes"


# --- the command ------------------------------------------------------------------------------

def test_ctrl_c_stops_cleanly_and_frees_the_port(tmp_path: Path) -> None:
    source = write_files(tmp_path / "src", SITE)
    proc = subprocess.Popen([sys.executable, "-m", "builder", "serve", "--port", "0", "--source", str(source),
                             "--now", NOW], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if match := re.search(r"http://127\.0\.0\.1:(\d+)/", line):
                break
        assert match, "".join(lines)
        port = int(match.group(1))
        conn, response = open_events(port)  # an open tab must not keep the server alive
        read_event(response)
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a kept-alive, idle connection
        idle.request("GET", "/")
        assert idle.getresponse().read().endswith(b"</html>\n")
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=30)
        conn.close()
        idle.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(lines) + rest
    assert proc.returncode == 0, output
    assert "Traceback" not in output
    with socket.socket() as probe:  # nothing listens there any more: a new server can take the port
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do; ignores TIME_WAIT leftovers
        probe.bind(("127.0.0.1", port))
        probe.listen()
