"""Full-text search: index the built site with Pagefind (a static index any web host can serve)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from builder.errors import Problem

INDEX_FOLDER = "pagefind"


def build_index(site: Path) -> Path | Problem:
    """Index the article pages of SITE into a new temporary folder; the caller moves it into place."""
    bundle = Path(tempfile.mkdtemp(prefix=".pagefind-", dir=site.parent)) / INDEX_FOLDER
    command = [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", str(bundle), "--silent"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(bundle.parent, ignore_errors=True)
        return Problem(INDEX_FOLDER, None, f"the search index could not be built: {exc}",
                       "install the Python package 'pagefind[bin]', or build with --no-search")
    if done.returncode != 0 or not (bundle / "pagefind-ui.js").is_file():
        shutil.rmtree(bundle.parent, ignore_errors=True)
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return Problem(INDEX_FOLDER, None, f"the search index could not be built: {detail[0]}",
                       "install the Python package 'pagefind[bin]', or build with --no-search")
    return bundle
