"""Time builder.related.relate() on seeded synthetic articles: cold, with a warm analyses cache, and
updating the lists after one article is edited (checked against a fresh run).

Usage: python benchmarks/related_scale.py [--sizes 1000,10000,100000] [--count 5] [--seed 7]

Each size runs in its own child process so that "peak memory" (max RSS, from
resource.getrusage) belongs to that size alone. The generator mixes topical vocabularies:
every article has a main story (with its own words, tags, authors, section and time span),
sometimes a second one, plus general words and English function words, and about 1% of
articles are lightly edited republications, so text similarity, near-duplicates and the
other signals all have something real to find.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.related import RelatedDoc, relate

FUNCTION_WORDS = (
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "with", "as", "was", "by",
    "at", "from", "it", "be", "are", "this", "has", "have", "an", "which", "said", "will",
    "their", "its", "but", "not", "or", "were", "they", "been", "also", "who", "after", "more",
    "had", "would",
)
SYLLABLES = [c + v for c in "bcdfghjklmnprstvwz" for v in "aeiou"] + ["an", "el", "is", "or", "un"]


def _words(rng: np.random.Generator, n: int) -> np.ndarray:
    """N distinct pronounceable pseudo-words."""
    seen: dict[str, None] = {}
    while len(seen) < n:
        lengths = rng.integers(2, 5, size=n)
        picks = rng.integers(0, len(SYLLABLES), size=(n, 4))
        for length, row in zip(lengths, picks):
            seen.setdefault("".join(SYLLABLES[k] for k in row[:length]), None)
            if len(seen) == n:
                break
    return np.array(list(seen), dtype=object)


def _zipf(n: int, exponent: float = 1.05) -> np.ndarray:
    weights = 1.0 / np.arange(1, n + 1) ** exponent
    return np.cumsum(weights / weights.sum())


def synthetic_docs(n: int, seed: int = 7, stories_out: list[int] | None = None) -> list[RelatedDoc]:
    """N deterministic synthetic articles (same N and SEED -> the same articles).

    STORIES_OUT, when given, receives each article's main story: the ground truth of which
    articles belong together, for a quality check at sizes no labelled corpus has.
    """
    rng = np.random.default_rng(seed)
    stories = max(20, n // 40)
    # Like real news, the vocabulary grows with the corpus: general words, a pool of words
    # per section, and names and places of each story's own.
    vocabulary = _words(rng, 30_000 + 12 * 400 + 20 * stories)
    general = vocabulary[:30_000]
    general_cdf = _zipf(general.size, 1.0)
    sections = [f"section-{k}" for k in range(12)]
    story_section = rng.integers(0, len(sections), stories)
    pools = [vocabulary[30_000 + 400 * k : 30_000 + 400 * (k + 1)] for k in range(len(sections))]
    names = vocabulary[30_000 + 12 * 400 :]
    # a story mixes words of its section's pool (so stories of one section overlap) with its names
    story_words = [
        np.concatenate([names[20 * s : 20 * (s + 1)], pools[story_section[s]][rng.choice(400, 100, replace=False)]])
        for s in range(stories)
    ]
    story_words = [w[rng.permutation(w.size)] for w in story_words]
    story_cdf = _zipf(120, 0.9)
    n_tags = max(30, stories // 2)
    n_authors = 300
    story_tags = [rng.choice(n_tags, 3, replace=False) for _ in range(stories)]
    story_authors = [rng.choice(n_authors, 3, replace=False) for _ in range(stories)]
    start = datetime(2016, 1, 1, tzinfo=UTC)
    story_day = rng.uniform(0, 8 * 365, stories)
    function = np.array(FUNCTION_WORDS, dtype=object)

    def sentence(main: int, second: int | None, length: int, topical_share: float) -> str:
        kinds = rng.random(length)
        out = np.empty(length, dtype=object)
        fn = kinds < 0.4
        gen = (kinds >= 0.4) & (kinds < 1.0 - topical_share)
        top = kinds >= 1.0 - topical_share
        out[fn] = function[rng.integers(0, function.size, fn.sum())]
        out[gen] = general[np.searchsorted(general_cdf, rng.random(gen.sum()))]
        picks = np.searchsorted(story_cdf, rng.random(top.sum()))
        if second is not None:
            use_second = rng.random(top.sum()) < 0.3
            words = np.where(use_second, story_words[second][picks], story_words[main][picks])
        else:
            words = story_words[main][picks]
        out[top] = words
        return " ".join(out)

    docs: list[RelatedDoc] = []
    story_of: list[int] = []
    for i in range(n):
        if docs and rng.random() < 0.01:  # a republished story: the same text, a few words changed
            base_index = int(rng.integers(0, len(docs)))
            base = docs[base_index]
            story_of.append(story_of[base_index])
            words = base.text.split()
            for k in rng.integers(0, len(words), max(1, len(words) // 40)):
                words[k] = str(general[int(rng.integers(0, 2000))])
            docs.append(RelatedDoc(f"article-{i:06d}", base.title, base.summary, " ".join(words),
                                   base.topic, base.tags, base.authors,
                                   base.date + timedelta(days=float(rng.uniform(0, 30)))))
            continue
        main = int(rng.integers(0, stories))
        story_of.append(main)
        second = int(rng.integers(0, stories)) if rng.random() < 0.3 else None
        length = int(np.clip(rng.lognormal(5.6, 0.5), 60, 1500))
        tags = tuple(sorted({f"tag-{t}" for t in rng.choice(story_tags[main], int(rng.integers(0, 4)))}))
        authors = (f"author-{int(rng.choice(story_authors[main]))}",)
        day = float(np.clip(story_day[main] + rng.normal(0, 60), 0, 8 * 365))
        docs.append(RelatedDoc(
            slug=f"article-{i:06d}",
            title=sentence(main, None, int(rng.integers(5, 10)), 0.3).capitalize(),
            summary=sentence(main, second, int(rng.integers(15, 30)), 0.1),
            text=sentence(main, second, length, 0.05),
            topic=sections[story_section[main]] if rng.random() < 0.9 else "",
            tags=tags,
            authors=authors,
            date=start + timedelta(days=day),
        ))
    if stories_out is not None:
        stories_out[:] = story_of
    return docs


def measure(n: int, count: int, seed: int, repeat: int) -> dict[str, float]:
    """Generate N docs, then time relate() cold and warm (best of REPEAT); seconds and max RSS."""
    t0 = time.perf_counter()
    stories: list[int] = []
    docs = synthetic_docs(n, seed, stories)
    generated = time.perf_counter() - t0
    docs_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    cache: dict[str, object] = {}
    t0 = time.perf_counter()
    lists = relate(docs, count=count, analyses=cache).lists
    cold_s = time.perf_counter() - t0
    warm_s = float("inf")
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        # as in a build, each run's result replaces the last one's
        warm = relate(docs, count=count, analyses=cache).lists
        warm_s = min(warm_s, time.perf_counter() - t0)
        assert warm == lists, "warm and cold analyses gave different lists"
        del warm
    # one article edited (a passage of another article appended to its text), lists updated from
    # the last run's state; checked against a fresh run
    state = relate(docs, count=count, analyses=cache).state
    rng = random.Random(seed)
    update_s = float("inf")
    for _ in range(max(1, repeat)):
        at, other = rng.randrange(n), rng.randrange(n)
        edited = list(docs)
        edited[at] = replace(docs[at], text=f"{docs[at].text} {docs[other].text[:400]}")
        t0 = time.perf_counter()
        updated = relate(edited, count=count, analyses=cache, previous=state).lists
        update_s = min(update_s, time.perf_counter() - t0)
        assert updated == relate(edited, count=count, analyses=cache).lists, "the update differs from a fresh run"
        del updated, edited
    del state
    full = sum(len(v) == count for v in lists.values()) / len(docs)
    story = {d.slug: s for d, s in zip(docs, stories)}
    same = sum(story[r] == story[slug] for slug, items in lists.items() for r in items)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"docs": n, "generate_s": generated, "cold_s": cold_s, "warm_s": warm_s, "update_s": update_s,
            "coverage": full,
            "story_p": same / (count * len(docs)), "docs_rss_mb": docs_mb, "peak_rss_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated article counts")
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3, help="warm runs per size (the best is shown)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child mode: one size, JSON out
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one, args.count, args.seed, args.repeat)))
        return
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, {cpu}")
    print(f"{'docs':>8} {'generate s':>11} {'cold s':>8} {'warm s':>8} {'update s':>9} {'coverage':>9} {'same story':>11} "
          f"{'RSS before MB':>14} {'peak RSS MB':>12}")
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(size), "--count", str(args.count), "--seed", str(args.seed),
             "--repeat", str(args.repeat)],
            capture_output=True, text=True, check=False,
        )
        if child.returncode != 0:
            print(f"{size:>8} failed:\n{child.stderr}")
            continue
        r = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"{r['docs']:>8} {r['generate_s']:>11.1f} {r['cold_s']:>8.2f} {r['warm_s']:>8.2f} {r['update_s']:>9.2f} "
              f"{r['coverage']:>9.3f} {r['story_p']:>11.3f} {r['docs_rss_mb']:>14.0f} {r['peak_rss_mb']:>12.0f}")


if __name__ == "__main__":
    main()
