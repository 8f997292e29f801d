"""The build pipeline, top to bottom: config → content → relate → plan → render → write."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from builder.config import SiteConfig, load_config
from builder.content.assemble import Assembled, assemble
from builder.content.data import load_data
from builder.content.discover import CONTENT, SourceTree, discover, read_text
from builder.content.fields import parse_article
from builder.content.markup import MarkdownRenderer
from builder.content.model import Article, Site
from builder.errors import BuildError, Problem
from builder.feeds import atom
from builder.images import image_size
from builder.output import SiteWriter, check_output_folder
from builder.pages import PageSpec, Planner
from builder.related import RelatedDoc, Relations, relate
from builder.render import Renderer, TemplateProblem
from builder.sitemaps import Entry, NewsEntry, news_sitemap, robots_txt, sitemap_files
from builder.slugs import slugify
from builder.themes import Theme, load_theme
from builder.urls import Urls


@dataclass(frozen=True, slots=True)
class BuildOptions:
    source: Path
    output: Path
    drafts: bool = False
    now: datetime | None = None
    base_url: str | None = None  # overrides portal.toml's, e.g. for the local preview server


@dataclass(frozen=True, slots=True)
class BuildReport:
    pages: int
    written: int
    unchanged: int
    removed: int
    seconds: float
    warnings: tuple[Problem, ...] = ()
    scheduled: tuple[tuple[datetime, str, str], ...] = ()  # (when, "publishes"/"expires", title)
    changed: tuple[str, ...] = ()  # output-relative paths written or removed


@dataclass(slots=True)
class LoadedSite:
    """The site model with everything gathered while loading it."""

    config: SiteConfig
    site: Site
    tree: SourceTree
    theme: Theme | None
    relations: Relations
    source_urls: dict[str, str]
    now: datetime
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    scheduled: tuple[tuple[datetime, str, Article], ...] = ()


def load_site(source: Path, *, drafts: bool = False, now: datetime | None = None,
              base_url: str | None = None) -> LoadedSite:
    """Read and check everything under SOURCE; problems are gathered, not raised (except config)."""
    config = load_config(source)
    if base_url is not None:
        config = dataclasses.replace(config, base_url=base_url)
    problems: list[Problem] = []
    warnings: list[Problem] = []
    theme: Theme | None = None
    try:
        theme = load_theme(source, config.theme)
    except BuildError as exc:
        problems += exc.problems
    tree = discover(source)
    warnings += tree.warnings
    if not (source / CONTENT).is_dir():
        problems.append(Problem(CONTENT, None, "there is no content/ folder here",
                                f"run builder in the site folder or pass --source; looked in {source}"))
    articles = parse_articles(source, tree.articles, config, problems, warnings)
    data_texts = {}
    for rel in tree.data_files:
        text = read_text(source, rel)
        if isinstance(text, Problem):
            problems.append(text)
        else:
            data_texts[rel] = text
    site_data = load_data(data_texts)
    problems += site_data.problems
    now = now or datetime.now(UTC)
    assembled: Assembled = assemble(articles, config, now=now, include_drafts=drafts,
                                    data=site_data.data, reads=site_data.reads, assets=tree.assets)
    problems += assembled.problems
    site = assembled.site
    relations = relate(related_docs(site), count=config.related.count, weights=config.related.weights,
                       language=config.language)
    urls = Urls(config.base_path, config.origin)
    source_urls = {a.source.removeprefix(f"{CONTENT}/"): urls.article(site.topic_of[a.slug], a.slug)
                   for a in site.articles}
    return LoadedSite(config, site, tree, theme, relations, source_urls, now, problems, warnings, assembled.scheduled)


def parse_articles(source: Path, paths: Sequence[str], config: SiteConfig, problems: list[Problem],
                   warnings: list[Problem]) -> list[Article]:
    renderer = MarkdownRenderer(asset_prefix=config.base_path)
    tz = config.tzinfo
    articles = []
    for rel in paths:
        text = read_text(source, rel)
        if isinstance(text, Problem):
            problems.append(text)
            continue
        result = parse_article(rel, text, renderer, tz)
        problems += result.errors
        warnings += result.warnings
        if result.article is not None:
            articles.append(result.article)
    return articles


def related_docs(site: Site) -> list[RelatedDoc]:
    return [
        RelatedDoc(slug=a.slug, title=a.title, summary=a.summary, text=a.text, topic=site.topic_of[a.slug],
                   tags=tuple(slugify(t) for t in a.tags), authors=tuple(slugify(n) for n in a.authors),
                   date=a.date, pins=a.related_pins, excludes=a.related_exclude)
        for a in site.articles
    ]


def build(options: BuildOptions, progress: Callable[[str], None] | None = None) -> BuildReport:
    """Build the site into options.output; raises BuildError and leaves the output untouched on any problem."""
    started = time.perf_counter()
    check_output_folder(options.source, options.output)
    loaded = load_site(options.source, drafts=options.drafts, now=options.now, base_url=options.base_url)
    problems = loaded.problems
    writer = SiteWriter(options.output)
    try:
        pages = write_site(loaded, options.source, writer, problems)
        if problems:
            raise BuildError(problems)
        summary = writer.commit()
    finally:
        writer.abort()
    scheduled = tuple((when, what, article.title) for when, what, article in loaded.scheduled)
    return BuildReport(pages, summary.written, summary.unchanged, summary.removed,
                       time.perf_counter() - started, tuple(loaded.warnings), scheduled, summary.changed)


def write_site(loaded: LoadedSite, source: Path, writer: SiteWriter, problems: list[Problem]) -> int:
    """Render every page and copy every file into the writer's staging area; returns the page count."""
    site, config = loaded.site, loaded.config
    urls = Urls(config.base_path, config.origin)
    sizes: dict[str, tuple[int, int] | None] = {}

    def sizes_of(content_path: str) -> tuple[int, int] | None:
        if content_path not in sizes:
            file = source / CONTENT / content_path
            sizes[content_path] = image_size(file) if file.is_file() else None
        return sizes[content_path]

    planner = Planner(site, urls, sizes_of, loaded.source_urls)
    specs = list(planner.plan(loaded.relations.lists))
    static_files = loaded.theme.static_files() if loaded.theme else {}
    outputs: dict[str, str] = {spec.path: f"the page {spec.page.url}" for spec in specs}
    assets = [rel for rel in site.assets if _claim(outputs, rel.removeprefix(f"{CONTENT}/"), rel, problems)]
    statics = {rel: path for rel, path in static_files.items()
               if _claim(outputs, f"static/{rel}", f"theme file static/{rel}", problems)}
    if loaded.theme is None:
        return len(specs)
    # Plain URLs, no content hashes: a CSS edit then changes one file, not every page of the site.
    static_urls = {rel: urls.static(rel) for rel in static_files}
    renderer = Renderer(loaded.theme.template_dirs, planner.site_view(), site.data, static_urls, source,
                        config.date_format)
    seen_template_problems: set[tuple[str, int | None, str]] = set()
    for spec in specs:
        try:
            writer.write(spec.path, renderer.render(spec))
        except TemplateProblem as exc:
            p = exc.problem
            key = (p.path, p.line, p.message.split(" while rendering ")[0])
            if key not in seen_template_problems:
                seen_template_problems.add(key)
                problems.append(p)
    write_syndication(loaded, planner, specs, writer)
    for rel in assets:
        writer.copy(rel.removeprefix(f"{CONTENT}/"), source / rel)
    for rel, path in statics.items():
        writer.copy(f"static/{rel}", path)
    return len(specs)


def write_syndication(loaded: LoadedSite, planner: Planner, specs: Sequence[PageSpec], writer: SiteWriter) -> None:
    """Feeds, sitemaps and robots.txt: the files other machines read."""
    config, urls = loaded.config, planner.urls
    bodies = {a.slug: a for a in loaded.site.articles}

    def body_of(slug: str) -> str:
        return str(planner.body(bodies[slug]))

    for feed in planner.feeds():
        writer.write(feed.path, atom(feed, language=config.language, origin=config.origin, site_title=config.title,
                                     body_of=body_of if config.feeds.full_content else None))
    entries = [Entry(urls.absolute(spec.page.url), _lastmod(spec)) for spec in specs if not spec.page.noindex]
    origin_base = urls.absolute(urls.home())
    for name, data in sitemap_files(entries, origin_base).items():
        writer.write(name, data)
    news = [NewsEntry(urls.absolute(card.url), card.title, card.date) for card in planner.cards.values()]
    writer.write("news-sitemap.xml", news_sitemap(news, now=loaded.now, name=config.title, language=config.language))
    writer.write("robots.txt", robots_txt(origin_base))


def _lastmod(spec: PageSpec) -> datetime | None:
    page = spec.page
    if page.article is not None:
        card = page.article.card
        return datetime.fromisoformat(card.updated_iso) if card.updated_iso else card.date
    cards = page.items or ((page.lead,) if page.lead else ())
    return max((c.date for c in cards), default=None)


def _claim(outputs: dict[str, str], rel: str, owner: str, problems: list[Problem]) -> bool:
    """Reserve an output path for one owner; a second owner is a problem naming both."""
    if rel in outputs:
        problems.append(Problem(owner, None, f"would be written to {rel}, which is also {outputs[rel]}",
                                "rename or move the file"))
        return False
    outputs[rel] = owner
    return True
