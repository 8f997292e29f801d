"""Hostile names never write outside the output folder, and big or odd inputs still build.

Every build here goes through the CLI into OUT beside SRC in a temporary folder; afterwards the whole
temporary folder is walked: nothing may appear outside OUT, and SRC must be byte-identical.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import NOW, article, write_files

from builder.output import is_safe_path

HOSTILE = ["../evil", "../../../../tmp/evil", "a/b", "a\\b", "..\\..\\evil", "C:", "C:evil", "C:\\Windows",
           "evil\0", "\0", "..", ".", "!!!", "/etc/passwd", "%2e%2e%2f", "\x1b[2J", " ", "-"]


def tree(root: Path) -> dict[str, bytes | str]:
    """Every file under ROOT (links as 'link -> target', never followed), by relative path."""
    found: dict[str, bytes | str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = f"link -> {os.readlink(path)}"
            elif path.is_file():
                found[rel] = path.read_bytes()
    return found


def build_contained(tmp_path: Path, run, *extra: str):
    """Build SRC into OUT, then check nothing was written outside OUT and SRC did not change."""
    source, output = tmp_path / "src", tmp_path / "out"
    before = tree(tmp_path)
    result = run("build", "--source", source, "--output", output, "--now", NOW, "--no-search", *extra)
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    after = tree(tmp_path)
    outside = {rel for rel in after if not rel.startswith("out/") and not rel.startswith("src/.cache/")}
    assert {rel: after[rel] for rel in outside} == before, "files changed or appeared outside the output folder"
    for rel in after:
        if rel.startswith("out/"):
            assert is_safe_path(rel.removeprefix("out/")), rel
    assert not any(ord(c) < 32 and c != "\n" for c in result.err), "control characters reached the terminal"
    return result


def yaml_text(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_slug_is_refused(value: str, tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Hostile", slug=yaml_text(value))})
    result = build_contained(tmp_path, run)
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].startswith("error: content/peace/a.md:4: ")
    assert "cannot be used in a URL" in errors[0] or "'slug' is missing or empty" in errors[0]


@pytest.mark.parametrize("key", ["topic", "tags", "author"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_topic_tag_or_author_is_made_safe_or_refused(key: str, value: str, tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Hostile", **{key: yaml_text(value)})})
    result = build_contained(tmp_path, run)
    if result.code == 0:
        pages = [p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("hostile")]
        assert len(pages) == 1 and pages[0].count("/") == 1  # /<safe topic>/hostile/
        return
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: content/peace/a.md:4: ")
    assert ("has no letters or digits to make an address from" in errors[0]
            or "is missing or empty" in errors[0]), errors[0]


@pytest.mark.parametrize("name", ["C:evil.svg", "a\\b.svg", "a\\..\\..\\evil.svg", "new\nline.svg", "tab\t.svg",
                                  "esc\x1b[2J.svg"])
def test_asset_names_that_cannot_be_published_are_refused(name: str, tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Fine"), f"content/peace/{name}": "<svg/>"})
    result = build_contained(tmp_path, run)
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert errors[0].endswith(": this file name cannot be published (it holds '\\', ':' or a control character)")
    assert "\n" not in name or "new\\nline.svg" in errors[0]


@pytest.mark.parametrize("name", ["-rf", "a b", "名前", "..hidden", "...", "x" * 200, "Ünïcödé", "semi;colon",
                                  "quote'\"", "C:evil", "a\\b", "percent%2e%2e"])
def test_odd_file_and_folder_names_build_inside_the_output(name: str, tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {
        f"content/peace/{name}.md": article("Named oddly"),
        f"content/{name}/b.md": article("In an odd folder"),
        "content/peace/c.md": article("Linking", body=f"[odd](<{name}.md>) ![pic](<../{name}/pic.svg>)"),
    })
    result = build_contained(tmp_path, run)
    if name.startswith("."):  # hidden files and folders are not content
        assert result.code == 0, result.err
        assert not (tmp_path / "out" / "peace" / "named-oddly").exists()
        return
    assert result.code in (0, 1), result.err
    if result.code == 1:  # only a folder that makes no topic address may fail, with a clear message
        assert "has no letters or digits to make an address from" in result.err, result.err
    else:
        assert (tmp_path / "out" / "peace" / "named-oddly" / "index.html").is_file()


@pytest.mark.parametrize("image", ["../../../etc/passwd", "/../../etc/passwd", "C:\\evil.png", "C:/evil.png",
                                   "evil\0.png", "file:///etc/passwd", "javascript:alert(1)"])
def test_hostile_image_paths_are_refused(image: str, tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Pictured", image=yaml_text(image),
                                                                 image_alt="A picture")})
    result = build_contained(tmp_path, run)
    assert result.code == 1
    errors = [line for line in result.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: content/peace/a.md:4: image")


def test_hostile_links_in_bodies_write_nothing(tmp_path: Path, run) -> None:
    body = ("[up](../../../../etc/passwd) ![up](/../../../etc/passwd) [drive](C:\\evil) "
            "<img src=\"file:///etc/passwd\" alt=\"x\"> [nul](a%00b) [ref](../../../outside.md)")
    write_files(tmp_path / "src", {"content/peace/a.md": article("Links", body=body)})
    result = build_contained(tmp_path, run)
    assert result.code == 0, result.err


@pytest.mark.parametrize("theme", ["../../etc", "/etc", "..", "C:\\themes", "peace/../peace"])
def test_hostile_theme_names_are_unknown_themes(theme: str, tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("A"), "portal.toml": f"theme = {json.dumps(theme)}\n"})
    result = build_contained(tmp_path, run)
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("error: portal.toml:1: unknown theme ")


def test_symlinks_out_of_the_source_are_not_followed(tmp_path: Path, run) -> None:
    write_files(tmp_path / "secret", {"diary.md": article("Secret diary"), "key.txt": "secret key\n"})
    write_files(tmp_path / "src", {"content/peace/a.md": article("Public")})
    (tmp_path / "src/content/peace/diary.md").symlink_to(tmp_path / "secret/diary.md")
    (tmp_path / "src/content/peace/key.txt").symlink_to(tmp_path / "secret/key.txt")
    (tmp_path / "src/content/private").symlink_to(tmp_path / "secret", target_is_directory=True)
    result = build_contained(tmp_path, run)
    assert result.code == 0, result.err
    warnings = sorted(line for line in result.err.splitlines() if line.startswith("warning:"))
    assert warnings == [
        "warning: content/peace/diary.md: is a link to a place outside the site folder; not followed",
        "warning: content/peace/key.txt: is a link to a place outside the site folder; not followed",
        "warning: content/private: is a link to a place outside the site folder; not followed",
    ]
    built = tree(tmp_path / "out")
    assert not any("secret" in rel or "diary" in rel or "key.txt" in rel or "private" in rel for rel in built)
    contents = [data for data in built.values() if isinstance(data, bytes)]
    assert not any(b"Secret diary" in data or b"secret key" in data for data in contents)
    assert (tmp_path / "out/peace/public/index.html").is_file()


def test_symlink_loops_and_links_inside_the_source_are_safe(tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Public"), "content/shared/logo.svg": "<svg/>"})
    (tmp_path / "src/content/peace/loop").symlink_to(tmp_path / "src/content", target_is_directory=True)
    (tmp_path / "src/content/peace/logo.svg").symlink_to(tmp_path / "src/content/shared/logo.svg")
    result = build_contained(tmp_path, run)
    assert result.code == 0, result.err
    assert (tmp_path / "out/peace/logo.svg").read_text() == "<svg/>"
    assert not (tmp_path / "out/peace/loop").exists()


def test_output_link_leading_outside_is_refused(tmp_path: Path, run) -> None:
    """A link planted in an earlier output never lets a build write through it."""
    write_files(tmp_path / "src", {"content/peace/a.md": article("Public")})
    write_files(tmp_path / "elsewhere", {"keep.txt": "mine\n"})
    first = run("build", "--source", tmp_path / "src", "--output", tmp_path / "out", "--now", NOW, "--no-search")
    assert first.code == 0, first.err
    planted = tmp_path / "out/peace"
    for path in sorted(planted.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    planted.rmdir()
    planted.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    write_files(tmp_path / "src", {"content/peace/b.md": article("Second")})
    result = run("build", "--source", tmp_path / "src", "--output", tmp_path / "out", "--now", NOW, "--no-search")
    assert result.code in (0, 2), result.err
    assert "Traceback" not in result.err
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == ["keep.txt"]


# --- big and odd inputs, small enough for every test run -------------------------------------------

def test_many_tags_a_big_article_and_deep_folders_build(tmp_path: Path, run) -> None:
    tags = [f"Tag {i:04}" for i in range(2000)]
    big_body = "".join(f"## Part {n}\n\nWords about peace, water and schools in part {n}.\n\n"
                       for n in range(16000))
    deep = "/".join(f"level{d}" for d in range(20))
    write_files(tmp_path / "src", {
        "content/peace/tagged.md": article("Many tags", tags=tags),
        "content/peace/big.md": article("Big article", body=big_body),
        f"content/{deep}/deep.md": article("Deep article"),
    })
    assert len(big_body) > 1_000_000
    result = build_contained(tmp_path, run, "--clean")
    assert result.code == 0, result.err
    out = tmp_path / "out"
    assert len(list((out / "tags").glob("tag-*/index.html"))) == 2000
    assert (out / "tags/tag-1999/index.html").is_file()
    big = (out / "peace/big-article/index.html").read_text()
    assert 'id="part-15999"' in big
    assert (out / "level0/deep-article/index.html").is_file()


def test_smart_punctuation_stays_linear_with_unclosed_code() -> None:
    """20,000 unclosed <code> tags took 9 s (each searched to the end for its closing tag)."""
    import time

    from builder.content.typography import smarten

    html = "<p>" + "<code>it's -- " * 20_000 + "<!-- x " * 20_000 + "</p>"
    started = time.perf_counter()
    result = smarten(html)
    assert time.perf_counter() - started < 2.0
    assert result.count("<code>it’s – ") == 20_000


@pytest.mark.parametrize("logo", ["x\0.png", "../../../etc/passwd", "/media/../../x.png", "a\\b.png"])
def test_hostile_logo_paths_are_refused(logo: str, tmp_path: Path, run) -> None:
    """A NUL in the logo path crashed the build; '../..' read the size of a file outside the site."""
    write_files(tmp_path / "src", {"content/peace/a.md": article("A"), "portal.toml": f"logo = {json.dumps(logo)}\n"})
    result = build_contained(tmp_path, run)
    assert result.code == 1
    shown = logo.replace("\0", "\\x00")
    assert result.err.splitlines()[0].startswith(f"error: portal.toml:1: logo '{shown}' ")


def test_a_logo_path_from_the_content_root_works(tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("A"), "content/media/logo.svg": SVG_LOGO,
                                   "portal.toml": 'logo = "/media/logo.svg"\n'})
    result = build_contained(tmp_path, run)
    assert result.code == 0, result.err
    assert 'href="/media/logo.svg"' in (tmp_path / "out/index.html").read_text()


SVG_LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"></svg>\n'


def test_broken_links_in_content_are_reported_not_a_crash(tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Public")})
    (tmp_path / "src/content/peace/gone.md").symlink_to(tmp_path / "nowhere.md")  # outside, missing
    (tmp_path / "src/content/peace/moved.md").symlink_to(tmp_path / "src/content/peace/old.md")  # inside, missing
    for path in (tmp_path / "src").rglob("*"):  # stamps old enough to trust: every file is looked at
        if not path.is_symlink():
            os.utime(path, (1_700_000_000, 1_700_000_000))
    result = build_contained(tmp_path, run)
    assert "internal error" not in result.err
    assert "content/peace/gone.md" in result.err and "content/peace/moved.md" in result.err
    assert result.code in (0, 1)
    if result.code == 0:
        assert (tmp_path / "out/peace/public/index.html").is_file()


def test_a_file_name_that_is_not_utf8_is_reported_not_a_crash(tmp_path: Path, run) -> None:
    write_files(tmp_path / "src", {"content/peace/a.md": article("Public")})
    try:
        (tmp_path / "src/content/peace").joinpath(os.fsdecode(b"caf\xe9.md")).write_text(article("Latin-1 name"))
    except (OSError, UnicodeError):
        pytest.skip("this file system takes UTF-8 names only")
    for path in (tmp_path / "src").rglob("*"):  # stamps old enough to trust: every file is looked at
        os.utime(path, (1_700_000_000, 1_700_000_000))
    result = build_contained(tmp_path, run)
    assert "internal error" not in result.err
