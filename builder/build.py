"""The build pipeline, top to bottom: load (config → content → relate) → plan → render → write.

Every step reads the cache (builder.cache) so that a rebuild parses only changed files and
renders only pages whose view model, template or site-wide inputs changed.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder import __version__
from builder.cache import Cache, Manifest
from builder.content.discover import CONTENT
from builder.errors import BuildError, Problem
from builder.feeds import atom
from builder.fingerprint import Fingerprints, digest
from builder.freshness import files_digest, input_digest, still_valid, valid_until
from builder.images import image_size
from builder.load import LoadedSite, Progress, load_site
from builder.output import MARKER, SiteWriter, check_output_folder, is_safe_path, stage, sync_folder
from builder.pages import PageSpec, Planner, Unit
from builder.parallel import MIN_PARALLEL_ITEMS, ROUND_ITEMS, Background, can_fork, map_chunks, worker_count
from builder.related_helper import Errand, RelatedHelper
from builder.render import Renderer, TemplateProblem
from builder.replan import PagePlan, PageRecord, changed_cards, plan_units, renamed_members, unit_records
from builder.search import INDEX_FOLDER, build_index
from builder.sitemaps import MAX_URLS, NEWS_WINDOW, Entry, NewsEntry, news_sitemap, robots_txt, sitemap_files
from builder.urls import Urls


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


def build(options: BuildOptions, progress: Progress | None = None, cache: Cache | None = None) -> BuildReport:
    """Build the site into options.output; raises BuildError and leaves the output untouched on any problem.

    A caller that builds again and again (the preview server) passes its own `cache`, kept open
    and in memory between builds, and so does the command line, which starts the cache's related
    helper before importing this module; otherwise the build opens and closes one. A caller's
    cache is closed by that caller.
    """
    started = time.perf_counter()
    check_output_folder(options.source, options.output)
    owned = cache is None
    if cache is None:
        cache = Cache(options.source, enabled=not options.clean)
    now = options.now or datetime.now(UTC)
    output_key = str(options.output.resolve())
    writer = SiteWriter(options.output, keep=(INDEX_FOLDER,), previous=cache.written.get(output_key))
    try:
        # The related helper (if one can help) starts first: importing numpy and reading the
        # engine's state take it 0.3 s, and it walks the output for this process while it then
        # waits. When nothing changed, it is stopped unused.
        RelatedHelper.start(cache, options.jobs,
                            Errand(writer.walk_output, writer.take_listing) if writer.walks_output else None)
        inputs, source_stats = input_digest(options) if cache.persist and cache.enabled else (None, {})
        manifest = cache.manifest()
        if manifest is not None and inputs is not None and still_valid(manifest, inputs, options, now):
            writer.abort()
            if owned:
                cache.close()
            return BuildReport(manifest.pages, 0, 0, 0, time.perf_counter() - started, manifest.warnings,
                               manifest.scheduled, up_to_date=True,
                               timings={"check inputs": time.perf_counter() - started})
    except BaseException:
        writer.abort()
        if owned:
            cache.close()
        raise
    cache.save_manifest(None)
    options = dataclasses.replace(options, now=now)
    cache_seconds = time.perf_counter() - started
    try:
        prepared: list[PagePrep] = []

        def meanwhile(site: LoadedSite) -> None:  # while a helper process works out the related lists
            prep = prepare_pages(site, options.source, writer.output, cache)
            prepared.append(prep)
            writer.list_output()
            if listings_pay(site, writer, cache, options.jobs):
                prep.listings = start_listings(prep, writer, cache)
            # The pages that show no related list are planned now, not once the lists come: after
            # an edit at 10,000 articles this process waited 0.05-0.1 s for them.
            prep.early = (_plan(prep, [prep.planner.home_unit()], writer, cache),
                          _plan(prep, prep.planner.listing_units(), writer, cache))

        def before_relating(site: LoadedSite) -> None:  # this process works them out (or has them)
            if not prepared and listings_pay(site, writer, cache, options.jobs):
                meanwhile(site)

        try:
            loaded = load_site(options.source, drafts=options.drafts, now=options.now, base_url=options.base_url,
                               cache=cache, jobs=options.jobs, progress=progress, meanwhile=meanwhile,
                               before_relating=before_relating, stats=source_stats)
            problems = loaded.problems
            pages, rendered, keys = write_site(loaded, options.source, writer, cache, problems, options.jobs,
                                               progress, prep=prepared[0] if prepared else None)
            if problems:
                cache.save(dataclasses.replace(cache.state, pages={}, output=""))
                raise BuildError(problems)
            summary = writer.commit()
            cache.written[output_key] = frozenset(writer.expected)
            loaded.watch.lap("commit")
        finally:
            for prep in prepared:
                prep.stop()  # (before the staging folder it may still write into goes)
            writer.abort()
        generation = cache.bodies.keep_only({r.article.body_key for r in cache.state.parsed.values() if r.article},
                                            cache.state.bodies_generation)
        cache.save(dataclasses.replace(cache.state, pages=keys, output=output_key,
                                       saved_ns=time.time_ns(), bodies_generation=generation))
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
        # (stamps from the walk of the output for the files this build left as they were)
        output_stamp = files_digest(options.output, cache.written[output_key] | {MARKER}, known=writer.listed_stamps,
                                    changed={*summary.changed, MARKER})
        cache.save_manifest(Manifest(inputs, output_stamp,
                                     int(now.timestamp() * 1e9),
                                     valid_until(loaded), pages, tuple(warnings), scheduled))
    if owned:
        cache.close()
    timings = {"load cache": cache_seconds, **loaded.watch.laps}
    if search_seconds is not None:
        timings["search index"] = search_seconds
    return BuildReport(pages, summary.written, summary.unchanged, summary.removed, time.perf_counter() - started,
                       tuple(warnings), scheduled, summary.changed, rendered=rendered, parsed=loaded.parsed,
                       search_seconds=search_seconds, timings=timings, peaks=dict(loaded.watch.peak_mb))


@dataclass(slots=True)
class _RenderJob:
    """What render workers need; reaches them through fork, never pickled."""

    specs: list[PageSpec]
    renderer: Renderer
    output: Path
    staging: Path


@dataclass(slots=True)
class _Planned:
    """Some units' pages planned, and which of them must be rendered (indices into plan.specs)."""

    plan: PagePlan
    todo: list[int]


@dataclass(slots=True)
class PagePrep:
    """What planning pages needs besides the related lists: made while the lists are worked out
    (0.08 s at 10,000 articles), or at the start of write_site."""

    planner: Planner
    renderer: Renderer | None
    static_files: dict[str, Path]
    sizes: _ImageSizes
    fingerprints: Fingerprints
    site_key: str
    old_keys: dict[str, str]
    cards: dict[str, Any]  # slug -> card check
    changed_cards: set[str]
    same_output: bool
    term_names: tuple[dict[str, str], dict[str, str]]
    new_keys: dict[str, str] = field(default_factory=dict)  # of every page written or kept
    listings: Background | None = None  # rendering the listing pages meanwhile (start_listings)
    early: tuple[_Planned, _Planned] | None = None  # the home and listing units, planned meanwhile

    def stop(self) -> None:
        if self.listings is not None:
            self.listings.stop()


def prepare_pages(loaded: LoadedSite, source: Path, output: Path, cache: Cache) -> PagePrep:
    site, config = loaded.site, loaded.config
    urls = Urls(config.base_path, config.origin)
    sizes = _ImageSizes(source, cache)
    planner = Planner(site, urls, sizes, loaded.source_urls, cache.bodies.get, cache.bodies.headings)
    static_files, static_warnings = loaded.theme.static_files() if loaded.theme else ({}, [])
    loaded.warnings.extend(static_warnings)
    # Plain URLs, no content hashes: a CSS edit then changes one file, not every page of the site.
    static_urls = {rel: urls.static(rel) for rel in static_files}
    renderer = None
    if loaded.theme is not None:
        renderer = Renderer(loaded.theme.template_dirs, planner.site_view(), site.data, static_urls, source,
                            config.date_format, compiled=cache.state.templates)
    fingerprints = Fingerprints()
    site_key = fingerprints.of(__version__, config, planner.site_view(), site.data, static_urls)
    same_output = _built_into(cache, output)
    state = cache.state
    names = planner.term_names()
    suspects = None
    if state.cards_parse_key == state.parse_key:
        tags_before, authors_before = state.term_names
        suspects = (renamed_members(tags_before, names[0], site.by_tag)
                    | renamed_members(authors_before, names[1], site.by_author))
    cards, changed = changed_cards(site.articles, planner.card_check, planner.card_token, state.cards,
                                   loaded.replaced, suspects)
    return PagePrep(planner, renderer, static_files, sizes, fingerprints, site_key,
                    state.pages if same_output else {}, cards, changed, same_output, names)


def _built_into(cache: Cache, output: Path) -> bool:
    """Whether the cache's last build wrote into OUTPUT: its page keys and unit records then
    describe the pages there."""
    return cache.state.output == str(output.resolve())


def listings_pay(loaded: LoadedSite, writer: SiteWriter, cache: Cache, jobs: int | None) -> bool:
    """Whether rendering the listing pages in a background process (start_listings) pays: when
    every page is planned anew (no pages of a last build into this output), there are enough of
    them, and workers may fork. Not above a render round's worth of articles: the process copies
    what it reads of this one's memory, and at 100,000 articles that took all processes together
    from 1.7 to 2.8 GB."""
    planned_before = _built_into(cache, writer.output) and cache.state.units
    return (loaded.theme is not None and not planned_before and worker_count(jobs) > 1
            and MIN_PARALLEL_ITEMS <= len(loaded.site.articles) <= ROUND_ITEMS and can_fork())


def start_listings(prep: PagePrep, writer: SiteWriter, cache: Cache) -> Background:
    """Render the listing pages (which show no related list) in a background process while this
    one works out the related lists and plans the articles, which keep only part of the cores
    busy (see listings_pay). The process plans the pages itself: handing it the plan would make
    this one plan them first, alone."""
    if prep.renderer is not None:
        prep.renderer.prepare(prep.planner.templates())  # (or the process would compile them, and so would this one)
    return Background(functools.partial(_render_listings, prep, writer, cache))


def _render_listings(prep: PagePrep, writer: SiteWriter, cache: Cache) -> list[tuple[str, bool, Problem | None]]:
    """Background: the listings' first pages to render (_handed), as (path, staged, problem)."""
    listings = _plan(prep, prep.planner.listing_units(), writer, cache)
    assert prep.renderer is not None
    job = _RenderJob(listings.plan.specs, prep.renderer, writer.output, writer.staging)
    return [(job.specs[index].path, staged, problem)
            for index, staged, problem in _render_pages(job, _handed(listings.todo))]


def _handed(todo: list[int]) -> list[int]:
    # (at most a round's worth: a forked process copies the memory it reads, see map_chunks)
    return todo[:ROUND_ITEMS]


def _plan(prep: PagePrep, units: Iterable[Unit], writer: SiteWriter, cache: Cache) -> _Planned:
    """Plan the UNITS that changed, keep the others' pages, and pick the planned pages whose key
    changed (every one when the cache is off: no next build reads the keys)."""
    renderer, new_keys = prep.renderer, prep.new_keys

    def inputs_of(unit: Unit) -> str | None:
        if unit.inputs is None or renderer is None:
            return None
        return "\0".join([prep.site_key, *map(renderer.template_key, unit.templates), unit.inputs])

    plan = plan_units(units, inputs_of, cache.state.units if prep.same_output else {}, prep.changed_cards,
                      writer.exists_now)
    if renderer is None:
        return _Planned(plan, [])
    kept = [page for record in plan.kept.values() for page in record.pages]
    writer.keep_all([page.path for page in kept])
    new_keys.update([(page.path, page.key) for page in kept])
    if not cache.enabled:
        return _Planned(plan, list(range(len(plan.specs))))
    todo = []
    exists = writer.exists_now
    for index, spec in enumerate(plan.specs):
        key = prep.fingerprints.of(prep.site_key, renderer.template_key(spec.template), spec.template, spec.recipe)
        new_keys[spec.path] = key
        if prep.old_keys.get(spec.path) == key and exists(spec.path):
            writer.keep(spec.path)
        else:
            todo.append(index)
    return _Planned(plan, todo)


def write_site(loaded: LoadedSite, source: Path, writer: SiteWriter, cache: Cache, problems: list[Problem],
               jobs: int | None = None, progress: Progress | None = None,
               prep: PagePrep | None = None) -> tuple[int, int, dict[str, str]]:
    """Render changed pages and copy files into the writer's staging area. PREP: prepare_pages()
    of this build, if it was made already (and perhaps rendering the listings, start_listings).

    Returns (pages, pages rendered, key of every page written or kept).
    """
    site = loaded.site
    if prep is None:
        prep = prepare_pages(loaded, source, writer.output, cache)
    planner, renderer, static_files, new_keys = prep.planner, prep.renderer, prep.static_files, prep.new_keys
    home, listings = prep.early or (_plan(prep, [planner.home_unit()], writer, cache), None)
    articles = _plan(prep, planner.article_units(loaded.relations.lists), writer, cache)
    listings = listings or _plan(prep, planner.listing_units(), writer, cache)
    plan = PagePlan.joined(home.plan, articles.plan, listings.plan)  # (in sitemap order)
    feeds = list(planner.feeds())
    loaded.watch.lap("plan")
    outputs: dict[str, str] = {page.path: f"the page {page.url}" for page in plan.pages}
    for name in ("sitemap.xml", "news-sitemap.xml", "robots.txt", *(f.path for f in feeds)):
        outputs[name] = f"the generated {name}"
    assets = [rel for rel in site.assets if _claim(outputs, rel.removeprefix(f"{CONTENT}/"), rel, problems)]
    statics = {rel: path for rel, path in static_files.items()
               if _claim(outputs, f"static/{rel}", f"theme file static/{rel}", problems)}
    if renderer is None:
        return len(plan.pages), 0, new_keys
    specs = plan.specs
    listings_from = len(specs) - len(listings.plan.specs)
    listing_todo = [listings_from + index for index in listings.todo]
    handed = _handed(listing_todo) if prep.listings is not None else []
    todo = [*home.todo, *(len(home.plan.specs) + index for index in articles.todo), *listing_todo[len(handed):]]
    total = len(todo) + len(handed)
    renderer.prepare({specs[index].template for index in todo})  # (before render workers fork)
    job = _RenderJob(specs, renderer, writer.output, writer.staging)
    seen: set[tuple[str, int | None, str]] = set()
    done = 0

    def take(batch: list[tuple[int, bool, Problem | None]]) -> None:
        nonlocal done
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
            progress("render", done, total)

    def write_feeds_and_sitemaps() -> None:
        write_feeds(loaded, planner, feeds, prep.fingerprints, prep.site_key, prep.old_keys, new_keys, writer)
        write_sitemaps(loaded, planner, plan.pages, prep.fingerprints, prep.old_keys, new_keys, writer)

    # Needing no page, feeds and sitemaps are written while render workers have work queued; but
    # not while a forked worker holds its copy of a big build's memory (at 100,000 articles that
    # put the sitemaps' 154,000 entries on top of the peak).
    early = len(todo) <= ROUND_ITEMS
    feeds_written = False
    for batch in map_chunks(_render_pages, todo, jobs=jobs, shared=job, needs_fork=True):
        take(batch)
        if early and not feeds_written:
            write_feeds_and_sitemaps()
            feeds_written = True
    if not feeds_written:
        write_feeds_and_sitemaps()
    if prep.listings is not None:
        # The background's pages are taken where this build planned the same; any other it
        # staged is taken back, and any page it did not render (it failed) is rendered here.
        rendered_there = {path: (staged, problem) for path, staged, problem in prep.listings.result() or ()}
        left, taken = [], []
        for index in handed:
            there = rendered_there.pop(specs[index].path, None)
            if there is None:
                left.append(index)
            else:
                taken.append((index, *there))
        take(taken)
        for path, (staged, _problem) in rendered_there.items():
            if staged:
                writer.discard(path)
        for batch in map_chunks(_render_pages, left, jobs=jobs, shared=job, needs_fork=True):
            take(batch)
    loaded.watch.lap("render, feeds, sitemaps")
    for rel in assets:
        writer.copy(rel.removeprefix(f"{CONTENT}/"), source / rel)
    for rel, path in statics.items():
        writer.copy(f"static/{rel}", path)
    loaded.watch.lap("files")
    cache.state.image_sizes = prep.sizes.known
    cache.state.units = unit_records(plan, new_keys)
    cache.state.cards = prep.cards
    cache.state.cards_parse_key = cache.state.parse_key
    cache.state.term_names = prep.term_names
    return len(plan.pages), total, new_keys


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


def write_sitemaps(loaded: LoadedSite, planner: Planner, pages: Sequence[PageSpec | PageRecord],
                   fingerprints: Fingerprints, old_keys: dict[str, str], new_keys: dict[str, str], writer: SiteWriter) -> None:
    """Sitemaps and robots.txt, made again only when the addresses or dates they list changed."""
    config, urls = loaded.config, planner.urls
    origin_base = urls.absolute(urls.home())
    listed = [page for page in pages if not page.noindex]
    since = loaded.now - NEWS_WINDOW
    cards = [planner.cards[a.slug] for a in loaded.site.articles if a.date >= since]
    news = [NewsEntry(urls.absolute(card.url), card.title, card.date) for card in cards]
    recent = [n for n in news if n.published <= loaded.now]  # what the clock changes
    # The addresses and dates as one string, moments as timestamps (the sitemaps print them in
    # UTC): made into entries and pickled, 15,000 pages cost 0.03 s of every build.
    pages_key = digest("\n".join([f"{page.url}\0{page.lastmod.timestamp() if page.lastmod else ''}"
                                   for page in listed]).encode("utf-8", "surrogatepass"))
    key = fingerprints.of("sitemaps", urls.absolute(""), pages_key,
                          [(n.url, n.title, n.published.timestamp()) for n in recent], config.title, config.language)
    names = ["sitemap.xml", "news-sitemap.xml", "robots.txt"]
    if len(listed) > MAX_URLS:
        names += [f"sitemap-{n}.xml" for n in range(1, -(-len(listed) // MAX_URLS) + 1)]
    if all(old_keys.get(name) == key and writer.exists(name) for name in names):
        for name in names:
            writer.keep(name)
            new_keys[name] = key
        return
    files = sitemap_files([Entry(urls.absolute(page.url), page.lastmod) for page in listed], origin_base)
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
