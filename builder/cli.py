"""Command line: `builder build`, `builder related`; parses options and maps failures to exit codes."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from builder import __version__
from builder.cache import Cache
from builder.check import add_check_command
from builder.dates import parse_when
from builder.errors import BuildError
from builder.output import OutputRefused
from builder.related_helper import RelatedHelper
from builder.report import Reporter
from builder.serve.command import add_serve_command

# The build's own modules (Markdown, Jinja2, the model, the pages: 0.2 s to import) are imported
# where a command needs them, not here: `builder build` first starts its related helper (see
# _run_build), which then loads NumPy and SciPy on another core meanwhile.
if TYPE_CHECKING:
    from builder.load import LoadedSite

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def run() -> NoReturn:
    """The `builder` command: main(), then leave at once. A build ends holding millions of
    objects that the interpreter would free one by one on its way out (0.2 s after an edit at
    10,000 articles); the operating system reclaims the memory in one go. Every file the build
    writes is closed by then, so only the standard streams need flushing."""
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    # A build makes millions of small objects that live until it ends, and Python's default
    # collector thresholds made it rescan them again and again: a fifth of an edit rebuild at
    # 10,000 articles. Cycles are still collected, only less often.
    gc.set_threshold(10_000, 50, 50)
    parser = _parser()
    args = parser.parse_args(argv)
    reporter = Reporter()
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.run(args, reporter))
    except BuildError as exc:
        reporter.problems(exc.problems)
        return EXIT_PROBLEMS
    except OutputRefused as exc:
        reporter.failure(str(exc), exc.hint)
        return EXIT_USAGE
    except KeyboardInterrupt:
        reporter.failure("interrupted")
        return 130
    except Exception as exc:  # a bug in builder itself: say so plainly, keep the traceback behind --debug
        if getattr(args, "debug", False):
            traceback.print_exc()
        reporter.failure(f"builder stopped on an internal error: {type(exc).__name__}: {exc}",
                         "run again with --debug for the details and report them to the builder developers")
        return EXIT_PROBLEMS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="builder", description="Build and preview a static news portal.")
    parser.add_argument("--version", action="version", version=f"builder {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")

    build_cmd = commands.add_parser("build", help="build the site into the output folder")
    _common(build_cmd)
    build_cmd.add_argument("--output", type=Path, help="output folder (default: SOURCE/site)")
    build_cmd.add_argument("--clean", action="store_true", help="ignore the cache in SOURCE/.cache: parse and render everything")
    build_cmd.add_argument("--jobs", type=int, metavar="N",
                           help="processes that parse and render at once (default: one per core; 1: this one alone)")
    build_cmd.add_argument("--no-search", dest="search", action="store_false",
                           help="skip the search index (faster; the previous index stays)")
    build_cmd.add_argument("--timings", action="store_true", help="print the time each step took")
    build_cmd.set_defaults(run=_run_build)

    related = commands.add_parser("related", help="show the related-articles lists")
    _common(related)
    related.add_argument("slug", nargs="?", help="show only this article's list")
    related.add_argument("--json", action="store_true", help="print {slug: [related slugs]} as JSON")
    related.add_argument("--explain", action="store_true", help="show each item's score and why it was chosen")
    related.set_defaults(run=_run_related)
    schedule = commands.add_parser("schedule", help="show when scheduled articles appear or expire")
    _common(schedule)
    schedule.add_argument("--json", action="store_true", help="print the schedule as JSON (for cron jobs and CI)")
    schedule.set_defaults(run=_run_schedule)
    add_serve_command(commands)
    add_check_command(commands)
    return parser


def _common(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--source", type=Path, default=Path("."), help="site folder holding content/ (default: .)")
    cmd.add_argument("--drafts", action="store_true", help="include articles marked draft: true")
    cmd.add_argument("--now", type=_moment, help="pretend the time is this (ISO date/time) for scheduling")
    cmd.add_argument("--debug", action="store_true", help="show Python tracebacks")


def _moment(text: str) -> datetime:
    try:
        return parse_when(text, UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date such as 2026-12-01 or 2026-12-01T06:00Z") from None


def _run_build(args: argparse.Namespace, reporter: Reporter) -> int:
    source: Path = args.source
    output: Path = args.output if args.output is not None else source / "site"
    progress = reporter.progress()
    cache = Cache(source, enabled=not args.clean)
    try:
        # With no saved state to start from, the related helper is forked now, from a process
        # that has imported little: it loads the engine (NumPy, SciPy: 0.45 s of CPU) while this
        # process imports the build's modules and parses (a cold build of 1,000 articles 0.2 s
        # sooner, 7 %: benchmarks/README.md).
        RelatedHelper.start_from_scratch(cache, args.jobs)
        from builder.build import BuildOptions, build

        report = build(BuildOptions(source=source, output=output, drafts=args.drafts, now=args.now,
                                    clean=args.clean, jobs=args.jobs, search=args.search), progress, cache)
    finally:
        cache.close()
        if progress is not None:
            progress.close()
    reporter.warnings(report.warnings)
    if report.up_to_date:
        reporter.info(f"{output} is up to date: nothing changed since the last build ({report.seconds:.2f} s)")
    else:
        search = f", search index {report.search_seconds:.2f} s" if report.search_seconds is not None else ""
        reporter.info(f"built {report.pages} pages into {output} in {report.seconds:.2f} s: {report.written} files "
                      f"written, {report.unchanged} unchanged, {report.removed} removed "
                      f"({report.parsed} articles parsed, {report.rendered} pages rendered{search})")
    if args.timings:
        reporter.info("  " + ", ".join(f"{step} {seconds:.2f} s" + (f" ({report.peaks[step]:.0f} MB)" if step in report.peaks
                                                                      else "") for step, seconds in report.timings.items()))
    if report.scheduled:
        when, what, title = report.scheduled[0]
        reporter.info(f"next: '{title}' {what} {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    return EXIT_OK


def _load_checked(args: argparse.Namespace) -> LoadedSite:
    """The site model for the commands that read it without building; any problem stops them."""
    from builder.load import load_site

    loaded = load_site(args.source, drafts=args.drafts, now=args.now, explain=getattr(args, "explain", False))
    if loaded.problems:
        raise BuildError(loaded.problems)
    return loaded


def _run_schedule(args: argparse.Namespace, reporter: Reporter) -> int:
    loaded = _load_checked(args)
    events = [{"when": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "action": what, "slug": a.slug,
               "title": a.title, "source": a.source} for when, what, a in loaded.scheduled]
    if args.json:
        print(json.dumps({"now": loaded.now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                          "next": events[0] if events else None, "upcoming": events}, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not events:
        reporter.info("nothing is scheduled")
    for event in events:
        reporter.info(f"{event['when']}  {event['action']:<9}  {event['title']}  ({event['source']})")
    return EXIT_OK


def _run_related(args: argparse.Namespace, reporter: Reporter) -> int:
    loaded = _load_checked(args)
    lists = loaded.relations.lists
    if args.slug is not None and args.slug not in lists:
        reporter.failure(f"no published article has the slug '{args.slug}'",
                         "run `builder related` to list every article's slug")
        return EXIT_PROBLEMS
    slugs = [args.slug] if args.slug else sorted(lists)
    if args.json:
        print(json.dumps({s: list(lists[s]) for s in slugs}, indent=2, ensure_ascii=False))
        return EXIT_OK
    site = loaded.site
    for slug in slugs:
        reporter.info(f"{slug}  ({site.article(slug).title})")
        if args.explain:
            for rank, item in enumerate(loaded.relations.explain(slug), start=1):
                reporter.info(f"  {rank}. {item.slug}  score {item.score:.3f}" + ("  [pinned]" if item.pinned else ""))
                parts = ", ".join(f"{name} {value:.3f}" for name, value in item.parts.items() if value)
                reporter.info(f"       {parts}")
                why = []
                if item.shared_terms:
                    why.append("shared terms: " + ", ".join(item.shared_terms))
                if item.shared_tags:
                    why.append("shared tags: " + ", ".join(item.shared_tags))
                if item.same_topic:
                    why.append("same topic")
                if item.same_author:
                    why.append("same author")
                why.append(f"{item.days_apart} days apart")
                reporter.info("       " + "; ".join(why))
        else:
            for related_slug in lists[slug]:
                reporter.info(f"  - {related_slug}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
