"""Save-to-browser latency of `builder serve`: a Markdown file is written, how long until the page shows it?

Usage: python benchmarks/serve_latency.py [--sites sample,1000,10000] [--repeat 7]

For each site, `python -m builder serve` runs in its own process (as a user would run it) and
headless Chromium opens one article. Each sample rewrites that article's body with a new marker
word, then waits for the reloaded page's DOMContentLoaded and checks the marker is there; the
latency is the time from just before the write to that event, as seen from this process. Every
other save also adds a sentence of ordinary words, so each save changes the article's vocabulary
(and with it the text statistics the related lists use). The server's own "built ... in X s" lines give the build share of it.

"sample" is a copy of the repository's sample portal (content/, portal.toml, themes/); the
numbered sites are N generated articles in a temporary folder: by default (`--corpus simple`)
about 300 words each from a 57-word vocabulary, 7 topics, tags and authors from small pools;
with `--corpus news`, the peer benchmark's articles (benchmarks/corpus.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-27T12:00:00Z"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
TOPICS = ["peace", "rights", "culture", "economy", "education", "climate", "faith"]
WORDS = ["ceasefire", "talks", "mediator", "village", "water", "court", "ruling", "school", "teacher", "harvest",
         "market", "cooperative", "border", "monitor", "envoy", "festival", "choir", "river", "drought", "solar",
         "forest", "refugee", "return", "housing", "justice", "archive", "testimony", "council", "elder", "youth",
         "women", "union", "wages", "clinic", "nurse", "road", "bridge", "well", "rain", "seed", "loan", "radio",
         "newspaper", "museum", "language", "song", "dialogue", "prayer", "shrine", "volunteer", "truce", "accord",
         "patrol"]
EDIT_SENTENCE = ("Residents met the mediator at the river crossing to agree on water sharing, "
                 "school repairs and a weekly market.")
GLUE = ["the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as", "was", "by", "at", "from",
        "it", "be", "are", "this", "has"]


def generate(count: int, root: Path) -> Path:
    """COUNT articles under root/content; the same COUNT always gives the same files."""
    rng = random.Random(count)
    (root / "content").mkdir(parents=True)
    (root / "portal.toml").write_text('title = "Benchmark Dispatch"\nbase_url = "https://bench.example.org/"\n')
    for i in range(count):
        topic = TOPICS[i % len(TOPICS)]
        words = rng.sample(WORDS, 12)
        paragraphs = [" ".join(rng.choice(words + GLUE) for _ in range(60)).capitalize() + "." for _ in range(5)]
        folder = root / "content" / topic
        folder.mkdir(exist_ok=True)
        (folder / f"report-{i:05}.md").write_text(
            f"---\ntitle: Report {i} on {words[0]} and {words[1]}\ndate: {2016 + i % 10}-{1 + i % 12:02}-"
            f"{1 + i % 28:02}\ntags: [{', '.join(words[:3])}]\nauthor: Writer {i % 40}\n---\n\n"
            + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return root


def news_corpus(count: int, root: Path) -> Path:
    """COUNT articles from the peer benchmark's generator (longer, with a realistic vocabulary)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from corpus import generate as generate_news

    return generate_news(count, root)


def copy_sample(root: Path) -> Path:
    for name in ("content", "themes"):
        shutil.copytree(ROOT / name, root / name)
    shutil.copy2(ROOT / "portal.toml", root / "portal.toml")
    return root


class Server:
    """`builder serve` in a child process; keeps reading its output so it never blocks on a full pipe."""

    def __init__(self, source: Path) -> None:
        command = [sys.executable, "-m", "builder", "serve", "--port", "0", "--source", str(source), "--now", NOW]
        self.proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.url = ""
        ready = threading.Event()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip())
                if match := re.search(r"serving (http://\S+)", line):
                    self.url = match.group(1)
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        ready.wait()
        if not self.url:
            raise SystemExit("builder serve did not start:\n" + "\n".join(self.lines))

    def build_seconds(self) -> list[float]:
        return [float(m.group(1)) for line in self.lines if (m := re.search(r"^built .* in ([\d.]+) s", line))]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=600)


@dataclass
class Result:
    first_build: float  # seconds
    samples: list[float]  # seconds from the write to the reloaded page's DOMContentLoaded
    builds: list[float]  # seconds the server reported for the rebuild behind each sample


def measure(source: Path, article: Path, repeat: int) -> Result:
    from playwright.sync_api import sync_playwright

    original = article.read_text(encoding="utf-8").replace("\n---\n", "\n---\n\nbenchmarkanchor\n", 1)
    article.write_text(original, encoding="utf-8")
    server = Server(source)
    preview = source / ".cache/preview"
    page_file = next(p for p in preview.glob("*/*/index.html") if "benchmarkanchor" in p.read_text())
    url_path = page_file.parent.relative_to(preview).as_posix() + "/"
    samples: list[float] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url + url_path)
            for i in range(repeat + 1):  # the first round warms up caches and is not counted
                marker = f"latencymarker{i}x{random.randrange(10**9)}"
                # every other save also adds a sentence of ordinary words, so the article's
                # vocabulary changes at each save (as when an editor writes), not just one new word
                sentence = EDIT_SENTENCE if i % 2 else ""
                text = original.replace("\n---\n", f"\n---\n\n{marker} {sentence}\n", 1)
                page.wait_for_function("window.__builder && window.__builder.connected")
                with page.expect_event("domcontentloaded", timeout=600_000):
                    begin = time.perf_counter()
                    article.write_text(text, encoding="utf-8")
                elapsed = time.perf_counter() - begin
                if marker not in page.content():
                    raise SystemExit(f"the reloaded page does not show {marker}")
                if i:
                    samples.append(elapsed)
            browser.close()
    finally:
        article.write_text(original, encoding="utf-8")
        server.stop()
    builds = server.build_seconds()
    return Result(builds[0], samples, builds[2:2 + repeat])  # without the first build and the warm-up round


def describe_machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown CPU")
    cpus = f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))})"
    return f"{cpus}, {model}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sites", default="sample,1000,10000", help="comma-separated: sample and/or article counts")
    parser.add_argument("--repeat", type=int, default=7, help="samples per site (default: 7)")
    parser.add_argument("--corpus", choices=("simple", "news"), default="simple",
                        help="generated sites: 'simple' (short articles from a 57-word vocabulary, the default) "
                             "or 'news' (benchmarks/corpus.py, the peer benchmark's corpus)")
    args = parser.parse_args(argv)
    print(describe_machine())
    for site in args.sites.split(","):
        with tempfile.TemporaryDirectory(prefix="serve-latency-") as temp:
            root = Path(temp) / "site"
            if site == "sample":
                source, article = copy_sample(root), root / "content/human-rights/kestrel-hill-water-ruling.md"
            elif args.corpus == "news":
                source = news_corpus(int(site), root)
                article = min((root / "content").rglob("*.md"))
            else:
                source = generate(int(site), root)
                article = root / "content" / TOPICS[0] / "report-00000.md"
            result = measure(source, article, args.repeat)
        samples = [round(s * 1000) for s in result.samples]
        builds = [round(s * 1000) for s in result.builds]
        print(f"{site}: first build {result.first_build:.2f} s; save to browser median "
              f"{statistics.median(samples)} ms, samples {samples} ms; rebuilds {builds} ms", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
