"""Broken sites: every case in tests/invalid/ fails with exactly the messages in its expected.txt,
and a refused --output is refused before anything is touched.

Each case folder holds the files that break a good base site (content/, portal.toml, themes/) and
`expected.txt`, the exact `error:` lines the build prints. The base is built first; the case is then
copied over it and built again into the same output, which must stay byte for byte as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import NOW, write_files

INVALID = Path(__file__).parent / "invalid"
CASES = sorted(p.name for p in INVALID.iterdir() if p.is_dir())

BASE = {
    "content/peace/base.md": """\
        ---
        title: Base article
        date: 2026-04-01
        tags: [Talks]
        author: Ana Ruiz
        ---

        The base site builds.
        """,
    "content/peace/base.svg": '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="3"></svg>\n',
}


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_every_case_has_expected_output() -> None:
    assert len(CASES) >= 26
    for case in CASES:
        expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8").splitlines()
        assert expected and all(line.startswith("error: ") for line in expected), case


@pytest.mark.parametrize("case", CASES)
def test_invalid_site_reports_every_problem_and_keeps_the_previous_site(case: str, tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "src", BASE)
    output = tmp_path / "out"
    good = run("build", "--source", source, "--output", output, "--now", NOW, "--no-search")
    assert good.code == 0, good.err
    before = snapshot(output)
    shutil.copytree(INVALID / case, source, dirs_exist_ok=True, ignore=shutil.ignore_patterns("expected.txt"))

    result = run("build", "--source", source, "--output", output, "--now", NOW, "--no-search")

    err = result.err.replace(str(tmp_path), "<tmp>")
    assert result.code == 1, err
    assert "Traceback" not in err and "internal error" not in err
    expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    lines = err.splitlines()
    assert [line for line in lines if line.startswith("error:")] == expected
    for index, line in enumerate(lines):  # every problem comes with a hint
        if line.startswith("error:"):
            assert lines[index + 1].startswith("    hint: "), line
    noun = "problem" if len(expected) == 1 else "problems"
    assert lines[-1] == f"{len(expected)} {noun} found; nothing was written."
    assert snapshot(output) == before
    assert not list(tmp_path.glob(".*staging*"))


# --- refused output folders ----------------------------------------------------------------------

@pytest.fixture
def site_tree(tmp_path: Path) -> Path:
    """A site folder with content and a theme, and a folder of someone's own files beside it."""
    write_files(tmp_path / "src", {**BASE, "themes/mine/theme.toml": 'parent = "peace"\n'})
    write_files(tmp_path / "mine", {"notes.txt": "my own notes\n", "photos/cat.jpg": b"\xff\xd8\xff"})
    return tmp_path


@pytest.mark.parametrize("output, message", [
    (".", "refusing to use the site folder itself (.) as the output folder"),
    ("content", "refusing to use the content folder (content) as the output folder"),
    ("themes", "refusing to use the themes folder (themes) as the output folder"),
    ("content/peace/site", "refusing to write the site inside content/ (content/peace/site)"),
    ("themes/mine/site", "refusing to write the site inside themes/ (themes/mine/site)"),
    ("..", "refusing to use ..: it contains the site folder"),
    ("../mine", "the output folder ../mine already holds files that builder did not make"),
    ("../mine/notes.txt", "the output ../mine/notes.txt exists and is not a folder"),
])
def test_refused_output_exits_2_and_deletes_nothing(output: str, message: str, site_tree: Path, run,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(site_tree / "src")
    before = snapshot(site_tree)
    result = run("build", "--source", ".", "--output", output, "--now", NOW, "--no-search")
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[0] == f"error: {message}"
    assert lines[1].startswith("    hint: ")
    assert "Traceback" not in result.err
    assert snapshot(site_tree) == before
    assert sorted(p.name for p in site_tree.iterdir()) == ["mine", "src"]


def test_refuses_the_home_folder(site_tree: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    home = site_tree / "home"
    write_files(home, {".profile": "# mine\n"})
    monkeypatch.setenv("HOME", str(home))
    result = run("build", "--source", site_tree / "src", "--output", home, "--now", NOW, "--no-search")
    assert result.code == 2
    assert result.err.splitlines()[0] == f"error: refusing to use your home folder ({home}) as the output folder"
    assert (home / ".profile").read_text() == "# mine\n"


def test_a_folder_builder_made_is_accepted_and_replaced(site_tree: Path, run) -> None:
    output = site_tree / "public"
    first = run("build", "--source", site_tree / "src", "--output", output, "--now", NOW, "--no-search")
    assert first.code == 0, first.err
    assert (output / ".builder-site").is_file()
    (output / "old-page.html").write_text("from an earlier build\n")
    again = run("build", "--source", site_tree / "src", "--output", output, "--now", NOW, "--no-search")
    assert again.code == 0, again.err
    assert not (output / "old-page.html").exists()
    assert (output / "peace" / "base-article" / "index.html").is_file()


def test_an_empty_folder_is_accepted(site_tree: Path, run) -> None:
    output = site_tree / "empty"
    output.mkdir()
    result = run("build", "--source", site_tree / "src", "--output", output, "--now", NOW, "--no-search")
    assert result.code == 0, result.err
    assert (output / "index.html").is_file() and (output / ".builder-site").is_file()


# --- odd but valid input, and regressions of bugs these tests found ---------------------------------

def test_an_article_with_an_empty_body_builds(tmp_path: Path, run) -> None:
    """An empty body skipped Python-Markdown's tree processors, so the link list was either missing
    (a crash on the first article) or the previous article's (builder.content.markup)."""
    source = write_files(tmp_path / "src", {
        "content/peace/a-empty.md": "---\ntitle: Only a headline\ndate: 2026-05-01\n---\n",
        "content/peace/b-links.md": "---\ntitle: Links\ndate: 2026-05-02\n---\n\n![A map](base.svg)\n",
        "content/peace/c-empty.md": "---\ntitle: Another headline\ndate: 2026-05-03\n---\n\n   \n",
        "content/peace/base.svg": BASE["content/peace/base.svg"],
    })
    result = run("build", "--source", source, "--now", NOW, "--no-search", "--jobs", "1")
    assert result.code == 0, result.err
    assert (source / "site/peace/only-a-headline/index.html").is_file()

    from builder.content.markup import MarkdownRenderer

    renderer = MarkdownRenderer()
    assert renderer.render("![A map](base.svg)", "peace").links == ("peace/base.svg",)
    assert renderer.render("", "peace").links == ()


def test_two_articles_at_one_address_are_reported_not_crashed_on(tmp_path: Path, run) -> None:
    """Both used to reach the related-articles engine, which stopped on the duplicate slug."""
    source = write_files(tmp_path / "src", {
        "content/peace/a.md": "---\ntitle: Same\ndate: 2026-05-01\n---\nA\n",
        "content/water/b.md": "---\ntitle: Other\nslug: same\ndate: 2026-05-02\n---\nB\n",
    })
    result = run("build", "--source", source, "--now", NOW, "--no-search")
    assert result.code == 1 and "internal error" not in result.err
    assert [line for line in result.err.splitlines() if line.startswith("error:")] == [
        "error: content/peace/a.md:2: slug 'same' is also used by content/water/b.md; both would be published at "
        "the same address",
        "error: content/water/b.md:3: slug 'same' is also used by content/peace/a.md; both would be published at "
        "the same address",
    ]


def test_control_characters_in_names_are_escaped_in_messages(tmp_path: Path, run) -> None:
    source = write_files(tmp_path / "src", {"content/peace/a.md": "---\ntitle: T\ndate: 2026-05-01\n"
                                                                  "tags: [\"\\e\\u0007\"]\n---\nBody\n"})
    (source / "content/peace/new\nline.svg").write_text("<svg/>")
    result = run("build", "--source", source, "--now", NOW, "--no-search")
    assert result.code == 1
    assert "\x1b" not in result.err and "\x07" not in result.err
    assert "error: content/peace/new\\nline.svg: this file name cannot be published" in result.err
    assert "tag '\\x1b\\x07' has no letters or digits" in result.err
