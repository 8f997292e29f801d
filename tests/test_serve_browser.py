"""builder serve in a real browser: edits appear by themselves, problems show in the page, CSS swaps in place."""

from __future__ import annotations

import json
import os
import tempfile
import urllib.request
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from conftest import NOW, article, write_files

from builder.content.fields import parse_when
from builder.report import Reporter
from builder.serve.session import Session, preview_session

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser
Served = tuple[Path, Session]

expect = pytest.importorskip("playwright.sync_api").expect
LONG_BODY = "\n\n".join(f"Paragraph {i} of the ceasefire report, with enough words to fill a line or two."
                        for i in range(120))
SITE: dict[str, str | bytes] = {
    "content/peace/first-steps.md": article("First Steps", topic="Peace", tags=["Talks"],
                                            body="Talks began at dawn."),
    "content/peace/second-round.md": article("Second Round", date="2026-05-02", topic="Peace", tags=["Talks"],
                                             body="The second round of talks opened in the border town."),
    "content/peace/long-read.md": article("Long Read", date="2026-05-03", topic="Peace", tags=["Talks"],
                                          body=LONG_BODY),
    # A theme of the same name as the default, holding only a stylesheet: it overrides the default's.
    "themes/peace/static/css/style.css": "body { color: rgb(10, 20, 30); }\n",
}
ARTICLE = "content/peace/first-steps.md"
BROKEN = "---\ntitle: [unclosed\ndate: 2026-05-01\n---\nBody\n"


def save_article(source: Path, body: str) -> None:
    write_files(source, {ARTICLE: article("First Steps", topic="Peace", tags=["Talks"], body=body)})


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    source = write_files(tmp_path / "src", SITE)
    with open(os.devnull, "w") as quiet, preview_session(source, Reporter(quiet, quiet), port=0,
                                                          now=parse_when(NOW, UTC)) as session:
        yield source, session


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def status_of(session: Session) -> dict[str, object]:
    """The server's own account of its builds (the same JSON the event stream sends)."""
    with urllib.request.urlopen(session.origin + "/__builder/status", timeout=10) as response:
        status: dict[str, object] = json.loads(response.read())
        return status


def test_an_edited_article_appears_by_itself(served: Served, page: Page) -> None:
    source, session = served
    page.goto(session.url + "peace/first-steps/")
    expect(page.locator("main")).to_contain_text("Talks began at dawn.")
    save_article(source, "Talks resumed at noon.")
    expect(page.locator("main")).to_contain_text("Talks resumed at noon.", timeout=2000)


def test_a_broken_article_shows_an_overlay_until_it_is_fixed(served: Served, page: Page, browser: Browser) -> None:
    source, session = served
    page.goto(session.url + "peace/first-steps/")
    write_files(source, {ARTICLE: BROKEN})
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=2000)
    expect(alert).to_contain_text(ARTICLE)
    assert "could not be built" in alert.inner_text()
    assert page.evaluate("window.__builder.problems[0].line") is not None

    other = browser.new_page()  # a page opened while the site is broken shows the problems too
    other.goto(session.url + "peace/second-round/")
    expect(other.get_by_role("alert")).to_contain_text(ARTICLE, timeout=2000)
    other.close()

    save_article(source, "Fixed and back.")
    expect(page.get_by_role("alert")).to_have_count(0, timeout=2000)
    expect(page.locator("main")).to_contain_text("Fixed and back.", timeout=2000)


def test_the_overlay_is_readable(served: Served, page: Page) -> None:
    source, session = served
    page.goto(session.url)
    write_files(source, {ARTICLE: BROKEN})
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=2000)
    colors = alert.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colors == ["rgb(27, 27, 27)", "rgb(255, 255, 255)"]  # contrast 17:1
    assert alert.evaluate("e => getComputedStyle(e).position") == "fixed"


def test_a_failed_first_build_shows_the_problems_then_the_site(tmp_path: Path, page: Page) -> None:
    source = write_files(tmp_path / "src", {**SITE, ARTICLE: BROKEN})
    with open(os.devnull, "w") as quiet, preview_session(source, Reporter(quiet, quiet), port=0,
                                                          now=parse_when(NOW, UTC)) as session:
        page.goto(session.url)
        expect(page.get_by_role("alert")).to_contain_text(ARTICLE, timeout=2000)
        save_article(source, "Talks began.")
        expect(page.get_by_role("alert")).to_have_count(0, timeout=2000)
        expect(page.get_by_role("link", name="First Steps").first).to_be_visible(timeout=2000)


def test_a_stylesheet_change_applies_without_reloading(served: Served, page: Page) -> None:
    source, session = served
    page.goto(session.url + "peace/first-steps/")
    assert page.evaluate("getComputedStyle(document.body).color") == "rgb(10, 20, 30)"
    page.evaluate("window.__stillTheSamePage = true")
    write_files(source, {"themes/peace/static/css/style.css": "body { color: rgb(200, 0, 0); }\n"})
    page.wait_for_function("getComputedStyle(document.body).color === 'rgb(200, 0, 0)'", timeout=2000)
    assert page.evaluate("window.__stillTheSamePage") is True
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert page.evaluate("document.querySelectorAll('link[rel~=stylesheet][href*=\"style.css\"]').length") == 1


def test_an_atomic_rename_save_is_one_rebuild(served: Served, page: Page) -> None:
    source, session = served
    page.goto(session.url + "peace/first-steps/")
    expect(page.locator("main")).to_contain_text("Talks began at dawn.")
    before = int(status_of(session)["build"])  # type: ignore[call-overload]
    target = source / ARTICLE
    with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, encoding="utf-8") as temp:
        temp.write(article("First Steps", topic="Peace", tags=["Talks"], body="Saved the careful way."))
    os.replace(temp.name, target)
    expect(page.locator("main")).to_contain_text("Saved the careful way.", timeout=2000)
    after = status_of(session)
    assert after["build"] == before + 1
    # (the reloaded page's text can show before its live-reload script has run and set this)
    page.wait_for_function("window.__builder !== undefined", timeout=2000)
    assert page.evaluate("window.__builder.served") == before + 1


def test_the_scroll_position_survives_a_reload(served: Served, page: Page) -> None:
    source, session = served
    page.set_viewport_size({"width": 800, "height": 600})
    page.goto(session.url + "peace/long-read/")
    # Chromium restores the position of a plain reload by itself; this turns that off (as some pages
    # do), so what is tested is builder's own restore, which works whichever way the page reloads.
    page.evaluate("history.scrollRestoration = 'manual'")
    page.evaluate("window.scrollTo(0, 1500)")
    page.wait_for_function("window.scrollY === 1500")
    body = LONG_BODY.replace("Paragraph 0 of", "Paragraph zero of")
    write_files(source, {"content/peace/long-read.md": article("Long Read", date="2026-05-03", topic="Peace",
                                                               tags=["Talks"], body=body)})
    expect(page.locator("main")).to_contain_text("Paragraph zero of", timeout=2000)
    page.wait_for_function("Math.abs(window.scrollY - 1500) <= 1", timeout=2000)
