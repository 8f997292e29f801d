"""Cross-file steps: publication state, topics, terms and checks that need every article."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from builder.config import SiteConfig, TopicConfig
from builder.content.assemble import assemble
from builder.content.fields import parse_article
from builder.content.markup import MarkdownRenderer
from builder.content.model import Article

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
RENDERER = MarkdownRenderer()


def art(path: str, front: str) -> Article:
    result = parse_article(path, f"---\n{front}\n---\nBody text.\n", RENDERER, ZoneInfo("UTC"))
    assert result.article is not None, result.errors
    return result.article


def test_drafts_scheduled_and_expired_are_left_out() -> None:
    articles = [
        art("content/peace/a.md", "title: Live\ndate: 2026-01-01"),
        art("content/peace/b.md", "title: Draft\ndate: 2026-01-01\ndraft: true"),
        art("content/peace/c.md", "title: Future\ndate: 2026-12-01"),
        art("content/peace/d.md", "title: Embargo\ndate: 2026-01-01\npublish_at: 2026-12-05 06:00"),
        art("content/peace/e.md", "title: Expired\ndate: 2026-01-01\nexpire_at: 2026-11-01"),
    ]
    result = assemble(articles, SiteConfig(), now=NOW)
    assert [a.slug for a in result.site.articles] == ["live"]
    assert [(when.day, what, a.slug) for when, what, a in result.scheduled] == [(1, "publishes", "future"),
                                                                               (5, "publishes", "embargo")]
    with_drafts = assemble(articles, SiteConfig(), now=NOW, include_drafts=True)
    assert {a.slug for a in with_drafts.site.articles} == {"live", "draft"}


def test_newest_first_and_taxonomies() -> None:
    articles = [
        art("content/peace/a.md", "title: Old\ndate: 2025-01-01\ntags: [Water, Women]\nauthor: Ana"),
        art("content/peace/b.md", "title: New\ndate: 2026-01-01\ntags: [water]\nauthor: [Ana, Bo]"),
        art("content/culture/c.md", "title: Mid\ndate: 2025-06-01\ntags: [Water]"),
    ]
    site = assemble(articles, SiteConfig(), now=NOW).site
    assert [a.slug for a in site.articles] == ["new", "mid", "old"]
    assert [t.slug for t in site.topics] == ["culture", "peace"]
    assert site.by_topic == {"culture": ("mid",), "peace": ("new", "old")}
    assert site.tags["water"].name == "Water"  # the most used spelling wins
    assert site.by_tag["water"] == ("new", "mid", "old")
    assert site.by_author["ana"] == ("new", "old")


def test_same_moment_articles_go_by_slug_and_a_term_written_twice_counts_once_an_article() -> None:
    articles = [
        art("content/peace/z.md", "title: Zed\ndate: 2026-01-01 12:00\ntags: [Peace Talks, peace talks, Water]"),
        art("content/peace/a.md", "title: Aye\ndate: 2026-01-01 14:00+02:00\ntags: [peace talks]"),
        art("content/peace/m.md", "title: Em\ndate: 2026-01-02\ntags: [Peace Talks, '!!', '??']"),
    ]
    result = assemble(articles, SiteConfig(), now=NOW)
    site = result.site
    assert [a.slug for a in site.articles] == ["em", "aye", "zed"]  # aye and zed: the same moment
    assert site.by_tag == {"peace-talks": ("em", "aye", "zed"), "water": ("zed",)}
    assert site.tags["peace-talks"].name == "Peace Talks"  # 2 against 2: the first in code point order
    assert [p.message for p in result.problems] == ["tag '!!' has no letters or digits to make an address from",
                                                   "tag '??' has no letters or digits to make an address from"]


def test_declared_topics_match_slug_or_title_and_suggest() -> None:
    config = SiteConfig(topics=(TopicConfig("human-rights", "Human Rights"), TopicConfig("peace", "Peace")))
    articles = [
        art("content/a.md", "title: A\ndate: 2026-01-01\ntopic: Human Rights"),
        art("content/human-rights/b.md", "title: B\ndate: 2026-01-01"),
        art("content/c.md", "title: C\ndate: 2026-01-01\ntopic: Human Rigths"),
    ]
    result = assemble(articles, config, now=NOW)
    assert result.site.by_topic["human-rights"] == ("a", "b")
    assert result.site.by_topic["peace"] == ()
    [problem] = result.problems
    assert problem.path == "content/c.md" and problem.line == 4
    assert problem.message == "unknown topic 'Human Rigths' (from its topic: line)"
    assert "did you mean 'Human Rights'?" in problem.hint


def test_duplicate_slugs_name_both_files() -> None:
    articles = [art("content/peace/a.md", "title: Same\ndate: 2026-01-01"),
                art("content/culture/b.md", "title: Same\ndate: 2026-01-02")]
    problems = assemble(articles, SiteConfig(), now=NOW).problems
    assert len(problems) == 2
    assert "also used by content/culture/b.md" in problems[0].message
    assert "also used by content/peace/a.md" in problems[1].message


def test_pins_must_name_known_articles() -> None:
    articles = [art("content/peace/a.md", "title: A\ndate: 2026-01-01\nrelated: [bee, a]"),
                art("content/peace/b.md", "title: B\ndate: 2026-01-01")]
    problems = assemble(articles, SiteConfig(), now=NOW).problems
    assert sorted(p.message for p in problems) == ["'related' names an unknown article 'bee'",
                                                   "'related' names this article itself ('a')"]


def test_missing_image_file_is_reported() -> None:
    articles = [art("content/peace/a.md", "title: A\ndate: 2026-01-01\nimage: pic.png\nimage_alt: A pic")]
    assert assemble(articles, SiteConfig(), now=NOW, assets=["content/peace/pic.png"]).problems == ()
    [problem] = assemble(articles, SiteConfig(), now=NOW).problems
    assert problem.message == "image file 'peace/pic.png' does not exist" and problem.line == 4


def test_read_counts_from_analytics_exports() -> None:
    from builder.content.data import load_data

    plausible = load_data({"content/_data/reads.csv": "page,visitors,pageviews\n/peace/a-story/,10,25\n/about/,3,4\n"})
    assert plausible.reads == {"a-story": 25, "about": 4} and not plausible.problems
    matomo = load_data({"content/_data/reads.csv": "label,nb_visits,nb_hits\n/culture/choir/index.html,7,9\n"})
    assert matomo.reads == {"choir": 9}
    as_json = load_data({"content/_data/reads.json": '{"a-story": 12}'})
    assert as_json.reads == {"a-story": 12}
    bad = load_data({"content/_data/reads.csv": "slug,reads\na,12\nb,many\n"})
    assert bad.reads == {"a": 12}
    assert [(p.line, p.message) for p in bad.problems] == [(3, "read count 'many' for 'b' is not a whole number")]
    assert load_data({"content/_data/reads.csv": "what,ever\n1,2\n"}).problems[0].line == 1
