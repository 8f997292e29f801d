"""The checks of `builder check`: each reads the loaded site and the built files and returns Problems."""

from __future__ import annotations

import posixpath
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from builder.check.scan import WEB_SCHEMES, BuiltSite, scan
from builder.check.sources import SourceLinks
from builder.content.data import READS_STEM
from builder.content.discover import CONTENT, DATA, read_text
from builder.content.markup import REF_SCHEME
from builder.content.model import Article
from builder.errors import Problem, did_you_mean
from builder.load import LoadedSite
from builder.urls import Urls, split_url

_LINK_HINT = "fix the address; link to another article by its file, e.g. [text](../topic/file.md)"
_IMAGE_HINT = "check the file name and put the image in content/ (paths are relative to the article's file)"
_MALFORMED_HINT = "fix the address: a '[' or ']' belongs in a web address only around an IPv6 host"
_ALT_HINT = "describe the picture between the brackets: ![What the picture shows](file.png)"


@dataclass(slots=True)
class Inputs:
    source: Path
    loaded: LoadedSite
    body_of: Callable[[str], str]  # body key -> the article's HTML as converted (references unresolved)
    built: BuiltSite
    urls: Urls


@dataclass(slots=True)
class ExternalLink:
    url: str
    article: Article
    line: int | None
    shown: str


@dataclass(slots=True)
class BodyReport:
    problems: list[Problem] = field(default_factory=list)
    in_page: dict[str, set[str]] = field(default_factory=dict)  # page file -> body URLs as the page has them
    external: list[ExternalLink] = field(default_factory=list)
    links: int = 0


def check_bodies(inputs: Inputs) -> BodyReport:
    """Links and images written in article bodies: targets, anchors, alt texts."""
    report = BodyReport()
    site, urls, built = inputs.loaded.site, inputs.urls, inputs.built
    for article in site.articles:
        page_url = urls.article(site.topic_of[article.slug], article.slug)
        page_file = urls.output_path(page_url)
        text = read_text(inputs.source, article.source)
        folder = posixpath.dirname(article.source.removeprefix(f"{CONTENT}/"))
        lines = SourceLinks(text if isinstance(text, str) else "", folder, urls.base_path)
        seen = report.in_page.setdefault(page_file, set())
        for link in scan(inputs.body_of(article.body_key)).links:
            if not link.url:
                continue
            report.links += 1
            is_image = link.tag == "img"
            seen.add(_as_in_page(link.url, inputs.loaded.source_urls))

            def problem(message: str, hint: str, *, _link: str = link.url, _image: bool = is_image,
                        _article: Article = article, _lines: SourceLinks = lines) -> None:
                line, shown = _lines.find(_link, is_image=_image)
                report.problems.append(Problem(_article.source, line, message.replace("{shown}", shown), hint))

            if is_image and not (link.alt or "").strip():
                problem("image '{shown}' has no alt text", _ALT_HINT)
            if split_url(link.url) is None:
                problem("broken link to '{shown}': it is not a valid web address", _MALFORMED_HINT)
                continue
            if built.is_external(link.url):
                line, shown = lines.find(link.url, is_image=is_image)
                report.external.append(ExternalLink(link.url, article, line, shown))
                continue
            _check_body_link(inputs, link.url, is_image, folder, page_url, problem)
    return report


def _check_body_link(inputs: Inputs, url: str, is_image: bool, folder: str, page_url: str,
                     problem: Callable[[str, str], None]) -> None:
    built, source_urls = inputs.built, inputs.loaded.source_urls
    if url.startswith(REF_SCHEME):
        path, _, fragment = url.removeprefix(REF_SCHEME).partition("#")
        target = source_urls.get(path)
        if target is None:
            if (inputs.source / CONTENT / path).is_file():
                problem(f"broken link to '{{shown}}': {CONTENT}/{path} is not published (a draft, scheduled "
                        "or expired)", "link to a published article, or remove the link until it appears")
            else:
                close = did_you_mean(f"{CONTENT}/{path}", [f"{CONTENT}/{known}" for known in source_urls])
                problem(f"broken link to '{{shown}}': there is no article {CONTENT}/{path}",
                        f"{close} (paths are relative to the article's file)" if close.startswith("did you")
                        else _LINK_HINT)
            return
        _check_anchor(built, built.file_for(target), fragment, "this page" if target == page_url else target,
                      problem)
        return
    parts = urlsplit(url)
    if len(parts.scheme) == 1:
        problem("broken link to '{shown}': it is a file path on this computer, not a web address", _LINK_HINT)
        return
    if parts.scheme and parts.scheme.lower() not in WEB_SCHEMES:
        return  # mailto:, tel: ...
    if not parts.scheme and not url.startswith(("/", "#")):
        inside = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
        if inside == ".." or inside.startswith("../"):
            problem("broken link to '{shown}': it points outside content/", _LINK_HINT)
            return
    resolved = built.resolve(url, page_url)
    if resolved is None:
        return
    path, fragment = resolved
    file = built.file_for(path)
    if file is None:
        if is_image:
            problem(f"missing image '{{shown}}': no file {path} in the built site", _IMAGE_HINT)
        else:
            problem(f"broken link to '{{shown}}': no page or file {path} in the built site", _LINK_HINT)
        return
    _check_anchor(built, file, fragment, "this page" if path == page_url else path, problem)


def _check_anchor(built: BuiltSite, file: str | None, fragment: str, where: str,
                  problem: Callable[[str, str], None]) -> None:
    if file is None or built.has_anchor(file, fragment):
        return
    close = did_you_mean(unquote(fragment), built.scanned(file).ids)
    problem(f"missing anchor in link '{{shown}}': {where} has no element with id '{unquote(fragment)}'",
            close if close.startswith("did you") else "link to the id of a heading (shown in the page's "
            "table of contents), or remove the #part")


def _as_in_page(url: str, source_urls: dict[str, str]) -> str:
    """The URL as the built page shows it (references to other articles resolved)."""
    if not url.startswith(REF_SCHEME):
        return url
    path, hash_, fragment = url.removeprefix(REF_SCHEME).partition("#")
    return (source_urls.get(path) or path) + hash_ + fragment


def check_templates(inputs: Inputs, body_urls: dict[str, set[str]]) -> tuple[list[Problem], int]:
    """Links the theme puts on every page (navigation, pagination, feeds, styles) that lead nowhere."""
    built = inputs.built
    broken: dict[tuple[str, str], list[str]] = defaultdict(list)
    checked = 0
    for rel in built.pages():
        page_url = built.url_of(rel)
        skip = body_urls.get(rel, set())
        for link in built.scanned(rel).links:
            if not link.url or link.url in skip:
                continue
            resolved = built.resolve(link.url, page_url)
            if resolved is None:
                continue
            checked += 1
            path, fragment = resolved
            file = built.file_for(path)
            if file is None:
                broken[(link.url, "which does not exist in the built site")].append(page_url)
            elif not built.has_anchor(file, fragment):
                broken[(link.url, f"but the target page has no element with id '{unquote(fragment)}'")].append(page_url)
    where = _templates_display(inputs)
    problems = []
    for (url, reason), pages in sorted(broken.items()):
        others = len(pages) - 1
        more = f" (and {others} more {'page' if others == 1 else 'pages'})" if others else ""
        problems.append(Problem(where, None, f"the page {pages[0]}{more} links to '{url}', {reason}",
                                "the link is made by the theme's templates; fix or remove it there"))
    return problems, checked


def _templates_display(inputs: Inputs) -> str:
    theme = inputs.loaded.theme
    if theme is None:
        return "themes"
    folder = theme.chain[0] / "templates"
    try:
        return folder.resolve().relative_to(inputs.source.resolve()).as_posix()
    except ValueError:
        return f"(default theme) {theme.chain[0].name}/templates"


def check_topic_reach(inputs: Inputs) -> list[Problem]:
    """Every article must be linked from its topic's first page or a page reached by following
    links through the topic's pagination."""
    site, urls, built = inputs.loaded.site, inputs.urls, inputs.built
    problems = []
    for topic in site.topics:
        slugs = site.by_topic.get(topic.slug, ())
        if not slugs:
            continue
        first = urls.topic(topic.slug)
        total = -(-len(slugs) // site.config.per_page)
        chain = {urls.topic(topic.slug, n) for n in range(1, total + 1)}
        reached: set[str] = set()
        linked: set[str] = set()
        todo = [first]
        while todo:
            url = todo.pop()
            if url in reached:
                continue
            reached.add(url)
            file = built.file_for(url)
            if file is None:
                continue
            for link in built.scanned(file).links:
                resolved = built.resolve(link.url, url)
                if resolved is not None:
                    path = resolved[0].removesuffix("index.html")
                    linked.add(path)
                    if path in chain and path not in reached:
                        todo.append(path)
        for slug in slugs:
            if urls.article(topic.slug, slug) not in linked:
                article = site.by_slug[slug]
                problems.append(Problem(
                    article.source, article.line_of.get("topic"),
                    f"is not linked from its topic's pages ({first} and the pages after it)",
                    "the theme's topic.html must link every item of page.items and the next page "
                    "(page.pagination.next_url)"))
    return problems


def check_duplicate_titles(inputs: Inputs) -> list[Problem]:
    groups: dict[str, list[Article]] = defaultdict(list)
    for article in inputs.loaded.site.articles:
        groups[" ".join(article.title.split()).casefold()].append(article)
    problems = []
    for same in groups.values():
        if len(same) < 2:
            continue
        for article in same:
            others = ", ".join(sorted(a.source for a in same if a is not article))
            problems.append(Problem(article.source, article.line_of.get("title"),
                                    f"title '{article.title}' is also used by {others}",
                                    "give each article its own headline, so readers can tell them apart in lists"))
    return problems


def check_data_files(inputs: Inputs) -> list[Problem]:
    """Data files no template of the theme chain mentions as data.<name> (read counts excepted)."""
    theme = inputs.loaded.theme
    if theme is None:
        return []
    texts = []
    for folder in theme.chain:
        for path in sorted((folder / "templates").rglob("*")):
            if path.is_file():
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    templates = "\n".join(texts)
    problems = []
    prefix = f"{CONTENT}/{DATA}/"
    for rel in inputs.loaded.tree.data_files:
        stem = posixpath.splitext(rel.removeprefix(prefix))[0]
        if stem == READS_STEM:
            continue
        name = stem.split("/")[0]
        used = re.search(rf"""\bdata\s*(?:\.\s*{re.escape(name)}\b|\[\s*["']{re.escape(name)}["']\s*\])""",
                         templates)
        if not used:
            problems.append(Problem(rel, None, f"no template of the theme reads this data file (nothing uses "
                                    f"data.{name})", f"use it in a template as {{{{ data.{name} }}}}, or delete "
                                    "the file"))
    return problems
