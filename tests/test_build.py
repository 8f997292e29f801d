"""`builder build` end to end: the sample portal, bare content folders, errors and exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from conftest import NOW, article, write_files

from builder.cache import Cache

REPO = Path(__file__).parent.parent


def copy_sample(tmp_path: Path) -> Path:
    """The repository's sample portal in a temporary folder, so builds leave the checkout alone."""
    target = tmp_path / "portal"
    shutil.copytree(REPO / "content", target / "content")
    shutil.copytree(REPO / "themes", target / "themes")
    shutil.copy(REPO / "portal.toml", target / "portal.toml")
    return target


def test_sample_portal_builds_with_every_page(tmp_path: Path, run) -> None:
    out = tmp_path / "site"
    result = run("build", "--source", copy_sample(tmp_path), "--output", out, "--now", NOW)
    assert result.code == 0, result.err
    for page in ["index.html", "404.html", "topics/index.html", "tags/index.html", "authors/index.html",
                 "archive/index.html", "human-rights/index.html"]:
        assert (out / page).is_file(), page
    articles = [p for p in out.glob("*/*/index.html") if p.parent.parent.name not in ("tags", "authors", "archive")]
    assert len(articles) >= 24
    for page in articles:
        html = page.read_text()
        topic = page.parent.parent.name
        assert f'<a href="/{topic}/">' in html, f"{page} does not link to its topic"
        assert "Related articles" in html, f"{page} has no related list"
    assert "draft: true" not in (out / "index.html").read_text()
    # the related engine's text analyses, let go of during the build, are in the cache for the next one
    assert len(Cache(out.parent / "portal").state.analyses) == len(Cache(out.parent / "portal").state.parsed) >= 24


def test_folder_with_only_content_uses_defaults_and_packaged_theme(tmp_path: Path, run) -> None:
    topics = ["Peace", "Culture", "Human Rights"]
    files = {f"content/a{i:03}.md": article(f"Story number {i}", date=f"2026-{1 + i % 12:02}-{1 + i % 28:02}",
                                            topic=topics[i % 3], tags=[f"t{i % 7}", f"u{i % 5}"],
                                            body=f"Paragraph about subject {i % 9} and theme {i % 4}.")
             for i in range(300)}
    source = write_files(tmp_path / "bare", files)
    result = run("build", "--source", source, "--now", NOW)
    assert result.code == 0, result.err
    out = source / "site"
    assert (out / "peace" / "index.html").is_file()
    assert (out / "peace" / "page" / "10" / "index.html").is_file()  # 100 articles, 10 per page
    assert (out / "static" / "css" / "style.css").is_file()
    page = (out / "peace" / "story-number-3" / "index.html").read_text()
    assert len(re.findall(r'class="card-title"', page.split("Related articles")[1].split("</section>")[0])) == 5


def test_problems_are_gathered_and_the_previous_site_survives(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "s", {"content/peace/good.md": article("Good one")})
    assert run("build", "--source", source, "--now", NOW).code == 0
    before = {p: p.read_bytes() for p in (source / "site").rglob("*") if p.is_file()}
    write_files(source, {
        "content/peace/bad-date.md": article("Bad date", date="2025-13-45"),
        "content/peace/no-title.md": "---\ndate: 2026-01-01\n---\nBody\n",
        "content/peace/broken.md": "---\ntitle: [unclosed\n---\nBody\n",
    })
    result = run("build", "--source", source, "--now", NOW)
    assert result.code == 1
    assert "content/peace/bad-date.md:3: 'date' is not a valid date" in result.err
    assert "content/peace/no-title.md:1: 'title' is missing or empty" in result.err
    assert "content/peace/broken.md:2: front matter is not valid YAML" in result.err
    assert "3 problems found; nothing was written." in result.err
    assert "Traceback" not in result.err
    after = {p: p.read_bytes() for p in (source / "site").rglob("*") if p.is_file()}
    assert after == before
    assert not list(source.glob(".site.staging-*"))


def test_usage_errors_exit_2(tmp_path: Path, run) -> None:
    assert run("build", "--no-such-option").code == 2
    source = write_files(tmp_path / "s", {"content/peace/a.md": article("A")})
    refused = run("build", "--source", source, "--output", source / "content")
    assert refused.code == 2 and "refusing to use the content folder" in refused.err


def test_drafts_only_with_the_option(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "s", {"content/peace/a.md": article("Live"),
                                          "content/peace/b.md": article("Sketch", draft="true")})
    run("build", "--source", source, "--now", NOW)
    assert not (source / "site" / "peace" / "sketch").exists()
    run("build", "--source", source, "--now", NOW, "--drafts")
    assert (source / "site" / "peace" / "sketch" / "index.html").is_file()


def test_python_dash_m_works(tmp_path: Path) -> None:
    source = write_files(tmp_path / "s", {"content/peace/a.md": article("A")})
    done = subprocess.run([sys.executable, "-m", "builder", "build", "--source", str(source), "--now", NOW],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert done.returncode == 0, done.stderr
    assert "built" in done.stdout
    # the command leaves without tearing the interpreter down: codes and messages still come through
    write_files(source, {"content/peace/b.md": article("B", featured="yes please")})
    failed = subprocess.run([sys.executable, "-m", "builder", "build", "--source", str(source), "--now", NOW],
                            capture_output=True, text=True, cwd=REPO, check=False)
    assert failed.returncode == 1
    assert "content/peace/b.md" in failed.stderr and "'featured' must be true or false" in failed.stderr
    (source / "content" / "peace" / "b.md").unlink()
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    listed = subprocess.run([sys.executable, "-m", "builder", "related", "--json", "--source", str(source), "--now",
                             NOW], capture_output=True, text=True, cwd=REPO, check=False, env=buffered)
    assert listed.returncode == 0 and json.loads(listed.stdout) == {"a": []}


def test_featured_article_leads_the_front_page(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "s", {
        "content/peace/new.md": article("Newest story", date="2026-11-20"),
        "content/peace/lead.md": article("Chosen lead", date="2026-11-01", featured="true"),
        "content/peace/old.md": article("Old featured", date="2020-01-01", featured="true"),
    })
    assert run("build", "--source", source, "--now", NOW, "--no-search").code == 0
    lead = (source / "site" / "index.html").read_text().split('class="card lead')[1].split("</article>")[0]
    assert "Chosen lead" in lead
    bad = write_files(tmp_path / "s", {"content/peace/lead.md": article("Chosen lead", featured="yes please")})
    result = run("build", "--source", bad, "--now", NOW, "--no-search")
    assert result.code == 1 and "'featured' must be true or false, not 'yes please'" in result.err


def test_damaged_analyses_in_the_cache_are_made_again_from_the_articles(tmp_path: Path, run) -> None:
    import pickle

    words = ["wells", "ceasefire", "harvest", "festival", "school", "river", "market", "choir"]
    files = {f"content/{'peace' if n % 2 else 'culture'}/a{n}.md":
             article(f"Story {n}", date=f"2026-03-{n + 1:02d}", tags=[words[n % 8]],
                     body=f"The {words[n % 8]} and the {words[(n * 3) % 8]} of the {words[(n + 5) % 8]} town.")
             for n in range(24)}
    source = write_files(tmp_path / "src", {"portal.toml": 'title = "Damaged"\n', **files})
    earlier = time.time() - 100  # written well before the build, so the cache trusts their stamps
    for path in source.rglob("*.md"):
        os.utime(path, (earlier, earlier))
    assert run("build", "--source", source, "--now", NOW, "--no-search", "--jobs", "1").code == 0
    folder = source / ".cache" / "builder-v1"
    with open(folder / "state.pickle", "rb") as stream:
        _state, listing = pickle.load(stream)
    for _bucket, name in listing["analyses"][1]:
        (folder / name).write_bytes(b"damaged")
    # other related weights: every list is worked out again, from every analysis
    (source / "portal.toml").write_text('title = "Damaged"\n[related.weights]\ntext = 0.9\n')
    result = run("build", "--source", source, "--now", NOW, "--no-search", "--jobs", "1")
    assert result.code == 0, result.err
    assert "(0 articles parsed" in result.out  # (no file changed: their analyses come from the cache)
    clean = run("build", "--source", source, "--output", tmp_path / "clean", "--now", NOW, "--no-search", "--clean")
    assert clean.code == 0
    for page in (tmp_path / "clean").rglob("*.html"):
        assert page.read_bytes() == (source / "site" / page.relative_to(tmp_path / "clean")).read_bytes(), page
    assert len(Cache(source).saved_analyses()) == 24  # written again, healthy
