"""`builder related`: the JSON interface, explanations, and the lists on the built pages."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import NOW, article, write_files

SITE = Path(__file__).parent / "sites" / "basic"


def test_json_lists_every_published_article_in_display_order(tmp_path: Path, run) -> None:
    source = shutil.copytree(SITE, tmp_path / "basic")
    first = run("related", "--source", source, "--json", "--now", NOW)
    assert first.code == 0, first.err
    lists = json.loads(first.out)
    assert sorted(lists) == ["a-shared-well-in-tesk", "festival-returns-songs-from-exile", "night-choir",
                             "rain-tanks-for-the-school", "river-talks-stall-over-dam-plans"]  # no draft
    assert all(len(items) == 2 and slug not in items for slug, items in lists.items())  # [related] count = 2
    assert lists["night-choir"][0] == "river-talks-stall-over-dam-plans"  # the editor's pin comes first
    assert lists["a-shared-well-in-tesk"] == ["rain-tanks-for-the-school", "river-talks-stall-over-dam-plans"]
    assert run("related", "--source", source, "--json", "--now", NOW).out == first.out  # byte for byte


def test_explain_gives_scores_and_reasons(tmp_path: Path, run) -> None:
    source = shutil.copytree(SITE, tmp_path / "basic")
    result = run("related", "night-choir", "--explain", "--source", source, "--now", NOW)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "night-choir  (Night Choir)"
    assert lines[1].startswith("  1. river-talks-stall-over-dam-plans  score ") and lines[1].endswith("[pinned]")
    assert "shared terms:" in result.out and "shared tags: music" in result.out and "same topic" in result.out
    assert "days apart" in result.out
    unknown = run("related", "no-such-story", "--explain", "--source", source, "--now", NOW)
    assert unknown.code == 1 and "no published article has the slug 'no-such-story'" in unknown.err


def test_built_pages_show_the_engines_lists(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "s", {
        "content/water/well.md": article("Village well repaired", body="The village well pump was repaired and water flows."),
        "content/water/pump.md": article("Pump breaks again", body="The well pump in the village broke again; water is short."),
        "content/music/choir.md": article("Choir sings", body="The choir sang folk songs at the festival."),
        "content/music/festival.md": article("Festival opens", body="The folk festival opened with a choir."),
        "content/water/hidden.md": article("Hidden draft about wells", draft="true", body="Village well water pump."),
    })
    assert run("build", "--source", source, "--now", NOW, "--no-search").code == 0
    related = json.loads(run("related", "--source", source, "--json", "--now", NOW).out)
    assert related["village-well-repaired"][0] == "pump-breaks-again"
    assert all("hidden-draft-about-wells" not in items for items in related.values())
    page = (source / "site" / "water" / "village-well-repaired" / "index.html").read_text()
    section = page.split('id="related-heading"')[1].split("</section>")[0]
    titles = [line.split('">')[1].split("<")[0] for line in section.split('class="card-title"><a href="')[1:]]
    assert titles[0] == "Pump breaks again" and len(titles) == 3
