"""Incremental builds must equal clean builds, byte for byte, whatever sequence of edits came first."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import article, write_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.build import BuildOptions, build
from builder.cache import Cache

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
TOPICS = ["peace", "culture", "water"]
TAGS = ["Mediation", "Music", "Wells", "Youth", "Women"]
WORDS = ["ceasefire", "choir", "well", "river", "school", "festival", "talks", "harvest", "mural", "pump"]

BASE_FILES = {
    "portal.toml": 'title = "Incremental"\nbase_url = "https://example.org/"\nper_page = 2\ntheme = "local"\n',
    "themes/local/theme.toml": 'parent = "peace"\n',
    "themes/local/templates/404.html": '{% extends "base.html" %}{% block main %}<h1>Lost</h1>{% endblock %}\n',
    "content/_data/reads.csv": "slug,reads\n",
}


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class Site:
    """A small site on disk that edits change; every file gets an mtime older than two seconds and
    increasing, as real edits spread over time would, so the cache really trusts its stamps."""

    def __init__(self, root: Path, related: int = 5) -> None:
        self.root = root
        self.clock = 1_700_000_000
        self.articles: dict[str, dict[str, object]] = {}
        # related = 0 too: on a tiny site related lists name nearly every article, which would
        # hide a page that misses an edit elsewhere in its topic ("more in", previous, next)
        self.config = BASE_FILES["portal.toml"] + f"\n[related]\ncount = {related}\n"
        write_files(root, {**BASE_FILES, "portal.toml": self.config})
        for index in range(3):
            self.add(index)
        self.age_all()

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.clock += 10
        os.utime(path, (self.clock, self.clock))

    def age_all(self) -> None:
        for path in self.root.rglob("*"):
            if path.is_file() and ".cache" not in path.parts and "out" not in path.parts[len(self.root.parts):][:1]:
                os.utime(path, (self.clock, self.clock))

    def save(self, name: str) -> None:
        a = self.articles[name]
        fields = {"topic": a["topic"], "tags": a["tags"]}
        if a["draft"]:
            fields["draft"] = "true"
        if a.get("updated"):
            fields["updated"] = a["updated"]
        self.write(f"content/{name}.md", article(str(a["title"]), date=str(a["date"]), body=str(a["body"]), **fields))

    def add(self, index: int) -> None:
        name = f"story-{index}"
        title = f"Story {index} about {WORDS[index % len(WORDS)]}"
        if any(entry["title"] == title for other, entry in self.articles.items() if other != name):
            return  # (it was renamed): two articles at one address is the author's error, not an edit
        self.articles[name] = {"title": title,
                               "date": f"2026-0{1 + index % 9}-{10 + index % 18}", "topic": TOPICS[index % 3],
                               "tags": [TAGS[index % 5]], "body": f"The {WORDS[index % 10]} story {index}.",
                               "draft": False}
        self.save(name)

    def apply(self, operation: tuple[str, int, int]) -> None:
        kind, a, b = operation
        names = sorted(self.articles)
        if kind == "add" or not names:
            self.add(100 + a * 7 + b)
            return
        name = names[a % len(names)]
        entry = self.articles[name]
        if kind == "body":
            entry["body"] = f"{entry['body']} Now with {WORDS[b % 10]} and {WORDS[(a + b) % 10]}."
        elif kind == "title":
            entry["title"] = f"Renamed {WORDS[b % 10]} {name}"
        elif kind == "topic":
            entry["topic"] = TOPICS[b % 3]
        elif kind == "tags":
            entry["tags"] = sorted({TAGS[b % 5], TAGS[(a + b) % 5]})
        elif kind == "draft":
            entry["draft"] = not entry["draft"]
        elif kind == "date":  # moves it among its topic's and the site's articles, and in the sitemap
            entry["date"] = f"2026-0{1 + b % 9}-{10 + (a + b) % 18}"
        elif kind == "offset":  # the same moment at another UTC offset: the order stays, the cards' dates do not
            hour = 1 + b % 5
            entry["date"] = f"'{str(entry['date']).strip(chr(39))[:10]} 0{hour}:00+0{hour}:00'"
        elif kind == "updated":  # the sitemap's and the card's update date
            entry["updated"] = f"2026-10-{10 + b}"
        elif kind == "delete":
            del self.articles[name]
            (self.root / f"content/{name}.md").unlink()
            return
        elif kind == "rename":
            new = f"{name}-moved{b}"
            if new in self.articles:
                return
            self.articles[new] = self.articles.pop(name)
            (self.root / f"content/{name}.md").unlink()
            self.save(new)
            return
        elif kind == "template":
            self.write("themes/local/templates/404.html",
                       '{% extends "base.html" %}{% block main %}<h1>Lost ' + str(b) + "</h1>{% endblock %}\n")
            return
        elif kind == "config":
            self.write("portal.toml", self.config.replace("per_page = 2", f"per_page = {1 + b % 3}")
                       .replace('"Incremental"', f'"Incremental {b % 2}"'))
            return
        elif kind == "reads":
            self.write("content/_data/reads.csv", "slug,reads\n" + "".join(
                f"{n},{(a + b + i) * 10}\n" for i, n in enumerate(sorted(self.articles))))
            return
        self.save(name)


operations = st.tuples(
    st.sampled_from(["add", "body", "title", "date", "offset", "updated", "topic", "tags", "draft", "delete",
                     "rename", "template", "config", "reads"]),
    st.integers(0, 9), st.integers(0, 9))


# BUILDER_INCREMENTAL_EXAMPLES=400 for a deeper run than CI's.
@settings(max_examples=int(os.environ.get("BUILDER_INCREMENTAL_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(operations, min_size=1, max_size=7), st.sampled_from([5, 0]), st.booleans())
def test_incremental_build_equals_clean_build(tmp_path_factory, steps: list[tuple[str, int, int]],
                                              related: int, in_memory: bool) -> None:
    """IN_MEMORY: one cache kept open across the builds, as the preview server does."""
    root = tmp_path_factory.mktemp("site")
    site = Site(root, related)
    incremental = root / "out"
    cache = Cache(root, persist=False) if in_memory else None
    build(BuildOptions(root, incremental, now=NOW, jobs=1), cache=cache)
    for step in steps:
        site.apply(step)
        report = build(BuildOptions(root, incremental, now=NOW, jobs=1), cache=cache)
        clean = root.parent / f"{root.name}-clean"
        shutil.rmtree(clean, ignore_errors=True)
        build(BuildOptions(root, clean, now=NOW, jobs=1, clean=True))
        assert tree(incremental) == tree(clean), f"after {step}: {report}"
        shutil.rmtree(clean)
    if cache is not None:
        cache.close()


def test_a_retitled_article_updates_every_page_that_lists_it_under_more_in(tmp_path: Path) -> None:
    """Pages show the newest of their topic under "More in", beyond their neighbours in time;
    with related lists off, nothing but that list ties the oldest page to the second newest."""
    root = tmp_path / "s"
    Site(root, related=0)
    for day in range(10, 17):
        (root / "content" / f"p{day}.md").write_text(article(f"Peace story {day}", date=f"2026-03-{day}",
                                                             topic="peace", slug=f"p{day}"), encoding="utf-8")
    out = root / "out"
    build(BuildOptions(root, out, now=NOW, jobs=1))
    # a new title, same slug and date: only its card changes
    (root / "content" / "p15.md").write_text(article("A new headline", date="2026-03-15", topic="peace", slug="p15"),
                                             encoding="utf-8")
    build(BuildOptions(root, out, now=NOW, jobs=1))
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert b"A new headline" in (out / "peace" / "p10" / "index.html").read_bytes()
    assert tree(out) == tree(tmp_path / "clean")


def test_a_tag_whose_commonest_spelling_changes_is_shown_so_on_every_page(tmp_path: Path) -> None:
    """A tag shows as its commonest spelling: an edit of one article that flips it changes the
    cards of every article with the tag, edited or not."""
    root = tmp_path / "s"
    Site(root, related=0)
    spellings = {10: "peace talks", 11: "peace talks", 12: "Peace Talks"}
    for day, tag in spellings.items():
        (root / "content" / f"p{day}.md").write_text(article(f"Peace story {day}", date=f"2026-03-{day}",
                                                             topic="peace", slug=f"p{day}", tags=[tag]),
                                                     encoding="utf-8")
    out = root / "out"
    build(BuildOptions(root, out, now=NOW, jobs=1))
    assert b"Peace Talks" not in (out / "peace" / "p10" / "index.html").read_bytes()
    (root / "content" / "p11.md").write_text(article("Peace story 11", date="2026-03-11", topic="peace", slug="p11",
                                                     tags=["Peace Talks"]), encoding="utf-8")
    build(BuildOptions(root, out, now=NOW, jobs=1))
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert b"Peace Talks" in (out / "peace" / "p10" / "index.html").read_bytes()
    assert tree(out) == tree(tmp_path / "clean")


@pytest.mark.parametrize("field", ["tags", "author"])
def test_a_renamed_term_reaches_an_article_whose_page_watches_no_edited_one(tmp_path: Path, field: str) -> None:
    """The card of an unedited article that nothing edited sits beside (its own topic, no related
    list) still changes when its tag's or author's display name flips: its file's digest alone
    does not stand for its card."""
    root = tmp_path / "s"
    Site(root, related=0)
    spellings = {10: ("harbours", "amal rahimi"), 11: ("peace", "amal rahimi"), 12: ("wells", "Amal Rahimi")}
    for day, (topic, name) in spellings.items():
        value = [name] if field == "tags" else name
        (root / "content" / f"p{day}.md").write_text(article(f"Story {day}", date=f"2026-03-{day}", topic=topic,
                                                             slug=f"p{day}", **{field: value}), encoding="utf-8")
    out = root / "out"
    build(BuildOptions(root, out, now=NOW, jobs=1))
    page = out / "harbours" / "p10" / "index.html"
    assert b"Amal Rahimi" not in page.read_bytes()
    value = ["Amal Rahimi"] if field == "tags" else "Amal Rahimi"
    (root / "content" / "p11.md").write_text(article("Story 11", date="2026-03-11", topic="peace", slug="p11",
                                                     **{field: value}), encoding="utf-8")
    build(BuildOptions(root, out, now=NOW, jobs=1))
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert b"Amal Rahimi" in page.read_bytes()
    assert tree(out) == tree(tmp_path / "clean")


def test_an_image_replaced_by_one_of_another_size_changes_the_cards_that_show_it(tmp_path: Path) -> None:
    """The article is not edited, so its file's digest is the same; its card's image is not."""
    root = tmp_path / "s"
    Site(root, related=0)
    picture = root / "content" / "pic.svg"

    def draw(width: int, when: int) -> None:
        picture.write_text(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{width // 2}"></svg>',
                           encoding="utf-8")
        os.utime(picture, (when, when))

    draw(40, 1_700_000_500)
    (root / "content" / "p10.md").write_text(article("Story 10", date="2026-03-10", topic="harbours", slug="p10",
                                                     image="pic.svg", image_alt="A harbour"), encoding="utf-8")
    out = root / "out"
    build(BuildOptions(root, out, now=NOW, jobs=1))
    listing = out / "harbours" / "index.html"
    assert 'width="40" height="20"' in listing.read_text()
    draw(400, 1_700_000_600)
    build(BuildOptions(root, out, now=NOW, jobs=1))
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert 'width="400" height="200"' in listing.read_text()
    assert tree(out) == tree(tmp_path / "clean")


def test_a_date_written_at_another_offset_for_the_same_moment_reaches_every_card(tmp_path: Path) -> None:
    """The moment is the same, so the order is; the date as the cards print it is not."""
    root = tmp_path / "s"
    Site(root, related=0)
    for day in (10, 11):
        (root / "content" / f"p{day}.md").write_text(article(f"Story {day}", date=f"2026-03-{day} 12:00",
                                                             topic="harbours", slug=f"p{day}"), encoding="utf-8")
    out = root / "out"
    build(BuildOptions(root, out, now=NOW, jobs=1))
    (root / "content" / "p10.md").write_text(article("Story 10", date="'2026-03-10 14:00+02:00'", topic="harbours",
                                                     slug="p10"), encoding="utf-8")
    build(BuildOptions(root, out, now=NOW, jobs=1))
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert "2026-03-10T14:00:00+02:00" in (out / "harbours" / "index.html").read_text()
    assert tree(out) == tree(tmp_path / "clean")


def test_nothing_changed_means_nothing_done(tmp_path: Path) -> None:
    site = Site(tmp_path / "s")
    out = tmp_path / "s" / "out"
    first = build(BuildOptions(site.root, out, now=NOW))
    assert not first.up_to_date and first.written > 0
    mtimes = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = build(BuildOptions(site.root, out, now=NOW))
    assert again.up_to_date and again.pages == first.pages
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == mtimes


def test_the_record_of_an_edit_builds_output_is_trusted_and_checked(tmp_path: Path) -> None:
    """An edit build stamps the files it kept from its walk of the output, not from a stat each."""
    site = Site(tmp_path / "s")
    out = tmp_path / "s" / "out"
    build(BuildOptions(site.root, out, now=NOW))
    site.apply(("body", 0, 1))
    assert build(BuildOptions(site.root, out, now=NOW)).written > 0
    assert build(BuildOptions(site.root, out, now=NOW)).up_to_date
    os.utime(out / "404.html", ns=(1, 1))  # a file the edit did not touch, changed since
    assert not build(BuildOptions(site.root, out, now=NOW)).up_to_date


def test_an_edit_or_a_damaged_output_is_noticed(tmp_path: Path) -> None:
    site = Site(tmp_path / "s")
    out = tmp_path / "s" / "out"
    build(BuildOptions(site.root, out, now=NOW))
    site.apply(("body", 0, 1))
    edited = build(BuildOptions(site.root, out, now=NOW))
    assert not edited.up_to_date and edited.parsed == 1
    (out / "404.html").unlink()
    repaired = build(BuildOptions(site.root, out, now=NOW))
    assert not repaired.up_to_date and (out / "404.html").is_file()
    assert repaired.rendered == 1  # only the missing page


def test_the_clock_reaching_a_scheduled_article_rebuilds(tmp_path: Path) -> None:
    site = Site(tmp_path / "s")
    site.write("content/later.md", article("Later story", date="2026-11-28", publish_at="2026-11-28 06:00", topic="peace"))
    site.age_all()
    out = tmp_path / "s" / "out"
    build(BuildOptions(site.root, out, now=NOW))
    assert not (out / "peace" / "later-story").exists() and not any(out.glob("*/later-story"))
    assert build(BuildOptions(site.root, out, now=NOW)).up_to_date
    later = build(BuildOptions(site.root, out, now=datetime(2026, 11, 28, 7, tzinfo=UTC)))
    assert not later.up_to_date and any(out.glob("*/later-story/index.html"))
