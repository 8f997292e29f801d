"""The site's URL layout in one place: every page's address and the file it is written to."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit


@dataclass(frozen=True, slots=True)
class Urls:
    """Root-relative URLs under the site's base path; slugs are already URL-safe."""

    base_path: str = "/"
    origin: str = ""

    def home(self) -> str:
        return self.base_path

    def article(self, topic: str, slug: str) -> str:
        return f"{self.base_path}{topic}/{slug}/"

    def topic(self, slug: str, page: int = 1) -> str:
        return self._paged(f"{slug}/", page)

    def tag(self, slug: str, page: int = 1) -> str:
        return self._paged(f"tags/{slug}/", page)

    def author(self, slug: str, page: int = 1) -> str:
        return self._paged(f"authors/{slug}/", page)

    def topics_index(self) -> str:
        return f"{self.base_path}topics/"

    def tags_index(self) -> str:
        return f"{self.base_path}tags/"

    def authors_index(self) -> str:
        return f"{self.base_path}authors/"

    def archive(self, year: int | None = None) -> str:
        return f"{self.base_path}archive/" + (f"{year}/" if year else "")

    def search(self) -> str:
        return f"{self.base_path}search/"

    def feed(self, section: str = "") -> str:
        return f"{self.base_path}{section}feed.xml"

    def static(self, path: str) -> str:
        return f"{self.base_path}static/{quote(path)}"

    def asset(self, content_path: str) -> str:
        """URL of a file copied from content/ (path relative to content/)."""
        return f"{self.base_path}{quote(content_path)}"

    def absolute(self, url: str) -> str:
        return url if "://" in url else f"{self.origin}{url}"

    def _paged(self, section: str, page: int) -> str:
        return f"{self.base_path}{section}" + (f"page/{page}/" if page > 1 else "")

    def output_path(self, url: str) -> str:
        """The file a URL is served from, relative to the output folder: '/a/b/' -> 'a/b/index.html'."""
        path = url.removeprefix(self.base_path) if url.startswith(self.base_path) else url.lstrip("/")
        return f"{path}index.html" if path == "" or path.endswith("/") else path


def split_url(url: str) -> SplitResult | None:
    """The parts of a link as written, or None where urllib refuses it (an unclosed '[' in the
    host: "Invalid IPv6 URL"). Articles may hold such links; the build leaves them as written and
    `builder check` reports them."""
    try:
        return urlsplit(url)
    except ValueError:
        return None
