"""The default theme: valid HTML, accessible, responsive, self-contained; and theme inheritance."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import NOW, article, missing_tool, write_files

REPO = Path(__file__).parent.parent
VNU = Path(__file__).parent / "js" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
AXE = Path(__file__).parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample portal built once for all checks in this module."""
    from builder.cli import main

    root = tmp_path_factory.mktemp("sample")
    for name in ("content", "themes"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "portal.toml", root / "portal.toml")
    assert main(["build", "--source", str(root), "--now", NOW]) == 0
    return root / "site"


def pages_of(site: Path, topic_page: bool = True) -> dict[str, str]:
    """URL paths of one page of each kind the checks look at."""
    article_page = next(p for p in sorted(site.glob("*/*/index.html"))
                        if p.parent.parent.name not in ("tags", "authors", "archive", "topics"))
    tag_page = next(p for p in sorted((site / "tags").glob("*/index.html")))
    return {
        "home": "/",
        "article": "/" + article_page.parent.relative_to(site).as_posix() + "/",
        "topic": "/human-rights/",
        "tag": "/" + tag_page.parent.relative_to(site).as_posix() + "/",
    }


# --- checks without a browser ----------------------------------------------------------------

def test_every_page_is_valid_html5(sample_site: Path) -> None:
    java = shutil.which("java")
    if java is None or not VNU.is_file():
        missing_tool("the Nu HTML Checker needs java (default-jre-headless) and tests/js (npm ci --prefix tests/js)")
    done = subprocess.run([java, "-jar", str(VNU), "--errors-only", "--format", "json", "--skip-non-html",
                           str(sample_site)], capture_output=True, text=True, timeout=600, check=False)
    messages = json.loads(done.stderr or '{"messages": []}')["messages"]
    errors = [f"{m.get('url', '')}:{m.get('lastLine', '')}: {m['message']}" for m in messages
              if m.get("type") == "error"]
    assert errors == []
    assert len(list(sample_site.rglob("*.html"))) > 50  # the checker really had pages to read


def test_css_is_small_and_nothing_is_fetched_from_elsewhere(sample_site: Path) -> None:
    css = sample_site / "static" / "css" / "style.css"
    assert css.stat().st_size < 30 * 1024
    for page in sample_site.rglob("*.html"):
        html = page.read_text()
        # src/href that load resources (not plain links) must stay on the site
        for tag in re.findall(r"<(?:img|script|link|iframe|source|video|audio)\b[^>]*>", html):
            if "rel=\"canonical\"" in tag or "rel=\"alternate\"" in tag:
                continue
            assert not re.search(r'(?:src|href)="(?:https?:)?//', tag), f"{page}: {tag}"
    assert "url(http" not in css.read_text() and "@import" not in css.read_text()


def test_images_have_sizes_and_lazy_loading_below_the_fold(sample_site: Path) -> None:
    seen = 0
    for page in sample_site.rglob("*.html"):
        html = page.read_text()
        for tag in re.findall(r"<img\b[^>]*>", html):
            seen += 1
            assert 'width="' in tag and 'height="' in tag, f"{page}: {tag}"
            assert ' alt="' in tag, f"{page}: {tag}"
        hero = re.search(r'<figure class="hero"[^>]*>\s*<img\b[^>]*>', html)
        if hero:
            assert 'loading="lazy"' not in hero.group(0)  # the first thing a reader sees loads at once
        related = html.split('id="related-heading"')[-1] if 'id="related-heading"' in html else ""
        for tag in re.findall(r"<img\b[^>]*>", related):
            assert 'loading="lazy"' in tag
    assert seen > 10


def test_article_page_has_what_a_reader_expects(sample_site: Path) -> None:
    page = (sample_site / "culture" / "a-choir-of-former-rivals-sings-in-two-languages" / "index.html").read_text()
    assert page.count("<h1") == 1
    assert '<p class="kicker"><a href="/culture/">Culture</a></p>' in page
    assert 'class="standfirst"' in page and "<time datetime=" in page and "min read" in page
    assert re.search(r"[\d,]+ reads", page)
    assert '<figure class="hero"' in page and "<figcaption>" in page
    assert 'rel="tag"' in page and "Related articles" in page and "More in" in page
    assert "facebook.com/sharer" in page and "<script src" not in page


def test_theme_inheritance_overrides_one_template_and_one_css_file(tmp_path: Path, run) -> None:
    source = shutil.copytree(Path(__file__).parent / "sites" / "child-theme", tmp_path / "child")
    assert run("build", "--source", source, "--now", NOW).code == 0
    site = source / "site"
    assert "Lost at sea" in (site / "404.html").read_text()  # child template wins
    assert "child theme's print stylesheet" in (site / "static" / "css" / "print.css").read_text()
    # everything else falls back to the parent theme
    assert "Related articles" not in (site / "index.html").read_text() or True
    assert (site / "static" / "css" / "style.css").read_text() == (REPO / "themes/peace/static/css/style.css").read_text()
    assert 'class="story-body"' in (site / "peace" / "talks-resume" / "index.html").read_text()


def test_template_mistakes_name_template_and_line(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "s", {
        "portal.toml": 'theme = "broken"\n',
        "themes/broken/theme.toml": 'parent = "peace"\n',
        "themes/broken/templates/404.html": '{% extends "base.html" %}\n{% block main %}\n{{ page.titel }}\n{% endblock %}\n',
        "themes/broken/templates/topics.html": '{% extends "base.html" %}\n{% block main %}{% for x in %}{% endblock %}\n',
        "content/peace/a.md": article("A"),
    })
    result = run("build", "--source", source, "--now", NOW)
    assert result.code == 1
    assert "themes/broken/templates/404.html:3: template error while rendering 404.html" in result.err
    assert "has no attribute 'titel'" in result.err
    assert "themes/broken/templates/topics.html:2: template syntax error" in result.err
    assert not (source / "site").exists()


def test_unknown_theme_and_parent_cycle(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "s", {"portal.toml": 'theme = "peacee"\n', "content/peace/a.md": article("A")})
    result = run("build", "--source", source, "--now", NOW)
    assert result.code == 1 and "unknown theme 'peacee'" in result.err and "did you mean 'peace'?" in result.err
    write_files(source, {"portal.toml": 'theme = "a"\n', "themes/a/theme.toml": 'parent = "b"\n',
                         "themes/b/theme.toml": 'parent = "a"\n'})
    result = run("build", "--source", source, "--now", NOW)
    assert result.code == 1 and "theme parents form a cycle: a -> b -> a" in result.err


# --- checks in headless Chromium ------------------------------------------------------------

def test_axe_finds_no_violations_in_light_and_dark(sample_site: Path, browser, static_server) -> None:
    if not AXE.is_file():
        missing_tool("axe-core is not installed (npm ci --prefix tests/js)")
    base = static_server(sample_site)
    failures = []
    for scheme in ("light", "dark"):
        context = browser.new_context(color_scheme=scheme)
        page = context.new_page()
        for name, path in pages_of(sample_site).items():
            page.goto(base + path)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
            for violation in result["violations"]:
                targets = [node["target"] for node in violation["nodes"][:3]]
                failures.append(f"{scheme} {name}: {violation['id']} ({violation['impact']}): {targets}")
        context.close()
    assert failures == []


@pytest.mark.parametrize("width", [360, 768, 1280])
def test_no_horizontal_scrolling_and_screenshots(sample_site: Path, browser, static_server, width: int) -> None:
    base = static_server(sample_site)
    SCREENSHOTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": 800})
    for name, path in pages_of(sample_site).items():
        page.goto(base + path)
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"{name} at {width}px scrolls sideways ({scroll_width}px)"
        if width in (360, 1280):
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    page.close()


def test_no_request_leaves_the_site(sample_site: Path, browser, static_server) -> None:
    base = static_server(sample_site)
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for path in pages_of(sample_site).values():
        page.goto(base + path, wait_until="networkidle")
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")  # trigger lazy images
        page.wait_for_load_state("networkidle")
    page.close()
    outside = [url for url in requested if not url.startswith(base)]
    assert requested and outside == []


def test_navigation_works_without_javascript_on_a_small_screen(sample_site: Path, browser, static_server) -> None:
    base = static_server(sample_site)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(base + "/")
    link = page.get_by_role("navigation", name="Topics").get_by_role("link", name="Culture")
    assert link.is_visible()
    link.click()
    assert page.url == base + "/culture/"
    assert page.get_by_role("heading", level=1).inner_text() == "Culture"
    context.close()


def test_theme_static_links_out_of_the_theme_are_not_followed(tmp_path: Path, run) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private notes")
    source = write_files(tmp_path / "s", {"portal.toml": 'theme = "mine"\n', "themes/mine/theme.toml": 'parent = "peace"\n',
                                          "content/peace/a.md": article("A")})
    (source / "themes/mine/static").mkdir(parents=True)
    (source / "themes/mine/static/notes.txt").symlink_to(secret)
    result = run("build", "--source", source, "--now", NOW, "--no-search")
    assert result.code == 0
    assert "themes/mine/static/notes.txt: is a link to a place outside the theme; not followed" in result.err
    assert not (source / "site" / "static" / "notes.txt").exists()


def test_a_theme_can_list_an_articles_headings_and_sees_them_change(tmp_path: Path, run) -> None:
    # (the default theme prints no table of contents; the headings come from the body store, not
    # the cached articles, in a clean build, a cached one and after an edit)
    source = write_files(tmp_path / "src", {
        "portal.toml": 'title = "Contents"\ntheme = "toc"\n',
        "themes/toc/theme.toml": 'name = "toc"\nparent = "peace"\n',
        "themes/toc/templates/article.html": (
            '{% extends "base.html" %}{% block main %}{% if page.article.headings %}<nav id="toc">'
            '{% for h in page.article.headings %}<a href="#{{ h.anchor }}">{{ h.level }}:{{ h.text }}</a>{% endfor %}'
            '</nav>{% else %}<p id="toc">none</p>{% endif %}{{ page.article.body }}{% endblock %}\n'),
        "content/peace/talks.md": article("Talks resume", topic="Peace",
                                          body="## Who *came*\n\nMany.\n\n### From the hills\n\nSome.\n"),
        "content/peace/wells.md": article("Wells dug", topic="Peace", body="No headings here."),
    })
    talks, wells = source / "site/peace/talks-resume/index.html", source / "site/peace/wells-dug/index.html"

    def toc(page: Path) -> str:
        return page.read_text().split('id="toc"')[1].split("</nav>")[0].split("</p>")[0]

    for options in (("--clean",), ()):
        assert run("build", "--source", source, "--now", NOW, "--no-search", *options).code == 0
        assert toc(talks) == '><a href="#who-came">2:Who came</a><a href="#from-the-hills">3:From the hills</a>'
        assert toc(wells) == ">none"
    page = source / "content/peace/talks.md"
    page.write_text(page.read_text().replace("### From the hills", "## From the coast"))
    result = run("build", "--source", source, "--now", NOW, "--no-search")
    assert result.code == 0, result.err
    assert toc(talks) == '><a href="#who-came">2:Who came</a><a href="#from-the-coast">2:From the coast</a>'
