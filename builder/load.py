"""Loading a site: read and check every input, parse articles (from the cache when unchanged),
assemble the site model and choose related articles. Nothing here writes to the output.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import markdown

from builder import __version__
from builder.cache import Cache, SourceStamp
from builder.config import SiteConfig, load_config
from builder.content.assemble import assemble
from builder.content.data import load_data
from builder.content.discover import CONTENT, SourceTree, decode_text, discover, read_text
from builder.content.fields import ParseResult, parse_article
from builder.content.markup import EXTENSION_CONFIGS, EXTENSIONS, MarkdownRenderer
from builder.content.model import Article, Site, encode_headings
from builder.errors import BuildError, Problem
from builder.fingerprint import canonical_pickle, digest
from builder.heap import return_freed_memory
from builder.parallel import map_chunks
from builder.related import (
    RelatedDoc,
    Relations,
    analysis_key,
    analyzer,
    docs_from_rows,
    load_engine,
    relate,
    reusable_docs,
    shared_words,
)
from builder.related.keys import vouched_key
from builder.related_helper import RelatedHelper
from builder.slugs import slugify
from builder.tablestore import LazyTable
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
    # the last build's articles whose files changed or went, by slug (what their cards showed)
    replaced: dict[str, Article] = field(default_factory=dict)


# --- loading ---------------------------------------------------------------------------------

def load_site(source: Path, *, drafts: bool = False, now: datetime | None = None, base_url: str | None = None,
              cache: Cache | None = None, jobs: int | None = None, progress: Progress | None = None,
              explain: bool = False, meanwhile: Callable[[LoadedSite], None] | None = None,
              before_relating: Callable[[LoadedSite], None] | None = None,
              stats: Mapping[str, os.stat_result] | None = None) -> LoadedSite:
    """Read and check everything under SOURCE; problems are gathered, not raised (except config).
    MEANWHILE, if given, is called while a helper process works out the related lists, with the
    site loaded but for them (its `relations` still empty); BEFORE_RELATING, likewise, when this
    process works them out itself or has them already (also after a helper failed). STATS: the
    article files' stats, by site-relative path, where the caller has them already. A related
    helper the cache holds already (started by the caller, see builder.build) is used if it has
    not been asked yet."""
    config = load_config(source)
    if base_url is not None:
        config = dataclasses.replace(config, base_url=base_url)
    own_cache = cache is None
    cache = cache or Cache(source, enabled=False)
    try:
        return _load(source, config, drafts, now or datetime.now(UTC), cache, jobs, progress, explain, meanwhile,
                     before_relating, stats or {})
    finally:
        if own_cache:
            cache.close()


def _load(source: Path, config: SiteConfig, drafts: bool, now: datetime, cache: Cache, jobs: int | None,
          progress: Progress | None, explain: bool, meanwhile: Callable[[LoadedSite], None] | None,
          before_relating: Callable[[LoadedSite], None] | None, stats: Mapping[str, os.stat_result]) -> LoadedSite:
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
    # (gets ready while this process parses; build(), or the command line, started it earlier still)
    helper = None if explain else RelatedHelper.start(cache, jobs)
    if helper is not None and helper.from_scratch and len(tree.articles) > FROM_SCRATCH_ARTICLES:
        helper.stop()  # (the lists are then worked out here, as without a helper)
        helper = None
    importing: list[threading.Thread] = []

    # the engine will run in this process: it imports it (NumPy, SciPy: 0.3 s of CPU) while the
    # parse workers run, not after them
    def while_parsing() -> None:
        importing.append(threading.Thread(target=load_engine, daemon=True))
        importing[0].start()

    articles, parsed, fresh, replaced = parse_stage(
        source, tree.articles, config, cache, problems, warnings, jobs, progress, stats,
        while_parsing=while_parsing if helper is None else None)
    for thread in importing:
        thread.join()  # (before anything forks again: a fork amid an import copies its locks held)
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

    urls = Urls(config.base_path, config.origin)
    source_urls = {a.source.removeprefix(f"{CONTENT}/"): urls.article(site.topic_of[a.slug], a.slug)
                   for a in site.articles}
    loaded = LoadedSite(config, site, tree, theme, Relations.from_lists({}), source_urls, now, problems, warnings,
                        assembled.scheduled, parsed, watch, replaced)

    # While a helper works out the lists: the caller's own work, then writing and letting go of
    # the analyses, which only the next build reads.
    def while_relating() -> None:
        if meanwhile is not None:
            meanwhile(loaded)
        cache.set_aside("analyses")

    loaded.relations = relate_stage(site, config, cache, explain=explain, helper=helper, meanwhile=while_relating,
                                    fresh=fresh, alone=functools.partial(before_relating, loaded)
                                    if before_relating is not None else None)
    # Nothing may keep the analyses made now once they are set aside: at 100,000 articles (all of
    # them made now) this reference kept 290 MB from being handed back below.
    del fresh
    cache.set_aside("analyses")  # (if no helper worked: a second call does nothing)
    return_freed_memory()  # the related engine's, before pages are planned and workers forked
    watch.lap("relate")
    return loaded


# Up to this many articles a related helper with no saved state (RelatedHelper.start_from_scratch)
# works the lists out: cold builds were 7 % faster at 1,000 articles and no slower at 10,000 (see
# benchmarks/README.md). Every analysis is pickled to it, and then sits in both processes: at
# 100,000 articles another 290 MB on the way to the 2 GB bound.
FROM_SCRATCH_ARTICLES = 20_000



def parse_settings(config: SiteConfig) -> dict[str, Any]:
    """Everything besides the file's bytes that parsing depends on."""
    return {"base_path": config.base_path, "timezone": config.timezone, "sanitize": config.sanitize,
            "language": config.language}


def parse_stage(source: Path, paths: Sequence[str], config: SiteConfig, cache: Cache, problems: list[Problem],
                warnings: list[Problem], jobs: int | None, progress: Progress | None,
                stats: Mapping[str, os.stat_result], while_parsing: Callable[[], None] | None = None,
                ) -> tuple[list[Article], int, dict[str, Any], dict[str, Article]]:
    """Articles from the cache where the file is unchanged, parsed (in parallel when many) otherwise.
    STATS holds file stats already taken, by site-relative path. WHILE_PARSING is called once the
    first parsed files are back (any worker processes have started by then). Returns the
    articles, how many were parsed, the text analyses made for those, and the cache's articles
    whose files changed or went (by slug)."""
    settings = parse_settings(config)
    key = digest(repr((__version__, markdown.__version__, EXTENSIONS, sorted(EXTENSION_CONFIGS), settings)).encode())
    old = cache.state
    reuse = old.parse_key == key
    stamps: dict[str, SourceStamp] = {}
    results: dict[str, ParseResult] = {}
    todo: list[str] = []
    root = str(source)
    known: Mapping[str, SourceStamp] = old.sources if reuse else {}
    parsed = old.parsed
    # A file changed within the same clock tick as the last save could hide behind its stamp.
    settled_before = old.saved_ns - 2_000_000_000
    for rel in paths:
        stamp = known.get(rel)
        stat = stats.get(rel)
        if stat is None:
            try:
                stat = os.stat(os.path.join(root, rel))  # a string, not a Path, for each of 10,000s of files
            except OSError:
                todo.append(rel)
                continue
        if (stamp is not None and stamp.size == stat.st_size and stamp.mtime_ns == stat.st_mtime_ns
                and stat.st_mtime_ns < settled_before):
            cached = parsed.get((rel, stamp.digest))
            if cached is not None:
                stamps[rel], results[rel] = stamp, cached
                continue
        todo.append(rel)
    # A cached article whose body went missing from the store, or whose text analysis is gone,
    # is parsed again (its text lives only in the file). The store is asked only when bodies were
    # deleted from it (or it is another store) since the state was saved: 0.02 s at 10,000 articles.
    keys = {rel: related_key(r.article, config.language) for rel, r in results.items() if r.article is not None}
    lost = {rel for rel, key in keys.items() if key not in old.analyses}
    generation = cache.bodies.generation()
    if generation != old.bodies_generation:
        needed = {r.article.body_key: rel for rel, r in results.items() if r.article is not None}
        lost |= {needed[key] for key in cache.bodies.missing(set(needed))}
    cache.state.bodies_generation = generation
    for rel in lost:
        del results[rel]
        del keys[rel]
        todo.append(rel)
    new_analyses: dict[str, Any] = {}
    done = 0
    for batch in map_chunks(_parse_files, todo, jobs=jobs, shared=(str(source), settings)):
        for rel, stamp, result, analysis in batch:
            done += 1
            if stamp is not None:
                stamps[rel] = stamp
            if result.article is not None:
                cache.bodies.put(result.article.body_key, result.body_html, encode_headings(result.headings))
                new_analyses[related_key(result.article, config.language)] = shared_words(analysis)
            result.body_html = result.text = ""  # the body is in the store; the text was analysed
            result.headings = ()
            results[rel] = result
        if while_parsing is not None:
            while_parsing()
            while_parsing = None
        if progress:
            progress("parse", done, len(todo))
    cache.state.analyses = _kept_analyses(old.analyses, keys, new_analyses,
                                          functools.partial(_analyse_again, source, settings, config.language))
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
    replaced = {result.article.slug: result.article for key in parsed.keys() - cache.state.parsed.keys()
                if (result := parsed[key]).article is not None}
    return articles, len(todo), new_analyses, replaced


def _kept_analyses(old: Mapping[str, Any], kept: Mapping[str, str], fresh: dict[str, Any],
                   analyse_again: Callable[[Mapping[str, str], list[str]], dict[str, Any]]) -> Mapping[str, Any]:
    """The analyses of the next state: OLD's of the articles KEPT from the cache (path -> key),
    and the FRESH ones. Loaded lazily, OLD's stay unread unless the related lists need them."""
    if isinstance(old, LazyTable):
        # a piece found damaged when read is made again from the files of its articles
        rel_of = {key: rel for rel, key in kept.items()}
        return old.narrowed(set(kept.values()), fresh, functools.partial(analyse_again, rel_of))
    return {**{key: old[key] for key in kept.values()}, **fresh}


def _analyse_again(source: Path, settings: dict[str, Any], language: str, rel_of: Mapping[str, str],
                   keys: list[str]) -> dict[str, Any]:
    """The analyses of KEYS made again from their articles' files (a damaged cache piece); one
    whose file changed since this build parsed it is not among them."""
    made = {}
    for _rel, _stamp, result, analysis in _parse_files((str(source), settings), [rel_of[k] for k in keys if k in rel_of]):
        if result.article is not None:
            made[related_key(result.article, language)] = shared_words(analysis)
    return made


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
        result = parse_article(rel, text, renderer, tz, file_digest)
        analysis = None
        if result.article is not None:
            article = result.article
            analysis = analyse(RelatedDoc(slug=article.slug, title=article.title, summary=article.summary,
                                          text=result.text, topic="", tags=(), authors=(), date=article.date))
            result.text = ""  # analysed: not worth pickling back (a third of the bytes)
        out.append((rel, stamp, result, analysis))
    return out


def related_key(article: Article, language: str) -> str:
    """The related engine's cache key for an article's text analysis (analysis_key of its doc)."""
    return vouched_key(source_key(article, language))


def source_key(article: Article, language: str) -> str:
    """What an article's related doc is keyed by: its source digest stands for title, summary and
    text (all made from the file's bytes), and the language for the stemmer the analysis uses."""
    return f"{article.digest}:{language}"


def relate_stage(site: Site, config: SiteConfig, cache: Cache, *, explain: bool = False,
                 helper: RelatedHelper | None = None, meanwhile: Callable[[], None] | None = None,
                 fresh: Mapping[str, Any] | None = None, alone: Callable[[], None] | None = None) -> Relations:
    """Related lists from the analyses the parse step made; remembered while the inputs are the same.
    Without `explain`, only the lists are kept: the engine's matrices (a gigabyte at 100,000
    articles) are freed before the pages are planned and rendered. A HELPER process, when
    given, works them out (the same lists) while this process calls MEANWHILE; it is sent the
    analyses made this build (FRESH) and asks for any other it lacks. ALONE, if given, is called
    before this process works the lists out itself or takes the ones it kept."""
    rows = related_rows(site)
    # Rows, not the dataclasses: pickling 10,000 slotted dataclasses costs a fifth of a second.
    # One pickle is both the key of the inputs and the helper's message.
    inputs = canonical_pickle((rows, config.related, config.language))
    key = digest(inputs)
    if not explain and cache.state.related is not None and cache.state.related[0] == key:
        if helper is not None:
            helper.stop()
        if alone is not None:
            alone()
        return Relations.from_lists(cache.state.related[1])
    stored = cache.state.analyses  # (MEANWHILE may set the cache's copy aside)
    lists = None if helper is None else helper.relate(inputs, fresh or {}, stored, meanwhile=meanwhile,
                                                      held=cache.state.related)
    del inputs  # (34 MB at 100,000 articles, not kept through the engine's work)
    if lists is not None:
        cache.state.related = (key, lists)
        return Relations.from_lists(lists)
    if alone is not None:
        alone()  # (what it starts, a background process's work, overlaps the engine's threads)
    # The engine's state from the last build lets an edit update the lists instead of working
    # them all out again (the result is the same).
    previous = cache.related_engine()
    docs = docs_from_rows(rows, reusable_docs(previous))
    analyses = {analysis: stored[analysis] for analysis in map(analysis_key, docs)}
    relations = relate(docs, count=config.related.count, weights=config.related.weights,
                       language=config.language, analyses=analyses, previous=previous)
    cache.state.related = (key, relations.lists)
    cache.keep_related_engine(relations.state, key)
    return relations if explain else Relations.from_lists(relations.lists)


def related_rows(site: Site) -> list[tuple[Any, ...]]:
    """The related engine's docs as RelatedDoc.as_row() rows, made straight from the articles:
    the helper process needs only these, and 10,000 dataclasses cost 0.03 s to make."""
    language = site.config.language
    return [
        (a.slug, a.title, a.summary, "", site.topic_of[a.slug], tuple(map(slugify, a.tags)),
         tuple(map(slugify, a.authors)), a.date.timestamp(), a.related_pins, a.related_exclude,
         source_key(a, language))
        for a in site.articles
    ]
