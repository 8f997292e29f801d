"""Related-articles quality on real newswire text: precision@5 and coverage on the Reuters sample.

Usage: python benchmarks/related_quality.py [--count 5] [--text-only]

Reads ../shared/data/related-reuters/ (beside the repository) when it is there, builds every
article's list with builder.related.relate(), writes them to a temporary JSON file and scores
it with ../shared/tools/eval_related.py against the hidden topic labels (only the evaluator
reads those). Without the data it says so and exits 0. The texts are never copied into the
repository.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from builder.config import RelatedWeights
from builder.related import RelatedDoc, relate

DATA = ROOT.parent / "shared" / "data" / "related-reuters"
EVALUATOR = ROOT.parent / "shared" / "tools" / "eval_related.py"


def read_article(path: Path) -> RelatedDoc:
    """One Markdown file with YAML front matter (title, slug, date) as a RelatedDoc."""
    raw = path.read_text(encoding="utf-8")
    meta: dict[str, object] = {}
    body = raw
    if raw.startswith("---"):
        _, front, body = raw.split("---", 2)
        meta = yaml.safe_load(front) or {}
    date = meta.get("date")
    if isinstance(date, str):
        date = datetime.fromisoformat(date)
    if not isinstance(date, datetime):
        date = datetime(1987, 1, 1, tzinfo=UTC)
    if date.tzinfo is None:
        date = date.replace(tzinfo=UTC)
    return RelatedDoc(slug=str(meta.get("slug") or path.stem), title=str(meta.get("title") or ""), summary="",
                      text=body.strip(), topic="", tags=(), authors=(), date=date)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5)
    parser.add_argument("--text-only", action="store_true", help="weigh text alone (no recency)")
    args = parser.parse_args()
    if not (DATA / "content" / "news").is_dir() or not EVALUATOR.is_file():
        print(f"related_quality: no corpus at {DATA} (or no evaluator); nothing to measure")
        return 0
    docs = [read_article(p) for p in sorted((DATA / "content" / "news").glob("*.md"))]
    weights = RelatedWeights(tags=0, topic=0, author=0, recency=0) if args.text_only else RelatedWeights()
    cache: dict[str, object] = {}
    started = time.perf_counter()
    relations = relate(docs, count=args.count, weights=weights, analyses=cache)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    relate(docs, count=args.count, weights=weights, analyses=cache)
    warm = time.perf_counter() - started
    full = sum(len(v) == args.count for v in relations.lists.values()) / len(docs)
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "related.json"
        out.write_text(json.dumps({k: list(v) for k, v in relations.lists.items()}), encoding="utf-8")
        result = subprocess.run([sys.executable, str(EVALUATOR), str(DATA / "labels.json"), str(out),
                                 "--k", str(args.count)], capture_output=True, text=True, check=False)
    lines = result.stdout.strip().splitlines()
    wanted = ("precision@1", f"precision@{args.count}", "coverage", "macro", "chance")
    for line in lines:
        if line.startswith(wanted):
            print(line)
    print(f"weights: {weights}")
    print(f"articles: {len(docs)}  lists with {args.count} items: {full:.3f}  "
          f"relate(): {cold:.2f} s cold, {warm:.2f} s warm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
