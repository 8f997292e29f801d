"""Hostile inputs: build very big or odd sites, and show that time and memory grow about linearly.

Each case is generated into a temporary folder at full size and at half size, then built with
`python -m builder build --source X --clean` in a fresh process. Printed per build: wall time, the
build's own timings, and the peak memory of the largest process (GNU time's "maximum resident set
size", or getrusage of a wrapper process where /usr/bin/time is missing). The last column is
time(full) / time(half): about 2.0 means linear growth, about 4.0 quadratic.

    python benchmarks/hostile_inputs.py                  # every case, full and half size
    python benchmarks/hostile_inputs.py --cases tags,deep --scale 0.1
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GNU_TIME = "/usr/bin/time"


def front(title: str, date: str = "2025-05-01", **fields: str) -> str:
    extra = "".join(f"{key}: {value}\n" for key, value in fields.items())
    return f"---\ntitle: {title}\ndate: {date}\n{extra}---\n\n"


def huge_article(root: Path, megabytes: float) -> str:
    """One article of about MEGABYTES of varied Markdown: headings, links, lists, quotes, footnotes."""
    parts, size, n = [], 0, 0
    while size < megabytes * 1_000_000:
        note = f"[^n{n}]" if n % 20 == 0 else ""
        section = (f"## Section {n}\n\nA paragraph with *emphasis*, a [link](other.md), "
                   f"[another](#section-{n // 2}) and \"quotes\" "
                   f"-- an aside... and more words about water, schools and mediation in part {n}.{note}\n\n"
                   f"- a first point\n- a second point with `code`\n\n> A quotation from section {n}.\n\n"
                   + (f"[^n{n}]: A note for section {n}.\n\n" if note else ""))
        parts.append(section)
        size += len(section)
        n += 1
    write(root / "content/peace/huge.md", front("A huge article") + "".join(parts))
    write(root / "content/peace/other.md", front("The other article", "2025-04-01") + "Short.\n")
    return f"{size / 1e6:.1f} MB, {n:,} sections"


def many_tags(root: Path, count: float) -> str:
    tags = ", ".join(f"tag {i}" for i in range(int(count)))
    write(root / "content/peace/tagged.md", front("An article with many tags", tags=f"[{tags}]") + "Body.\n")
    return f"{int(count):,} tags"


def many_articles(root: Path, count: float) -> str:
    for i in range(int(count)):
        write(root / f"content/peace/a{i:05}.md",
              front(f"Article number {i}", f"2025-{1 + i % 12:02}-{1 + i % 28:02}", tags=f"[t{i % 50}, u{i % 7}]",
                    author=f"Writer {i % 20}") + f"Paragraph about subject {i % 17} and word {i}.\n")
    return f"{int(count):,} articles in one folder"


def deep_folders(root: Path, depth: float) -> str:
    """Folders nested DEPTH deep, an article at every level (so there is something to scale)."""
    folder = root / "content/peace"
    for level in range(int(depth)):
        folder = folder / f"level-{level}"
        up = "[up](../story.md) " if level else ""
        write(folder / "story.md", front(f"Story at level {level}") + f"{up}Level {level}.\n")
    return f"{int(depth)} levels, {int(depth)} articles"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@dataclass(frozen=True)
class Case:
    name: str
    full: float
    make: Callable[[Path, float], str]
    expect: Callable[[Path, float], bool]  # the built site holds what it must


CASES = [
    Case("huge-article", 10.0, huge_article,
         lambda out, mb: (out / "peace/a-huge-article/index.html").stat().st_size > mb * 900_000),
    Case("many-tags", 10_000, many_tags,
         lambda out, n: len(list((out / "tags").glob("tag-*/index.html"))) == int(n)),
    Case("many-articles", 5_000, many_articles,
         lambda out, n: len([p for p in (out / "peace").iterdir() if p.name.startswith("article-number")]) == int(n)),
    Case("deep-folders", 50, deep_folders,
         lambda out, n: (out / f"peace/story-at-level-{int(n) - 1}/index.html").is_file()),
]


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mb: float
    summary: str


def build(source: Path, extra: list[str]) -> Measured:
    command = [sys.executable, "-m", "builder", "build", "--source", str(source), "--clean", *extra]
    started = time.perf_counter()
    if os.access(GNU_TIME, os.X_OK):
        done = subprocess.run([GNU_TIME, "-f", "peak-kb %M", *command], capture_output=True, text=True, cwd=REPO, check=False)
        peak = re.search(r"peak-kb (\d+)", done.stderr)
        peak_kb = int(peak.group(1)) if peak else 0
    else:  # a wrapper process whose children are only this build
        wrapper = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
                   "print('peak-kb', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
                   "sys.exit(code)")
        done = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, cwd=REPO, check=False)
        peak = re.search(r"peak-kb (\d+)", done.stderr)
        peak_kb = int(peak.group(1)) if peak else 0
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"build of {source} failed:\n{done.stdout}\n{done.stderr}")
    inner = re.search(r"(\d+\.\d+) s\b", done.stdout)
    search = re.search(r"search index ([\d.]+) s", done.stdout)
    summary = f"build {inner.group(1) if inner else '?'} s" + (f", search {search.group(1)} s" if search else "")
    return Measured(seconds, peak_kb / 1024, summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(c.name for c in CASES), help="comma-separated case names")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.1 for a quick look)")
    parser.add_argument("--no-search", action="store_true", help="pass --no-search to the builds")
    args = parser.parse_args()
    chosen = [c for c in CASES if c.name in args.cases.split(",")]
    extra = ["--no-search"] if args.no_search else []
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, peak memory from "
          f"{'GNU time' if os.access(GNU_TIME, os.X_OK) else 'getrusage'}")
    print(f"{'case':<15} {'size':<34} {'wall':>8} {'peak':>8}  {'(builder says)':<30} {'full/half':>9}")
    for case in chosen:
        results = []
        for fraction in (1.0, 0.5):
            size = case.full * args.scale * fraction
            with tempfile.TemporaryDirectory(prefix=f"hostile-{case.name}-") as temp:
                source = Path(temp)
                label = case.make(source, size)
                measured = build(source, extra)
                if not case.expect(source / "site", size):
                    raise SystemExit(f"{case.name}: the built site is missing pages")
                shutil.rmtree(source / "site", ignore_errors=True)
            results.append(measured)
            ratio = f"{results[0].seconds / measured.seconds:>9.2f}" if fraction == 0.5 else ""
            print(f"{case.name if fraction == 1.0 else '':<15} {label:<34} {measured.seconds:>7.2f}s "
                  f"{measured.peak_mb:>6.0f}MB  {measured.summary:<30} {ratio}", flush=True)


if __name__ == "__main__":
    main()
