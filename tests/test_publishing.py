"""Feeds, sitemaps, structured data, search, scheduling and read counts."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from conftest import NOW, article, write_files

from builder.sitemaps import MAX_URLS, Entry, sitemap_files

REPO = Path(__file__).parent.parent
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
W3C_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample portal built with its search index, as if on 21 November 2026."""
    from builder.cli import main

    root = tmp_path_factory.mktemp("sample")
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "portal.toml", root / "portal.toml")
    assert main(["build", "--source", str(root), "--now", "2026-11-21T12:00:00Z"]) == 0
    return root / "site"


def test_feeds_parse_cleanly_with_absolute_urls(sample: Path) -> None:
    feeds = [sample / "feed.xml", *sorted(sample.glob("*/feed.xml"))]
    assert len(feeds) == 8  # the site and seven topics
    for path in feeds:
        feed = feedparser.parse(path.read_bytes())
        assert not feed.bozo, f"{path}: {feed.get('bozo_exception')}"
        assert feed.feed.title and feed.feed.updated
        assert feed.entries, path
        for entry in feed.entries:
            assert entry.link.startswith("https://news.example.org/")
            assert entry.id == entry.link and entry.published and entry.updated
            assert entry.authors and entry.tags
            assert entry.content[0].value  # full content by default
            assert 'src="/' not in entry.content[0].value and 'href="/' not in entry.content[0].value
    site_feed = feedparser.parse((sample / "feed.xml").read_bytes())
    assert len(site_feed.entries) == 20
    assert site_feed.entries[0].published_parsed >= site_feed.entries[-1].published_parsed


def test_pages_link_their_feeds(sample: Path) -> None:
    topic = (sample / "culture" / "index.html").read_text()
    assert '<link rel="alternate" type="application/atom+xml" title="Olive Branch Dispatch" href="/feed.xml">' in topic
    assert 'href="/culture/feed.xml"' in topic


def test_sitemap_has_every_page_with_required_elements(sample: Path) -> None:
    root = ET.parse(sample / "sitemap.xml").getroot()
    assert root.tag == f"{SM}urlset"
    locs = []
    for url in root:
        assert url.tag == f"{SM}url"
        loc = url.find(f"{SM}loc")
        assert loc is not None and loc.text and loc.text.startswith("https://news.example.org/")
        lastmod = url.find(f"{SM}lastmod")
        if lastmod is not None:
            assert W3C_DATETIME.match(lastmod.text or "")
        locs.append(loc.text)
    assert len(locs) == len(set(locs))
    assert "https://news.example.org/" in locs
    assert "https://news.example.org/404.html" not in locs and "https://news.example.org/search/" not in locs
    pages = [p for p in sample.rglob("index.html") if not p.is_relative_to(sample / "search")]
    assert len(locs) == len(pages)


def test_sitemap_becomes_an_index_past_50000_urls() -> None:
    entries = [Entry(f"https://x.org/a/{i}/", datetime(2026, 1, 1, tzinfo=UTC)) for i in range(MAX_URLS + 1)]
    files = sitemap_files(entries, "https://x.org/")
    assert sorted(files) == ["sitemap-1.xml", "sitemap-2.xml", "sitemap.xml"]
    index = ET.fromstring(files["sitemap.xml"])
    assert index.tag == f"{SM}sitemapindex"
    assert [s.find(f"{SM}loc").text for s in index] == ["https://x.org/sitemap-1.xml", "https://x.org/sitemap-2.xml"]
    assert len(ET.fromstring(files["sitemap-2.xml"])) == 1


def test_news_sitemap_holds_the_last_two_days(sample: Path) -> None:
    root = ET.parse(sample / "news-sitemap.xml").getroot()
    urls = list(root)
    assert len(urls) == 1  # only the 20 November article is within two days of 21 November
    news = urls[0].find(f"{NEWS}news")
    assert news is not None
    assert news.find(f"{NEWS}publication/{NEWS}name").text == "Olive Branch Dispatch"
    assert news.find(f"{NEWS}publication/{NEWS}language").text == "en"
    assert W3C_DATETIME.match(news.find(f"{NEWS}publication_date").text)
    assert news.find(f"{NEWS}title").text.startswith("Land Titles for Smallholders")


def test_robots_txt_points_at_both_sitemaps(sample: Path) -> None:
    robots = (sample / "robots.txt").read_text()
    assert "Sitemap: https://news.example.org/sitemap.xml" in robots
    assert "Sitemap: https://news.example.org/news-sitemap.xml" in robots


def json_ld(html: str) -> list[dict]:
    return [json.loads(block) for block in re.findall(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)]


def test_article_and_home_structured_data(sample: Path) -> None:
    page = (sample / "culture" / "a-choir-of-former-rivals-sings-in-two-languages" / "index.html").read_text()
    [data] = json_ld(page)
    assert data["@type"] == "NewsArticle"
    for key in ("headline", "description", "image", "datePublished", "dateModified", "author", "publisher",
                "articleSection", "keywords", "mainEntityOfPage"):
        assert data[key], key
    assert data["author"][0]["@type"] == "Person"
    assert data["publisher"]["@type"] == "Organization" and data["publisher"]["logo"]["url"].startswith("https://")
    assert data["mainEntityOfPage"]["@id"] == "https://news.example.org/culture/a-choir-of-former-rivals-sings-in-two-languages/"
    [home] = json_ld((sample / "index.html").read_text())
    assert {node["@type"] for node in home["@graph"]} == {"WebSite", "Organization"}
    for prop in ('og:title', 'og:description', 'og:image', 'og:image:alt', 'og:type" content="article',
                 'article:published_time', 'article:modified_time', 'article:section', 'article:tag'):
        assert f'property="{prop}' in page, prop
    assert 'name="twitter:card" content="summary_large_image"' in page
    assert '<meta name="description"' in page and '<link rel="canonical"' in page


def test_hostile_titles_are_escaped_everywhere(tmp_path: Path, run) -> None:
    title = 'Peace </script><script>alert("x")</script> & <b>more</b>'
    source = write_files(tmp_path / "s", {
        "content/peace/a.md": "---\ntitle: '" + title + "'\ndate: 2026-05-01\ntags: ['<i>tag</i>']\n"
                              "author: '\"Quoted\" <Name>'\nsummary: '</script> summary'\n---\nBody.\n"})
    assert run("build", "--source", source, "--now", NOW, "--no-search").code == 0
    site = source / "site"
    page = next((site / "peace").glob("*/index.html")).read_text()
    assert "<script>alert" not in page and "<b>more</b>" not in page and "<i>tag</i>" not in page
    [data] = json_ld(page)
    assert data["headline"] == title and data["description"] == "</script> summary"
    assert feedparser.parse((site / "feed.xml").read_bytes()).entries[0].title == title
    for path in site.rglob("*.html"):
        assert "<script>alert" not in path.read_text(), path


def leak_site(tmp_path: Path) -> Path:
    return write_files(tmp_path / "s", {
        "content/peace/live.md": article("Open story", body="Talks continue in the valley.", tags=["Public"]),
        "content/peace/embargo.md": article("Embargoed zebracorn story", date="2026-11-20",
                                            publish_at="2026-12-01 06:00", tags=["Secretive"],
                                            body="The zebracorn accord is signed."),
        "content/peace/expired.md": article("Expired quokkafish story", date="2026-01-01",
                                            expire_at="2026-11-01", tags=["Gone"],
                                            body="The quokkafish offer has ended."),
    })


def test_embargoed_and_expired_articles_leak_nowhere(tmp_path: Path, run) -> None:
    source = leak_site(tmp_path)
    result = run("build", "--source", source, "--now", NOW)
    assert result.code == 0, result.err
    assert "next: 'Embargoed zebracorn story' publishes 2026-12-01 06:00 UTC" in result.out
    site = source / "site"
    checked = 0
    for path in site.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix.startswith(".pf_"):  # Pagefind's index files are gzip-compressed
            data = gzip.decompress(data)
        text = data.decode("utf-8", "replace").lower()
        for secret in ("zebracorn", "quokkafish", "secretive", "embargoed", "expired-quokkafish"):
            assert secret not in text, f"{secret} leaked into {path.relative_to(site)}"
        checked += 1
    assert checked > 10
    assert (site / "pagefind" / "pagefind-ui.js").is_file()
    assert not (site / "tags" / "secretive").exists()
    # At publication time the article appears everywhere.
    later = run("build", "--source", source, "--now", "2026-12-02T00:00:00Z", "--no-search")
    assert later.code == 0
    assert (site / "tags" / "secretive" / "index.html").is_file()
    assert "zebracorn" in (site / "feed.xml").read_text().lower()


def test_schedule_command_prints_json(tmp_path: Path, run) -> None:
    source = leak_site(tmp_path)
    result = run("schedule", "--source", source, "--now", NOW, "--json")
    assert result.code == 0
    data = json.loads(result.out)
    assert data["next"] == {"when": "2026-12-01T06:00:00Z", "action": "publishes",
                            "slug": "embargoed-zebracorn-story", "title": "Embargoed zebracorn story",
                            "source": "content/peace/embargo.md"}


def test_read_counts_and_most_read_lists(sample: Path) -> None:
    home = (sample / "index.html").read_text()
    most_read = home.split('id="most-read-heading"')[1].split("</section>")[0]
    assert "11,286 reads" in most_read  # the sample's most read article
    topic = (sample / "human-rights" / "index.html").read_text()
    assert "Most read in Human Rights" in topic
    unread = (sample / "culture" / "the-storytellers-keeping-a-border-dialect-alive" / "index.html").read_text()
    assert " reads</span>" not in unread.split('class="byline"')[1].split("</p>")[0]


def test_search_finds_an_article_in_the_browser(sample: Path, browser, static_server) -> None:
    base = static_server(sample)
    page = browser.new_page()
    page.goto(base + "/search/")
    page.get_by_role("textbox", name=re.compile("Search")).fill("mangrove")
    result = page.locator(".pagefind-ui__result-link").first
    result.wait_for(timeout=10_000)
    assert "Mangrove" in result.inner_text()
    # results can be narrowed by topic (Pagefind's filter panel, folded by default)
    page.locator('input[type="checkbox"][name="topic"][value="Sustainability"]').wait_for(state="attached",
                                                                                         timeout=5_000)
    page.close()
