"""Read links, images and element ids out of built HTML, and map URLs to files of the built site.

Regular expressions rather than a full parser: builder's own output is regular, and a site of
thousands of pages must be scanned in seconds.
"""

from __future__ import annotations

import html
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from builder.urls import split_url

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_RAW_TEXT = re.compile(r"(<(script|style|textarea)\b[^>]*>).*?(</\2\s*>)", re.S | re.I)
_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)(\s[^>]*)?>")
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_LINKING = {"a": "href", "area": "href", "link": "href", "img": "src", "script": "src", "source": "src",
            "iframe": "src", "audio": "src", "video": "src", "track": "src"}
# Resource hints name hosts, not documents.
_UNCHECKED_RELS = frozenset({"preconnect", "dns-prefetch", "me", "webmention", "pingback"})
WEB_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class Link:
    tag: str  # a, img, link...
    url: str  # the attribute's value, entities decoded
    alt: str | None = None  # images only; None when the attribute is missing


@dataclass(frozen=True, slots=True)
class Scanned:
    links: tuple[Link, ...]
    ids: frozenset[str]


def attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text or ""):
        name = match.group(1).lower()
        value = next((g for g in match.group(2, 3, 4) if g is not None), "")
        found.setdefault(name, html.unescape(value))
    return found


def scan(document: str) -> Scanned:
    """Every link-carrying element and every id (and <a name>) of an HTML document or fragment."""
    text = _RAW_TEXT.sub(r"\1\3", _COMMENT.sub("", document))
    links: list[Link] = []
    ids: set[str] = set()
    for match in _TAG.finditer(text):
        tag, attrs = match.group(1).lower(), attributes(match.group(2) or "")
        if "id" in attrs:
            ids.add(attrs["id"])
        if tag == "a" and "name" in attrs:
            ids.add(attrs["name"])
        attribute = _LINKING.get(tag)
        if attribute is None or attribute not in attrs:
            continue
        if tag == "link" and _UNCHECKED_RELS & set(attrs.get("rel", "").lower().split()):
            continue
        links.append(Link(tag, attrs[attribute].strip(), attrs.get("alt") if tag == "img" else None))
    return Scanned(tuple(links), frozenset(ids))


class BuiltSite:
    """The files of a built site, with each page's scan made once, on first use."""

    def __init__(self, root: Path, base_path: str, origin: str, unbuilt: tuple[str, ...] = ()) -> None:
        self.root = root
        self.base_path = base_path
        self.origin = origin.lower()
        self.unbuilt = tuple(f"{folder}/" for folder in unbuilt)  # folders check does not build (search index)
        self.files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        self._scans: dict[str, Scanned] = {}

    def pages(self) -> list[str]:
        return sorted(f for f in self.files if f.endswith(".html"))

    def scanned(self, rel: str) -> Scanned:
        if rel not in self._scans:
            self._scans[rel] = scan((self.root / rel).read_text(encoding="utf-8", errors="replace"))
        return self._scans[rel]

    def url_of(self, rel: str) -> str:
        """The URL a file of the site is served at: 'a/b/index.html' -> '/a/b/'."""
        return self.base_path + (rel.removesuffix("index.html") if rel.endswith("index.html") else rel)

    def is_external(self, url: str) -> bool:
        parts = split_url(url)
        if parts is None:
            return False
        if url.startswith("//"):
            return not self.origin.endswith(f"//{parts.netloc.lower()}")
        return parts.scheme.lower() in WEB_SCHEMES and f"{parts.scheme}://{parts.netloc}".lower() != self.origin

    def resolve(self, url: str, page_url: str) -> tuple[str, str] | None:
        """(URL path, fragment) of a link on the page at page_url; None for external, non-web and
        malformed links (an article's malformed links are reported by builder.check.rules)."""
        parts = split_url(url)
        if parts is None:
            return None
        if parts.scheme and parts.scheme.lower() not in WEB_SCHEMES:
            return None  # mailto:, tel:, data: ...
        if self.is_external(url):
            return None
        if parts.scheme or url.startswith("//"):
            return (parts.path or "/", parts.fragment)
        joined = urlsplit(urljoin(page_url, url))
        return (joined.path, joined.fragment)

    def file_for(self, path: str) -> str | None:
        """The site file a URL path is served from, or None when the built site has none."""
        if not path.startswith(self.base_path):
            return None
        rel = posixpath.normpath(unquote(path[len(self.base_path):]) or ".")
        if rel.startswith("../") or rel == "..":
            return None
        rel = "" if rel == "." else rel
        if rel.startswith(self.unbuilt):
            return rel  # trusted: made by the full build, not by check
        candidates = [rel] if rel and not path.endswith("/") else []
        candidates.append(posixpath.join(rel, "index.html") if rel else "index.html")
        return next((c for c in candidates if c in self.files), None)

    def has_anchor(self, rel: str, fragment: str) -> bool:
        if not fragment or fragment == "top" or fragment.startswith(":~:") or not rel.endswith(".html"):
            return True
        if rel.startswith(self.unbuilt):
            return True
        ids = self.scanned(rel).ids
        return fragment in ids or unquote(fragment) in ids
