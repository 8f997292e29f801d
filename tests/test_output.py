"""The writer: nothing changes before commit, unchanged files keep their mtime, refusals."""

import os
import pickle
import re
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from builder.output import MARKER, Listing, OutputRefused, SiteWriter, check_output_folder, is_safe_path


def test_first_build_moves_staging_into_place(tmp_path: Path) -> None:
    out = tmp_path / "site"
    writer = SiteWriter(out)
    writer.write("index.html", b"home")
    writer.write("a/b/index.html", b"deep")
    assert not out.exists()  # nothing visible before commit
    summary = writer.commit()
    assert (out / "a/b/index.html").read_bytes() == b"deep"
    assert (out / MARKER).is_file()
    assert summary.written == 2 and not list(tmp_path.glob(".site.staging-*"))


def test_rebuild_keeps_unchanged_files_and_removes_stale(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = SiteWriter(out)
    first.write("same.html", b"same")
    first.write("changed.html", b"v1")
    first.write("gone/index.html", b"old")
    first.commit()
    os.utime(out / "same.html", ns=(1_000_000_000, 1_000_000_000))
    second = SiteWriter(out)
    assert second.write("same.html", b"same") is False
    assert second.write("changed.html", b"v2") is True
    summary = second.commit()
    assert (out / "same.html").stat().st_mtime_ns == 1_000_000_000
    assert (out / "changed.html").read_bytes() == b"v2"
    assert not (out / "gone").exists()
    assert (summary.written, summary.unchanged, summary.removed) == (1, 1, 1)


def test_a_page_is_written_whole_even_when_the_system_writes_it_in_pieces(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda handle, data: real_write(handle, bytes(data)[:3]))  # a short write each time
    writer = SiteWriter(tmp_path / "site")
    writer.write("tags/peace/page/2/index.html", b"<p>ten bytes and more</p>")
    writer.commit()
    assert (tmp_path / "site/tags/peace/page/2/index.html").read_bytes() == b"<p>ten bytes and more</p>"


def test_pages_get_the_permissions_any_new_file_gets(tmp_path: Path) -> None:
    writer = SiteWriter(tmp_path / "site")
    writer.write("index.html", b"home")
    writer.commit()
    (tmp_path / "plain.txt").write_bytes(b"x")
    assert (tmp_path / "site/index.html").stat().st_mode == (tmp_path / "plain.txt").stat().st_mode


@pytest.mark.parametrize("listed", [True, False])  # pages checked with exists() first, or not
def test_everything_the_new_site_lacks_goes_and_links_are_never_followed(tmp_path: Path, listed: bool) -> None:
    out = tmp_path / "site"
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "keep" / "file.txt").write_text("not ours")
    first = SiteWriter(out)
    first.write("same.html", b"same")
    first.write("old/deep/index.html", b"old")
    first.commit()
    (out / "odd\\name.txt").write_text("a name builder would never write")
    (out / "link").symlink_to(outside / "keep", target_is_directory=True)
    (out / "same-link.html").symlink_to(out / "same.html")
    (out / "empty" / "inner").mkdir(parents=True)
    (out / "pagefind").mkdir()
    (out / "pagefind" / "index.js").write_text("search index")
    second = SiteWriter(out, keep=("pagefind",))
    if listed:
        assert second.exists("same.html") and second.exists("old/deep/index.html")
        assert not second.exists("link") and not second.exists("same-link.html") and not second.exists("nothing.html")
    second.write("same.html", b"same")
    second.commit()
    left = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert left == [MARKER, "pagefind", "pagefind/index.js", "same.html"]
    assert (outside / "keep" / "file.txt").read_text() == "not ours"


def test_a_walk_stopped_early_and_finished_in_another_process_finds_what_one_walk_finds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "site"
    for n in range(12):
        (out / f"topic-{n % 3}" / f"article-{n}").mkdir(parents=True)
        (out / f"topic-{n % 3}" / f"article-{n}" / "index.html").write_text(f"page {n}", encoding="utf-8")
    (out / "empty" / "deeper").mkdir(parents=True)
    (out / "link").symlink_to(out / "topic-0")
    whole = Listing(str(out), stamps=True)
    monkeypatch.setattr(Listing, "POLL_EVERY", 1)
    polls = iter(range(4))
    part = Listing(str(out), stamps=True, until=lambda: next(polls, None) is None)
    assert not part.complete and len(part.files) < len(whole.files) == 12
    moved = pickle.loads(pickle.dumps(part))  # (as the related helper hands it over)
    moved.finish()
    assert moved.complete
    assert (moved.files, moved.others, sorted(moved.empty), moved.stamps) == \
        (whole.files, whole.others, sorted(whole.empty), whole.stamps)


def test_a_known_previous_build_removes_only_what_disappeared(tmp_path: Path) -> None:
    out = tmp_path / "site"
    first = SiteWriter(out)
    for rel in ("index.html", "peace/old-story/index.html", "peace/kept/index.html"):
        first.write(rel, rel.encode())
    first.commit()
    (out / "notes.txt").write_text("not from a build")  # unknown to the writer: left alone
    second = SiteWriter(out, previous=first.expected)
    assert second.exists("index.html") and not second.exists("peace/gone/index.html")
    second.keep("index.html")
    second.keep("peace/kept/index.html")
    summary = second.commit()
    assert summary.changed == ("peace/old-story/index.html",) and summary.removed == 1
    assert not (out / "peace" / "old-story").exists() and (out / "peace" / "kept" / "index.html").is_file()
    assert (out / "notes.txt").is_file()


def test_abort_leaves_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "site"
    writer = SiteWriter(out)
    writer.write("index.html", b"v1")
    writer.commit()
    failed = SiteWriter(out)
    failed.write("index.html", b"v2")
    failed.abort()
    assert (out / "index.html").read_bytes() == b"v1"


@given(st.lists(st.sampled_from(["", ".", "..", "a", ".a", "a.", "..a", "a b", "\\", ":", "\x00", "\n", "é"]),
                max_size=5).map("/".join))
@example("a/")
@example("./a")
@example("a/..")
@example("a//b")
@example("a/.b")
def test_the_quick_safety_check_agrees_with_checking_every_part(rel: str) -> None:
    every_part = bool(rel) and rel[0] != "/" and not re.search(r"[\\:\x00-\x1f]", rel) \
        and not any(part in ("", ".", "..") for part in rel.split("/"))
    assert is_safe_path(rel) == every_part


@pytest.mark.parametrize("rel", ["../x", "/etc/passwd", "a/../../x", "a\\b", "", "a//b", "C:/x", "a\0b"])
def test_unsafe_paths_are_rejected(tmp_path: Path, rel: str) -> None:
    writer = SiteWriter(tmp_path / "site")
    with pytest.raises(ValueError):
        writer.write(rel, b"x")
    writer.abort()


@pytest.mark.parametrize("output", [".", "content", "content/out", "themes", ".."])
def test_refuses_outputs_that_hold_the_users_files(tmp_path: Path, output: str) -> None:
    source = tmp_path / "portal"
    (source / "content").mkdir(parents=True)
    (source / "themes").mkdir()
    with pytest.raises(OutputRefused):
        check_output_folder(source, source / output)


def test_refuses_a_foreign_non_empty_folder_but_accepts_its_own(tmp_path: Path) -> None:
    source = tmp_path / "portal"
    source.mkdir()
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("precious")
    with pytest.raises(OutputRefused, match="already holds files that builder did not make"):
        check_output_folder(source, foreign)
    (tmp_path / "empty").mkdir()
    check_output_folder(source, tmp_path / "empty")
    ours = tmp_path / "ours"
    writer = SiteWriter(ours)
    writer.write("index.html", b"x")
    writer.commit()
    check_output_folder(source, ours)


def test_keeping_pages_at_once_spares_them_and_refuses_a_path_kept_twice(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "a").mkdir(parents=True)
    for rel in ("a/index.html", "b.html", "gone.html"):
        (out / rel).write_text(rel)
    writer = SiteWriter(out)
    writer.keep_all(["a/index.html", "b.html"])
    with pytest.raises(ValueError, match="two outputs"):
        writer.keep_all(["c.html", "b.html"])
    summary = writer.commit()
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html")) == ["a/index.html", "b.html"]
    assert (summary.unchanged, summary.removed) == (2, 1)
