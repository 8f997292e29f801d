"""The rebuild callable handed to the server: build SOURCE into its preview folder and say how it went.

The only module of builder.serve that knows the build pipeline.
"""

from __future__ import annotations

import traceback
from datetime import datetime
from pathlib import Path

from builder.build import BuildOptions, build
from builder.cache import Cache
from builder.config import load_config
from builder.errors import BuildError, Problem
from builder.output import OutputRefused, check_output_folder
from builder.report import Reporter
from builder.serve.status import BuildOutcome

PREVIEW_FOLDER = Path(".cache") / "preview"  # git-ignored; never the user's site/


def preview_folder(source: Path) -> Path:
    """SOURCE/.cache/preview; raises OutputRefused when it holds files builder did not make."""
    output = source / PREVIEW_FOLDER
    try:
        check_output_folder(source, output)
    except OutputRefused as exc:
        raise OutputRefused(str(exc), f"delete {output}; builder serve makes it again") from None
    return output


class PreviewBuild:
    def __init__(self, source: Path, output: Path, origin: str, reporter: Reporter, *, drafts: bool = False,
                 now: datetime | None = None, debug: bool = False) -> None:
        self.source = source
        self.output = output
        self.origin = origin  # http://host:port, the base path comes from portal.toml at each build
        self.reporter = reporter
        self.drafts = drafts
        self.now = now
        self.debug = debug
        # One cache for the whole session, in memory between builds, written when the session ends.
        self.cache = Cache(source, persist=False)

    def close(self) -> None:
        self.cache.persist_now()
        self.cache.close()

    def __call__(self, changes: frozenset[str]) -> BuildOutcome:
        if changes:
            shown = sorted(changes)
            more = f" and {len(shown) - 3} more" if len(shown) > 3 else ""
            self.reporter.info(f"changed: {', '.join(shown[:3])}{more}")
        try:
            base_path = load_config(self.source).base_path
            report = build(BuildOptions(self.source, self.output, drafts=self.drafts, now=self.now,
                                        base_url=self.origin + base_path), cache=self.cache)
        except BuildError as exc:
            self.reporter.problems(exc.problems)
            return BuildOutcome(problems=exc.problems)
        except OutputRefused as exc:
            self.reporter.failure(str(exc), exc.hint)
            return BuildOutcome(problems=(Problem(str(PREVIEW_FOLDER), None, str(exc), exc.hint),))
        except Exception as exc:  # a bug in builder: keep serving, say so plainly
            if self.debug:
                traceback.print_exc()
            message = f"builder stopped on an internal error: {type(exc).__name__}: {exc}"
            hint = "run again with --debug for the details and report them to the builder developers"
            self.reporter.failure(message, hint)
            return BuildOutcome(problems=(Problem("builder", None, message, hint),))
        self.reporter.warnings(report.warnings)
        self.reporter.info(f"built {report.pages} pages: {len(report.changed)} files changed "
                           f"in {report.seconds:.2f} s")
        return BuildOutcome(changed=report.changed, base_path=base_path)
