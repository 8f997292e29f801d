"""The preview's HTTP server: the built files under the base path, the reload script, build events."""

from __future__ import annotations

import html
import os
import shutil
import socket
import socketserver
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from builder.serve.lookup import Located, content_type, inject, locate
from builder.serve.status import Snapshot, Status

RESERVED = "/__builder/"
_HTML = "text/html; charset=utf-8"
_DISCONNECTED = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)
_NOT_BUILT = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not built yet – builder serve</title></head>
<body><main><h1>The site is not built yet</h1>
<p>This page shows what stops the build and reloads by itself once it succeeds.</p></main></body></html>
"""
_NOT_FOUND = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Not found – builder serve</title></head>
<body><main><h1>Not found</h1><p>Nothing in the site has the address {path}.</p></main></body></html>
"""


class PreviewServer(ThreadingHTTPServer):
    """Serves `root` under the status's base path; one daemon thread per connection."""

    daemon_threads = True
    request_queue_size = 128  # 50 tabs opening at once must not overflow the listen backlog

    def __init__(self, host: str, port: int, root: Path, status: Status, heartbeat: float = 15.0) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._host = host
        self.root = str(root)
        self.status = status
        self.heartbeat = heartbeat
        self.script = files("builder.serve").joinpath("reload.js").read_bytes()
        super().__init__((host, port), PreviewHandler)

    def server_bind(self) -> None:
        # HTTPServer's own would look the host's name up in DNS (socket.getfqdn), which can stall for seconds.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self._host, self.server_address[1]

    @property
    def origin(self) -> str:
        host, port = self._host, self.server_address[1]
        return f"http://[{host}]:{port}" if self.address_family == socket.AF_INET6 else f"http://{host}:{port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], _DISCONNECTED):  # a closed tab is no error
            super().handle_error(request, client_address)


class PreviewHandler(BaseHTTPRequestHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"
    server_version = "builder-serve"
    timeout = 60  # an idle keep-alive connection frees its thread after this
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would hold the second ~40 ms

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the terminal is for build messages

    def _respond(self, send_body: bool) -> None:
        url = urlsplit(self.path)
        if url.path.startswith(RESERVED):
            self._reserved(url.path.removeprefix(RESERVED), send_body)
            return
        status = self.server.status.snapshot()  # taken before reading the file: the page is at least this new
        base = status.base_path
        located = locate(self.server.root, url.path.removeprefix(base)) if url.path.startswith(base) else Located()
        if url.path != base and url.path in ("/", base.rstrip("/")):
            self._redirect(base)
        elif located.add_slash:
            self._redirect(url.path + "/" + (f"?{url.query}" if url.query else ""))
        elif located.file is not None:
            self._file(located.file, status, send_body)
        elif not os.path.isdir(self.server.root):  # no build has succeeded yet
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, self._page(_NOT_BUILT.encode(), status), _HTML, send_body)
        else:
            self._not_found(status, send_body)

    def _file(self, path: str, status: Snapshot, send_body: bool) -> None:
        kind = content_type(path)
        with open(path, "rb") as file:
            if kind == _HTML:
                self._send(HTTPStatus.OK, self._page(file.read(), status), kind, send_body)
                return
            self._headers(HTTPStatus.OK, kind, os.fstat(file.fileno()).st_size)
            if send_body:
                shutil.copyfileobj(file, self.wfile)

    def _reserved(self, name: str, send_body: bool) -> None:
        if name == "reload.js":
            self._send(HTTPStatus.OK, self.server.script, "text/javascript; charset=utf-8", send_body)
        elif name == "status":  # for tests, benchmarks and the curious
            body = self.server.status.snapshot().to_json().encode()
            self._send(HTTPStatus.OK, body, "application/json; charset=utf-8", send_body)
        elif name == "events":
            self._headers(HTTPStatus.OK, "text/event-stream; charset=utf-8", None)
            if send_body:
                self._events()
        else:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", send_body)

    def _events(self) -> None:
        """Server-Sent Events: the current status at once, then after every build; comments keep it alive."""
        status = self.server.status
        seen = -1
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while True:
                snapshot = status.wait(seen, self.server.heartbeat)
                if status.closed:
                    return
                if snapshot is None:
                    self.wfile.write(b": still here\n\n")
                else:
                    self.wfile.write(f"data: {snapshot.to_json()}\n\n".encode())
                    seen = snapshot.build
        except _DISCONNECTED:
            return  # the tab was closed or reloaded

    def _page(self, page: bytes, status: Snapshot) -> bytes:
        tag = (f'<script src="{RESERVED}reload.js" data-build="{status.build}" '
               f'data-session="{status.session}"></script>\n')
        return inject(page, tag.encode())

    def _not_found(self, status: Snapshot, send_body: bool) -> None:
        located = locate(self.server.root, "404.html")
        if located.file is not None:
            page = Path(located.file).read_bytes()
        else:
            page = _NOT_FOUND.format(path=html.escape(urlsplit(self.path).path)).encode()
        self._send(HTTPStatus.NOT_FOUND, self._page(page, status), _HTML, send_body)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)  # not 301: browsers would remember it after the preview changes
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()

    def _send(self, code: HTTPStatus, body: bytes, kind: str, send_body: bool) -> None:
        self._headers(code, kind, len(body))
        if send_body:
            self.wfile.write(body)

    def _headers(self, code: HTTPStatus, kind: str, length: int | None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", "no-store")  # a preview is never cached
        self.send_header("X-Content-Type-Options", "nosniff")
        if length is None:  # an event stream: ends when either side closes it
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
