"""Map a request path to a file inside the output folder (never outside it), with its content type."""

from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass
from urllib.parse import unquote

_UTF8 = "; charset=utf-8"
_TYPES = {
    ".html": "text/html" + _UTF8, ".htm": "text/html" + _UTF8, ".css": "text/css" + _UTF8,
    ".js": "text/javascript" + _UTF8, ".mjs": "text/javascript" + _UTF8, ".json": "application/json" + _UTF8,
    ".xml": "application/xml" + _UTF8, ".atom": "application/atom+xml" + _UTF8, ".rss": "application/rss+xml" + _UTF8,
    ".svg": "image/svg+xml" + _UTF8, ".txt": "text/plain" + _UTF8, ".csv": "text/csv" + _UTF8,
    ".webmanifest": "application/manifest+json" + _UTF8, ".map": "application/json" + _UTF8,
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".ico": "image/vnd.microsoft.icon", ".woff": "font/woff", ".woff2": "font/woff2",
    ".pdf": "application/pdf", ".wasm": "application/wasm", ".mp4": "video/mp4", ".webm": "video/webm",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg",
}


@dataclass(frozen=True, slots=True)
class Located:
    file: str | None = None  # the real path of the file to send
    add_slash: bool = False  # a folder named without its trailing slash


def content_type(path: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def safe_relative(url_path: str) -> str | None:
    """The relative path a percent-encoded URL path (below the base path) names; None if it could escape.

    Decoded once only, so "%252e%252e" stays the harmless name "%2e%2e". Dot segments, hidden names,
    backslashes, NUL bytes and absolute paths are refused outright rather than normalised.
    """
    text = unquote(url_path)
    if "\0" in text or "\\" in text or text.startswith("/"):
        return None
    parts = text.split("/")
    if any(part.startswith(".") or (not part and i < len(parts) - 1) for i, part in enumerate(parts)):
        return None
    return text


def locate(root: str, url_path: str) -> Located:
    """What to serve for `url_path` from the folder `root`; links that lead outside it count as missing."""
    rel = safe_relative(url_path)
    real_root = os.path.realpath(root)
    if rel is None or not os.path.isdir(real_root):
        return Located()
    full = _inside(real_root, os.path.join(real_root, rel))
    if full is not None and os.path.isdir(full):
        if rel and not rel.endswith("/"):
            return Located(add_slash=True)
        full = _inside(real_root, os.path.join(full, "index.html"))
    return Located(full) if full is not None and os.path.isfile(full) else Located()


def inject(html: bytes, snippet: bytes) -> bytes:
    """`snippet` inserted just before the last </body>, or appended when there is none."""
    at = html.lower().rfind(b"</body>")
    return html + snippet if at < 0 else html[:at] + snippet + html[at:]


def _inside(real_root: str, path: str) -> str | None:
    real = os.path.realpath(path)
    return real if os.path.commonpath([real, real_root]) == real_root else None
