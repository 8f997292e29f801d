"""Deterministic generator of news-like articles for benchmarks: `python benchmarks/corpus.py N DIR`.

Each article has front matter (title, date over ten years, topic, 2-4 tags that lean towards
its topic, 1-2 authors, summary) and a Markdown body of 600-1,400 words with headings, lists,
links, emphasis, strong text and quotes, drawn from its topic's vocabulary and words of its own
story. The same N always gives the same files.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

TOPICS = {
    "human-rights": ("Human Rights", "court ruling rights detention lawyers justice testimony petition tribunal "
                     "evictions housing freedom press prisoners asylum appeal dignity investigation archive"),
    "peace-security": ("Peace and Security", "ceasefire talks negotiators mediators disarmament weapons monitors "
                       "truce envoy border patrol convoy agreement demobilisation checkpoint militia accord"),
    "culture": ("Culture", "festival music choir artists mural theatre language poetry museum dancers film "
                "songs heritage storytellers exhibition craft library audience"),
    "sustainability": ("Sustainability", "water wells river drought solar energy mangroves forest harvest "
                       "irrigation climate soil rainfall reservoir emissions recycling farmers"),
    "education": ("Education", "schools teachers pupils curriculum exams classrooms textbooks university "
                  "literacy scholarships students lessons principal enrolment homework"),
    "interfaith": ("Interfaith Dialogue", "mosque church synagogue temple clergy believers prayer pilgrims "
                   "congregation shrine imam priest rabbi faith worship sermon"),
    "economy": ("Fair Economy", "cooperative wages workers trade prices loans market factory union coffee "
                "microcredit exports budget incomes jobs growers"),
}
COMMON = [
    "the", "a", "of", "and", "to", "in", "that", "for", "on", "with", "as", "by", "at", "from", "said", "people",
    "local", "new", "year", "after", "more", "their", "have", "been", "which", "would", "community", "support",
    "officials", "since", "group", "two", "last", "week", "both", "many", "first", "families", "region",
    "government", "village", "city", "plan", "report", "years", "month",
]
PLACES = ["Tesk", "Orra", "Belmora", "Vareno", "Lisnik", "Dovrenka", "Aldessa", "Kestrel", "Halvan", "Sellin", "Rusk",
          "Marenia"]
AUTHORS = [f"{first} {last}" for first in ("Ana", "Bo", "Cleo", "Dario", "Esra", "Femi", "Greta", "Hana")
           for last in ("Ruiz", "Chen", "Park", "Osei", "Lund", "Novak")]


# Inline Markdown a sentence may get on one of its words: (probability, how the word is marked)
MARKUP: list[tuple[float, Callable[[str], str]]] = [
    (0.2, lambda w: f"*{w}*"),
    (0.1, lambda w: f"**{w}**"),
    (0.12, lambda w: f"[{w}](https://example.org/{w.strip('*')})"),
    (0.1, lambda w: f'"{w}"'),
]


def sentence(rng: random.Random, words: list[str], length: int) -> str:
    picked = [rng.choice(words) if rng.random() < 0.45 else rng.choice(COMMON) for _ in range(length)]
    if rng.random() < 0.3:
        picked[rng.randrange(length)] = rng.choice(PLACES)
    for chance, mark in MARKUP:
        if rng.random() < chance:
            i = rng.randrange(length)
            picked[i] = mark(picked[i])
    text = " ".join(picked)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, words: list[str]) -> str:
    return " ".join(sentence(rng, words, rng.randint(9, 22)) for _ in range(rng.randint(3, 6)))


SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "sel", "dun", "pra", "ne", "gol", "fi", "bar", "tu", "ost", "ham",
             "li", "zem", "cor", "ya"]


def coined(rng: random.Random, count: int) -> list[str]:
    """Made-up words: the names, places and specialist terms that make each story its own."""
    return ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(count)]


# Each topic has a large vocabulary of its own beside its headline words, so two articles of a
# topic share the topic's language without being near-copies of each other.
_VOCABULARY_RNG = random.Random(1987)
TOPIC_TERMS = {slug: words.split() + coined(_VOCABULARY_RNG, 300) for slug, (_title, words) in TOPICS.items()}


def article(index: int, rng: random.Random, start: datetime) -> tuple[str, str]:
    slug_topic = rng.choice(sorted(TOPICS))
    title_words, vocab = TOPICS[slug_topic][0], TOPICS[slug_topic][1].split()
    other = TOPICS[rng.choice(sorted(TOPICS))][1].split()
    # The story's own words (a few dozen of the topic's), the topic's headline words, a little of
    # another topic: articles of a topic are related, each story distinct.
    story = rng.sample(TOPIC_TERMS[slug_topic], 40)
    words = story * 3 + vocab + other
    title = f"{rng.choice(PLACES)} {rng.choice(vocab)} {rng.choice(COMMON)} {rng.choice(vocab)} {index}"
    date = start + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
    tags = sorted({rng.choice(vocab).title() for _ in range(rng.randint(1, 3))} | {rng.choice(other).title()})
    authors = sorted({rng.choice(AUTHORS) for _ in range(rng.randint(1, 2))})
    body = [paragraph(rng, words), paragraph(rng, words)]
    for _ in range(rng.randint(3, 6)):
        body.append(f"## {sentence(rng, vocab, rng.randint(3, 6))[:-1]}")
        body.append(paragraph(rng, words))
        kind = rng.random()
        if kind < 0.3:
            body.append("\n".join(f"- {sentence(rng, words, rng.randint(4, 9))}" for _ in range(rng.randint(3, 5))))
        elif kind < 0.5:
            body.append(f"> {sentence(rng, words, rng.randint(10, 18))}")
        elif kind < 0.7:
            body.append(f"Read the [full report](https://example.org/reports/{index}) on {rng.choice(PLACES)}.")
        body.append(paragraph(rng, words))
    front = "\n".join([
        "---",
        f"title: {json.dumps(title_words + ': ' + title)}",
        f"date: {date:%Y-%m-%d %H:%M}",
        f"topic: {title_words}",
        f"tags: [{', '.join(tags)}]",
        f"author: [{', '.join(authors)}]",
        f"summary: {json.dumps(sentence(rng, words, rng.randint(14, 24)).replace('*', ''))}",
        "---",
    ])
    return f"content/{slug_topic}/article-{index:06}.md", front + "\n\n" + "\n\n".join(body) + "\n"


def generate(count: int, root: Path, seed: int = 20261127) -> Path:
    rng = random.Random(seed)
    start = datetime(2016, 1, 1)
    for index in range(count):
        rel, text = article(index, rng, start)
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "portal.toml").write_text(
        'title = "Benchmark Portal"\nbase_url = "https://bench.example.org/"\nper_page = 10\n'
        + "".join(f'\n[[topics]]\nslug = "{slug}"\ntitle = "{title}"\n' for slug, (title, _) in TOPICS.items()),
        encoding="utf-8")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    generate(args.count, args.folder)
    print(f"wrote {args.count} articles to {args.folder}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
