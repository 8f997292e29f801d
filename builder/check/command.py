"""`builder check` on the command line: build into a temporary folder, run the checks, report."""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from builder.errors import BuildError, Problem
from builder.report import Reporter

if TYPE_CHECKING:
    from builder.check import rules

EXIT_OK, EXIT_PROBLEMS = 0, 1


def add_check_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `check` on the CLI's subparsers, with the options every command shares."""
    from builder.cli import _common  # cli is complete by the time it builds its parser

    check = commands.add_parser("check", help="build into a temporary folder and report broken links, missing "
                                "images and other mistakes")
    _common(check)
    check.add_argument("--external", action="store_true",
                       help="also check links to other sites (needs the network; at most 8 requests at a time)")
    check.set_defaults(run=run_check)


def run_check(args: argparse.Namespace, reporter: Reporter) -> int:
    # here: `builder build` never loads the checks, and starts its related helper before it
    # loads the build's own modules (builder.cli)
    from builder.build import BuildOptions, build
    from builder.cache import Cache
    from builder.check import rules
    from builder.check.scan import BuiltSite
    from builder.load import load_site
    from builder.search import INDEX_FOLDER
    from builder.urls import Urls

    source: Path = args.source
    now = args.now or datetime.now(UTC)  # one moment for the build and the model, so both see the same articles
    with tempfile.TemporaryDirectory(prefix="builder-check-") as temp:
        output = Path(temp) / "site"
        # clean: the cache in SOURCE/.cache describes SOURCE/site, and must keep doing so.
        report = build(BuildOptions(source=source, output=output, drafts=args.drafts, now=now, clean=True))
        reporter.warnings(report.warnings)
        cache = Cache(source, enabled=False)
        try:
            loaded = load_site(source, drafts=args.drafts, now=now, cache=cache)
            if loaded.problems:  # only if a file changed since the build a moment ago
                raise BuildError(loaded.problems)
            config = loaded.config
            inputs = rules.Inputs(source, loaded, cache.bodies.get,
                                  BuiltSite(output, config.base_path, config.origin, unbuilt=(INDEX_FOLDER,)),
                                  Urls(config.base_path, config.origin))
            problems, pages, links = _run_rules(inputs, check_external=args.external)
        finally:
            cache.close()
    for problem in sorted(set(problems), key=lambda p: (p.path, p.line or 0, p.message)):
        reporter.info(str(problem))
    checked = f"{pages} pages and {links} links checked"
    if problems:
        files = len({p.path for p in problems})
        noun = "problem" if len(problems) == 1 else "problems"
        reporter.info(f"check: {len(problems)} {noun} in {files} {'file' if files == 1 else 'files'} ({checked})")
        return EXIT_PROBLEMS
    reporter.info(f"check: no problems found ({checked})")
    return EXIT_OK


def _run_rules(inputs: rules.Inputs, *, check_external: bool) -> tuple[list[Problem], int, int]:
    from builder.check import external, rules

    bodies = rules.check_bodies(inputs)
    problems = list(bodies.problems)
    from_templates, template_links = rules.check_templates(inputs, bodies.in_page)
    problems += from_templates
    problems += rules.check_topic_reach(inputs)
    problems += rules.check_duplicate_titles(inputs)
    problems += rules.check_data_files(inputs)
    links = bodies.links + template_links
    if check_external and bodies.external:
        failed = external.failures(link.url for link in bodies.external)
        for link in bodies.external:
            if link.url in failed:
                problems.append(Problem(link.article.source, link.line,
                                        f"external link '{link.shown}' fails: {failed[link.url]}",
                                        "open it in a browser; fix the address or remove the link"))
    return problems, len(inputs.built.pages()), links
