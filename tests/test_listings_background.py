"""A cold build renders the listing pages in a background process while it works out the related
lists: the same site as a build in one process, whatever the background does."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import article, write_files

from builder.build import BuildOptions, build

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
TOPICS = ["Peace", "Culture", "Human Rights"]

# A CLI-like build in a fresh interpreter (no pytest threads, so it may fork), with the background's
# work replaced as MODE says; prints whether each background asked for started.
_BUILD = """
import json, os, sys
from pathlib import Path
from builder import build as b
from datetime import datetime
from builder.output import stage

root, output, mode, now = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], datetime.fromisoformat(sys.argv[4])
started, returned = [], []
real_render, real_start = b._render_listings, b.start_listings

def render(prep, writer, cache):
    if mode == "fails":
        raise RuntimeError("a mistake in the background")
    if mode == "dies":
        os._exit(3)
    done = real_render(prep, writer, cache)
    if mode == "strays":  # a page this build never planned, staged as if it had been
        done.append(("stray/index.html", stage(writer.output, writer.staging, "stray/index.html", b"old"), None))
    returned.append(len(done))
    return done

def start(*args):
    background = real_start(*args)
    started.append(background is not None)
    return background

b._render_listings, b.start_listings = render, start
if mode == "big":  # a site of more articles than a render round holds
    b.ROUND_ITEMS = 100
b.build(b.BuildOptions(root, output, now=now, jobs=2))
print(json.dumps({"started": started}))
"""


def _portal(root: Path, count: int = 260) -> Path:
    files = {f"content/a{i:03}.md": article(f"Story number {i}", date=f"2025-{1 + i % 12:02}-{1 + i % 28:02}",
                                            topic=TOPICS[i % 3], tags=[f"t{i % 31}", f"u{i % 17}"],
                                            author=f"Writer {i % 23}",
                                            body=f"Paragraph about subject {i % 9} and theme {i % 4}.")
             for i in range(count)}
    return write_files(root, files)


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _build_in_background(root: Path, output: Path, mode: str = "") -> list[bool]:
    done = subprocess.run([sys.executable, "-c", _BUILD, str(root), str(output), mode, NOW.isoformat()],
                          capture_output=True, text=True, check=True)
    started: list[bool] = json.loads(done.stdout.splitlines()[-1])["started"]
    return started


@pytest.mark.parametrize("mode", ["", "fails", "dies", "strays"])
def test_listings_from_the_background_make_the_same_site_as_one_process(tmp_path: Path, mode: str) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, tmp_path / "alone", now=NOW, jobs=1, clean=True))
    # a failed or dead background leaves its pages to the build; pages it staged that the build
    # did not plan are taken back
    assert _build_in_background(root, root / "site", mode) == [True]
    assert _tree(root / "site") == _tree(tmp_path / "alone")
    assert not (root / "site" / "stray").exists()


def test_only_a_build_that_plans_every_page_anew_starts_one(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    assert _build_in_background(root, root / "site") == [True]
    path = root / "content" / "a007.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Story number 7", "Story number seven"),
                    encoding="utf-8")
    # an edit re-plans a few listings only: rendering them here costs less than a process
    assert _build_in_background(root, root / "site") == []
    assert _build_in_background(root, tmp_path / "elsewhere") == [True]  # (no pages of a last build there)
    build(BuildOptions(root, tmp_path / "alone", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "alone") == _tree(tmp_path / "elsewhere")


def test_neither_a_small_site_nor_a_big_one_starts_one(tmp_path: Path) -> None:
    assert _build_in_background(_portal(tmp_path / "small", count=40), tmp_path / "small-out") == []
    # (above a render round's worth of articles, its copy of the build's memory would be too big)
    root = _portal(tmp_path / "big")
    assert _build_in_background(root, root / "site", "big") == []
    build(BuildOptions(root, tmp_path / "alone", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "alone")
