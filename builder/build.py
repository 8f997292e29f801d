"""The build pipeline, top to bottom: config → content → relate → plan → render → write.

Every step reads the cache (builder.cache) so that a rebuild parses only changed files and
renders only pages whose view model, template or site-wide inputs changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import markdown

from builder import __version__
from builder.cache import Cache, Manifest, SourceStamp
from builder.config import SiteConfig, load_config
from builder.content.assemble import assemble
from builder.content.data import load_data
from builder.content.discover import CONTENT, SourceTree, decode_text, discover, read_text
from builder.content.fields import ParseResult, parse_article
from builder.content.markup import EXTENSION_CONFIGS, EXTENSIONS, MarkdownRenderer
from builder.content.model import Article, Site
from builder.errors import BuildError, Problem
from builder.feeds import atom
from builder.fingerprint import Fingerprints, digest
from builder.images import image_size
from builder.output import SiteWriter, check_output_folder, is_safe_path, stage, sync_folder
from builder.pages import PageSpec, Planner
from builder.parallel import map_chunks
from builder.related import RelatedDoc, Relations, analysis_key, analyzer, relate
from builder.render import Renderer, TemplateProblem
from builder.search import INDEX_FOLDER, build_index
from builder.sitemaps import MAX_URLS, NEWS_WINDOW, Entry, NewsEntry, news_sitemap, robots_txt, sitemap_files
from builder.slugs import slugify
from builder.themes import Theme, load_theme
from builder.urls import Urls

Progress = Callable[[str, int, int], None]  # (step, done, total)


class Stopwatch:
    """Seconds spent in each step of one build, and the peak memory after it, for --timings."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self.peak_mb[name] = _peak_mb()
        self._last = now


def _peak_mb() -> float:
    try:
        import resource
    except ImportError:  # not on Windows
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class BuildOptions:
    source: Path
    output: Path
    drafts: bool = False
    now: datetime | None = None
    base_url: str | None = None  # overrides portal.toml's, e.g. for the local preview server
    clean: bool = False  # ignore the cache: parse and render everything
    jobs: int | None = None  # worker processes; None: one per core
    search: bool = False  # build the Pagefind search index (the CLI turns it on unless --no-search)


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
    rendered: int = 0  # pages rendered (the rest were known unchanged from the cache)
    parsed: int = 0  # articles parsed (the rest came from the cache)
    search_seconds: float | None = None  # time spent indexing, None when the index was not rebuilt
    up_to_date: bool = False  # nothing had changed since the last build, so nothing was done
    timings: dict[str, float] = field(default_factory=dict)  # step -> seconds
    peaks: dict[str, float] = field(default_factory=dict)  # step -> peak memory of this process so far, MB


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
    parsed: int = 0
    watch: Stopwatch = field(default_factory=Stopwatch)


# --- loading ---------------------------------------------------------------------------------

def load_site(source: Path, *, drafts: bool = False, now: datetime | None = None, base_url: str | None = None,
              cache: Cache | None = None, jobs: int | None = None, progress: Progress | None = None,
              explain: bool = False) -> LoadedSite:
    """Read and check everything under SOURCE; problems are gathered, not raised (except config)."""
    config = load_config(source)
    if base_url is not None:
        config = dataclasses.replace(config, base_url=base_url)
    own_cache = cache is None
    cache = cache or Cache(source, enabled=False)
    try:
        return _load(source, config, drafts, now or datetime.now(UTC), cache, jobs, progress, explain)
    finally:
        if own_cache:
            cache.close()


def _load(source: Path, config: SiteConfig, drafts: bool, now: datetime, cache: Cache, jobs: int | None,
          progress: Progress | None, explain: bool) -> LoadedSite:
    watch = Stopwatch()
    problems: list[Problem] = []
    warnings: list[Problem] = []
    theme: Theme | None = None
    try:
        theme = load_theme(source, config.theme)
    except BuildError as exc:
        problems += exc.problems
    tree = discover(source)
    warnings += tree.warnings
    watch.lap("discover")
    if not (source / CONTENT).is_dir():
        problems.append(Problem(CONTENT, None, "there is no content/ folder here",
                                f"run builder in the site folder or pass --source; looked in {source}"))
    articles, parsed = parse_stage(source, tree.articles, config, cache, problems, warnings, jobs, progress)
    watch.lap("parse")
    data_texts = {}
    for rel in tree.data_files:
        text = read_text(source, rel)
        if isinstance(text, Problem):
            problems.append(text)
        else:
            data_texts[rel] = text
    site_data = load_data(data_texts)
    problems += site_data.problems
    assembled = assemble(articles, config, now=now, include_drafts=drafts, data=site_data.data,
                         reads=site_data.reads, assets=tree.assets)
    problems += assembled.problems
    site = assembled.site
    watch.lap("assemble")
    relations = relate_stage(site, config, cache, explain=explain)
    watch.lap("relate")
    urls = Urls(config.base_path, config.origin)
    source_urls = {a.source.removeprefix(f"{CONTENT}/"): urls.article(site.topic_of[a.slug], a.slug)
                   for a in site.articles}
    return LoadedSite(config, site, tree, theme, relations, source_urls, now, problems, warnings,
                      assembled.scheduled, parsed, watch)


def parse_settings(config: SiteConfig) -> dict[str, Any]:
    """Everything besides the file's bytes that parsing depends on."""
    return {"base_path": config.base_path, "timezone": config.timezone, "sanitize": config.sanitize,
            "language": config.language}


def parse_stage(source: Path, paths: Sequence[str], config: SiteConfig, cache: Cache, problems: list[Problem],
                warnings: list[Problem], jobs: int | None, progress: Progress | None) -> tuple[list[Article], int]:
    """Articles from the cache where the file is unchanged, parsed (in parallel when many) otherwise."""
    settings = parse_settings(config)
    key = digest(repr((__version__, markdown.__version__, EXTENSIONS, sorted(EXTENSION_CONFIGS), settings)).encode())
    old = cache.state
    reuse = old.parse_key == key
    stamps: dict[str, SourceStamp] = {}
    results: dict[str, ParseResult] = {}
    todo: list[str] = []
    for rel in paths:
        stamp = old.sources.get(rel) if reuse else None
        try:
            stat = os.stat(source / rel)
        except OSError:
            todo.append(rel)
            continue
        fresh = stamp is not None and stamp.size == stat.st_size and stamp.mtime_ns == stat.st_mtime_ns
        # A file changed within the same clock tick as the last save could hide behind its stamp.
        if fresh and stamp is not None and stat.st_mtime_ns < old.saved_ns - 2_000_000_000:
            cached = old.parsed.get((rel, stamp.digest))
            if cached is not None:
                stamps[rel], results[rel] = stamp, cached
                continue
        todo.append(rel)
    # A cached article whose body went missing from the store, or whose text analysis is gone,
    # is parsed again (its text lives only in the file).
    needed = {r.article.body_key: rel for rel, r in results.items() if r.article is not None}
    lost = {rel for rel, r in results.items() if r.article is not None
            and related_key(r.article, config.language) not in old.analyses}
    for rel in {needed[key] for key in cache.bodies.missing(set(needed))} | lost:
        del results[rel]
        todo.append(rel)
    analyses = {related_key(r.article, config.language): old.analyses[related_key(r.article, config.language)]
                for r in results.values() if r.article is not None}
    done = 0
    for batch in map_chunks(_parse_files, todo, jobs=jobs, shared=(str(source), settings)):
        for rel, stamp, result, analysis in batch:
            done += 1
            if stamp is not None:
                stamps[rel] = stamp
            if result.article is not None:
                cache.bodies.put(result.article.body_key, result.body_html)
                analyses[related_key(result.article, config.language)] = analysis
            results[rel] = dataclasses.replace(result, body_html="", text="")
        if progress:
            progress("parse", done, len(todo))
    cache.state.analyses = analyses
    articles = []
    for rel in paths:
        result = results[rel]
        problems += result.errors
        warnings += result.warnings
        if result.article is not None:
            articles.append(result.article)
    cache.state.parse_key = key
    cache.state.sources = stamps
    cache.state.parsed = {(rel, stamps[rel].digest): results[rel] for rel in paths if rel in stamps}
    return articles, len(todo)


def _parse_files(shared: tuple[str, dict[str, Any]], rels: Sequence[str]) -> list[
        tuple[str, SourceStamp | None, ParseResult, Any]]:
    """Worker: read, fingerprint and parse some article files, and analyse their text for related
    articles while it is at hand."""
    from zoneinfo import ZoneInfo

    source, settings = Path(shared[0]), shared[1]
    renderer = MarkdownRenderer(asset_prefix=settings["base_path"], sanitize=settings["sanitize"])
    tz = ZoneInfo(settings["timezone"])
    analyse = analyzer(settings["language"])
    out: list[tuple[str, SourceStamp | None, ParseResult, Any]] = []
    for rel in rels:
        path = source / rel
        try:
            stat = path.stat()
            raw = path.read_bytes()
        except OSError as exc:
            out.append((rel, None, ParseResult(None, [Problem(rel, None, f"cannot be read: {exc.strerror}",
                                                              "check the file's permissions")]), None))
            continue
        file_digest = digest(raw)
        stamp = SourceStamp(stat.st_size, stat.st_mtime_ns, file_digest)
        text = decode_text(rel, raw)
        if isinstance(text, Problem):
            out.append((rel, stamp, ParseResult(None, [text]), None))
            continue
        result = parse_article(rel, text, renderer, tz)
        analysis = None
        if result.article is not None:
            article = result.article = dataclasses.replace(result.article, digest=file_digest)
            analysis = analyse(RelatedDoc(slug=article.slug, title=article.title, summary=article.summary,
                                          text=result.text, topic="", tags=(), authors=(), date=article.date))
        out.append((rel, stamp, result, analysis))
    return out


def related_key(article: Article, language: str) -> str:
    """The related engine's cache key for an article: its source digest and the site language
    (whose stemmer the analysis depends on) stand for title, summary and text."""
    return analysis_key(RelatedDoc(slug="", title="", summary="", text="", topic="", tags=(), authors=(),
                                   date=article.date, key=f"{article.digest}:{language}"))


def relate_stage(site: Site, config: SiteConfig, cache: Cache, *, explain: bool = False) -> Relations:
    """Related lists from the analyses the parse step made; remembered while the inputs are the same.
    Without `explain`, only the lists are kept: the engine's matrices (a gigabyte at 100,000
    articles) are freed before the pages are planned and rendered."""
    docs = related_docs(site)
    inputs = digest(pickle.dumps((docs, config.related, config.language), protocol=5))
    if not explain and cache.state.related is not None and cache.state.related[0] == inputs:
        return Relations.from_lists(cache.state.related[1])
    analyses = {key: cache.state.analyses[key] for key in map(analysis_key, docs)}
    relations = relate(docs, count=config.related.count, weights=config.related.weights,
                       language=config.language, analyses=analyses)
    cache.state.related = (inputs, relations.lists)
    return relations if explain else Relations.from_lists(relations.lists)


def related_docs(site: Site) -> list[RelatedDoc]:
    # The key stands for title, summary and text (all made from the file's bytes) and the language,
    # whose stemmer the analysis depends on.
    language = site.config.language
    return [
        RelatedDoc(slug=a.slug, title=a.title, summary=a.summary, text="", topic=site.topic_of[a.slug],
                   tags=tuple(slugify(t) for t in a.tags), authors=tuple(slugify(n) for n in a.authors),
                   date=a.date, pins=a.related_pins, excludes=a.related_exclude, key=f"{a.digest}:{language}")
        for a in site.articles
    ]


# --- building --------------------------------------------------------------------------------

def build(options: BuildOptions, progress: Progress | None = None, cache: Cache | None = None) -> BuildReport:
    """Build the site into options.output; raises BuildError and leaves the output untouched on any problem.

    A caller that builds again and again (the preview server) passes its own `cache`, kept open
    and in memory between builds; otherwise the build opens and closes one.
    """
    started = time.perf_counter()
    check_output_folder(options.source, options.output)
    owned = cache is None
    if cache is None:
        cache = Cache(options.source, enabled=not options.clean)
    now = options.now or datetime.now(UTC)
    inputs = input_digest(options) if cache.persist and cache.enabled else None
    manifest = cache.manifest()
    if manifest is not None and inputs is not None and _still_valid(manifest, inputs, options, now):
        if owned:
            cache.close()
        return BuildReport(manifest.pages, 0, 0, 0, time.perf_counter() - started, manifest.warnings,
                           manifest.scheduled, up_to_date=True,
                           timings={"check inputs": time.perf_counter() - started})
    cache.save_manifest(None)
    options = dataclasses.replace(options, now=now)
    cache_seconds = time.perf_counter() - started
    try:
        loaded = load_site(options.source, drafts=options.drafts, now=options.now, base_url=options.base_url,
                           cache=cache, jobs=options.jobs, progress=progress)
        problems = loaded.problems
        writer = SiteWriter(options.output, keep=(INDEX_FOLDER,))
        try:
            pages, rendered, keys = write_site(loaded, options.source, writer, cache, problems, options.jobs,
                                               progress)
            if problems:
                cache.save(dataclasses.replace(cache.state, pages={}, output=""))
                raise BuildError(problems)
            summary = writer.commit()
            loaded.watch.lap("commit")
        finally:
            writer.abort()
        cache.bodies.keep_only({r.article.body_key for r in cache.state.parsed.values() if r.article})
        cache.save(dataclasses.replace(cache.state, pages=keys, output=str(options.output.resolve()),
                                       saved_ns=time.time_ns()))
        loaded.watch.lap("save cache")
    except BaseException:
        if owned:
            cache.close()
        raise
    warnings = list(loaded.warnings)
    search_seconds = None
    if options.search and (any(p.endswith(".html") for p in summary.changed)
                           or not (options.output / INDEX_FOLDER / "pagefind-ui.js").is_file()):
        search_started = time.perf_counter()
        bundle = build_index(options.output)
        if isinstance(bundle, Problem):
            warnings.append(bundle)
        else:
            sync_folder(bundle, options.output / INDEX_FOLDER)
            bundle.parent.rmdir()
        search_seconds = time.perf_counter() - search_started
    scheduled = tuple((when, what, article.title) for when, what, article in loaded.scheduled)
    if inputs is not None and not any(w.path == INDEX_FOLDER for w in warnings):
        cache.save_manifest(Manifest(inputs, output_digest(options.output), int(now.timestamp() * 1e9),
                                     _valid_until(loaded), pages, tuple(warnings), scheduled))
    if owned:
        cache.close()
    timings = {"load cache": cache_seconds, **loaded.watch.laps}
    if search_seconds is not None:
        timings["search index"] = search_seconds
    return BuildReport(pages, summary.written, summary.unchanged, summary.removed, time.perf_counter() - started,
                       tuple(warnings), scheduled, summary.changed, rendered=rendered, parsed=loaded.parsed,
                       search_seconds=search_seconds, timings=timings, peaks=dict(loaded.watch.peak_mb))


# --- knowing when there is nothing to do ------------------------------------------------------

def input_digest(options: BuildOptions) -> str | None:
    """A digest of everything a build reads: the stamp (size, mtime) of every file under content/
    and of every theme file, portal.toml, the options and the builder's own code. None when a file
    changed too recently for its stamp to be trusted (the same clock tick as a write)."""
    from builder.cache import code_version
    from builder.themes import builtin_themes_dir

    hasher = hashlib.blake2b(digest_size=16)
    hasher.update(repr((code_version(), options.drafts, options.base_url, str(options.output.resolve()),
                        options.search)).encode())
    recent = time.time_ns() - 2_000_000_000
    for root in (options.source / CONTENT, options.source / "themes", builtin_themes_dir(), options.source / "portal.toml"):
        for path, stat in _stamps(root):
            if stat.st_mtime_ns >= recent:
                return None
            hasher.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return hasher.hexdigest()


def output_digest(output: Path) -> str:
    """A digest of the output's files as the build left them (the search index aside)."""
    hasher = hashlib.blake2b(digest_size=16)
    for path, stat in _stamps(output, skip=output / INDEX_FOLDER):
        hasher.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return hasher.hexdigest()


def _stamps(root: Path, skip: Path | None = None) -> list[tuple[str, os.stat_result]]:
    if root.is_file():
        return [(str(root), root.stat())]
    found: list[tuple[str, os.stat_result]] = []
    seen: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen or (skip is not None and Path(dirpath) == skip):
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                found.append((path, os.stat(path)))
            except OSError:
                found.append((path, os.stat_result((0,) * 10)))
    return found


def _still_valid(manifest: Manifest, inputs: str, options: BuildOptions, now: datetime) -> bool:
    moment = int(now.timestamp() * 1e9)
    if manifest.inputs != inputs or not manifest.valid_from_ns <= moment < manifest.valid_until_ns:
        return False
    if options.search and not (options.output / INDEX_FOLDER / "pagefind-ui.js").is_file():
        return False
    return options.output.is_dir() and output_digest(options.output) == manifest.output


def _valid_until(loaded: LoadedSite) -> int:
    """The next moment the output changes with no file changing: a scheduled article appears or
    expires, or an article leaves the two-day news sitemap."""
    moments = [when for when, _what, _article in loaded.scheduled[:1]]
    moments += [a.date + NEWS_WINDOW for a in loaded.site.articles if loaded.now - NEWS_WINDOW <= a.date <= loaded.now]
    return int(min(moments).timestamp() * 1e9) if moments else 2**62


@dataclass(slots=True)
class _RenderJob:
    """What render workers need; reaches them through fork, never pickled."""

    specs: list[PageSpec]
    renderer: Renderer
    output: Path
    staging: Path


def write_site(loaded: LoadedSite, source: Path, writer: SiteWriter, cache: Cache, problems: list[Problem],
               jobs: int | None = None, progress: Progress | None = None) -> tuple[int, int, dict[str, str]]:
    """Render changed pages and copy files into the writer's staging area.

    Returns (pages, pages rendered, key of every page written or kept).
    """
    site, config = loaded.site, loaded.config
    urls = Urls(config.base_path, config.origin)
    sizes = _ImageSizes(source, cache)
    planner = Planner(site, urls, sizes, loaded.source_urls, cache.bodies.get)
    specs = list(planner.plan(loaded.relations.lists))
    feeds = list(planner.feeds())
    loaded.watch.lap("plan")
    static_files, static_warnings = loaded.theme.static_files() if loaded.theme else ({}, [])
    loaded.warnings.extend(static_warnings)
    outputs: dict[str, str] = {spec.path: f"the page {spec.page.url}" for spec in specs}
    for name in ("sitemap.xml", "news-sitemap.xml", "robots.txt", *(f.path for f in feeds)):
        outputs[name] = f"the generated {name}"
    assets = [rel for rel in site.assets if _claim(outputs, rel.removeprefix(f"{CONTENT}/"), rel, problems)]
    statics = {rel: path for rel, path in static_files.items()
               if _claim(outputs, f"static/{rel}", f"theme file static/{rel}", problems)}
    new_keys: dict[str, str] = {}
    if loaded.theme is None:
        return len(specs), 0, new_keys
    # Plain URLs, no content hashes: a CSS edit then changes one file, not every page of the site.
    static_urls = {rel: urls.static(rel) for rel in static_files}
    renderer = Renderer(loaded.theme.template_dirs, planner.site_view(), site.data, static_urls, source,
                        config.date_format)
    fingerprints = Fingerprints()
    site_key = fingerprints.of(__version__, config, planner.site_view(), site.data, static_urls)
    old_keys = cache.state.pages if cache.state.output == str(writer.output.resolve()) else {}
    todo: list[int] = []
    for index, spec in enumerate(specs):
        key = fingerprints.of(site_key, renderer.template_key(spec.template), spec.template, spec.page)
        new_keys[spec.path] = key
        if old_keys.get(spec.path) == key and writer.exists(spec.path):
            writer.keep(spec.path)
        else:
            todo.append(index)
    loaded.watch.lap("page keys")
    job = _RenderJob(specs, renderer, writer.output, writer.staging)
    seen: set[tuple[str, int | None, str]] = set()
    done = 0
    for batch in map_chunks(_render_pages, todo, jobs=jobs, shared=job, needs_fork=True):
        for index, staged, problem in batch:
            done += 1
            if problem is None:
                writer.record(specs[index].path, staged)
            else:
                new_keys.pop(specs[index].path, None)
                same = (problem.path, problem.line, problem.message.split(" while rendering ")[0])
                if same not in seen:  # one template mistake breaks many pages: report it once
                    seen.add(same)
                    problems.append(problem)
        if progress:
            progress("render", done, len(todo))
    loaded.watch.lap("render")
    write_feeds(loaded, planner, feeds, fingerprints, site_key, old_keys, new_keys, writer)
    write_sitemaps(loaded, planner, specs, fingerprints, old_keys, new_keys, writer)
    for rel in assets:
        writer.copy(rel.removeprefix(f"{CONTENT}/"), source / rel)
    for rel, path in statics.items():
        writer.copy(f"static/{rel}", path)
    loaded.watch.lap("feeds, sitemaps, files")
    cache.state.image_sizes = sizes.known
    return len(specs), len(todo), new_keys


def _render_pages(job: _RenderJob, indices: Sequence[int]) -> list[tuple[int, bool, Problem | None]]:
    """Worker (or in-process): render pages and stage the ones whose bytes changed."""
    out: list[tuple[int, bool, Problem | None]] = []
    for index in indices:
        spec = job.specs[index]
        try:
            data = job.renderer.render(spec)
        except TemplateProblem as exc:
            out.append((index, False, exc.problem))
            continue
        out.append((index, stage(job.output, job.staging, spec.path, data), None))
    return out


def write_feeds(loaded: LoadedSite, planner: Planner, feeds: Sequence[Any], fingerprints: Fingerprints,
                site_key: str, old_keys: dict[str, str], new_keys: dict[str, str], writer: SiteWriter) -> None:
    config = loaded.config
    full = config.feeds.full_content
    articles = loaded.site.by_slug

    def body_of(slug: str) -> str:
        return planner.body(articles[slug])

    for feed in feeds:
        bodies = tuple(planner.body_ref(articles[c.slug]).key for c in feed.cards) if full else ()
        key = fingerprints.of(site_key, "feed", feed, full, bodies)
        new_keys[feed.path] = key
        if old_keys.get(feed.path) == key and writer.exists(feed.path):
            writer.keep(feed.path)
            continue
        writer.write(feed.path, atom(feed, language=config.language, origin=config.origin, site_title=config.title,
                                     body_of=body_of if full else None))


def write_sitemaps(loaded: LoadedSite, planner: Planner, specs: Sequence[PageSpec], fingerprints: Fingerprints,
                   old_keys: dict[str, str], new_keys: dict[str, str], writer: SiteWriter) -> None:
    """Sitemaps and robots.txt, made again only when the addresses or dates they list changed."""
    config, urls = loaded.config, planner.urls
    origin_base = urls.absolute(urls.home())
    entries = [Entry(urls.absolute(spec.page.url), _lastmod(spec)) for spec in specs if not spec.page.noindex]
    news = [NewsEntry(urls.absolute(card.url), card.title, card.date) for card in planner.cards.values()]
    recent = [n for n in news if loaded.now - NEWS_WINDOW <= n.published <= loaded.now]  # what the clock changes
    key = fingerprints.of("sitemaps", entries, recent, config.title, config.language)
    names = ["sitemap.xml", "news-sitemap.xml", "robots.txt"]
    if len(entries) > MAX_URLS:
        names += [f"sitemap-{n}.xml" for n in range(1, -(-len(entries) // MAX_URLS) + 1)]
    if all(old_keys.get(name) == key and writer.exists(name) for name in names):
        for name in names:
            writer.keep(name)
            new_keys[name] = key
        return
    files = sitemap_files(entries, origin_base)
    files["news-sitemap.xml"] = news_sitemap(news, now=loaded.now, name=config.title, language=config.language)
    files["robots.txt"] = robots_txt(origin_base)
    for name, data in files.items():
        writer.write(name, data)
        new_keys[name] = key


class _ImageSizes:
    """Image sizes by content path, remembered across builds while the file is unchanged."""

    def __init__(self, source: Path, cache: Cache) -> None:
        self._source = source
        self._old = cache.state.image_sizes
        self.known: dict[str, tuple[int, int, tuple[int, int] | None]] = {}

    def __call__(self, content_path: str) -> tuple[int, int] | None:
        entry = self.known.get(content_path)
        if entry is None:
            file = self._source / CONTENT / content_path
            try:
                stat = file.stat()
            except (OSError, ValueError):  # ValueError: a NUL in the path
                return None
            old = self._old.get(content_path)
            if old is not None and old[0] == stat.st_size and old[1] == stat.st_mtime_ns:
                entry = old
            else:
                entry = (stat.st_size, stat.st_mtime_ns, image_size(file) if file.is_file() else None)
            self.known[content_path] = entry
        return entry[2]


def _lastmod(spec: PageSpec) -> datetime | None:
    page = spec.page
    if page.article is not None:
        card = page.article.card
        return datetime.fromisoformat(card.updated_iso) if card.updated_iso else card.date
    cards = page.items or ((page.lead,) if page.lead else ())
    return max((c.date for c in cards), default=None)


def _claim(outputs: dict[str, str], rel: str, owner: str, problems: list[Problem]) -> bool:
    """Reserve an output path for one owner; a second owner is a problem naming both."""
    if rel.startswith(f"{INDEX_FOLDER}/"):
        problems.append(Problem(owner, None, f"the folder {INDEX_FOLDER}/ is reserved for the search index",
                                "move the file to another folder"))
        return False
    if not is_safe_path(rel):
        problems.append(Problem(owner, None, "this file name cannot be published (it holds '\\', ':' or a "
                                "control character)", "rename the file using letters, digits, '-' and '_'"))
        return False
    if rel in outputs:
        problems.append(Problem(owner, None, f"would be written to {rel}, which is also {outputs[rel]}",
                                "rename or move the file"))
        return False
    outputs[rel] = owner
    return True
