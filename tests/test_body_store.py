"""The body store is searched for lost bodies only when bodies were deleted from it since the
state was saved; bodies another build deleted are parsed again, not missed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import NOW, article, write_files

from builder import bodies
from builder.bodies import BodyStore, HeldBodies

STORE = Path(".cache") / "builder-v1" / "bodies.sqlite"


def _site(root: Path) -> Path:
    write_files(root, {
        "content/peace/talks.md": article("Ceasefire talks", topic="Peace", body="The talks resumed in the valley."),
        "content/peace/water.md": article("Water committee", topic="Peace", body="The committee shared the wells."),
        "content/culture/songs.md": article("Songs of the coast", topic="Culture", body="Fishers sang at dawn."),
    })
    earlier = time.time() - 100  # written well before the build, so the cache trusts their stamps
    for path in root.rglob("*.md"):
        os.utime(path, (earlier, earlier))
    return root


def _edit(path: Path, text: str) -> None:
    path.write_text(path.read_text() + f"\n{text}\n")


def test_a_store_nothing_was_deleted_from_is_not_searched(tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    source, out = _site(tmp_path / "src"), tmp_path / "out"
    assert run("build", "--source", source, "--output", out, "--now", NOW, "--jobs", "1", "--no-search").code == 0

    def searched(self: BodyStore, keys: set[str]) -> set[str]:
        raise AssertionError("the store was searched for missing bodies")

    monkeypatch.setattr(BodyStore, "missing", searched)
    _edit(source / "content/peace/water.md", "A second well opened.")
    result = run("build", "--source", source, "--output", out, "--now", NOW, "--jobs", "1", "--no-search")
    assert result.code == 0, result.err
    assert "A second well opened." in (out / "peace/water-committee/index.html").read_text()


def test_bodies_another_build_deleted_are_parsed_again(tmp_path: Path, run) -> None:
    source, out = _site(tmp_path / "src"), tmp_path / "out"
    assert run("build", "--source", source, "--output", out, "--now", NOW, "--jobs", "1", "--no-search").code == 0
    other = BodyStore(source / STORE)  # another build of the same cache, with other articles
    for n in range(150):
        other.put(f"other-{n}", "<p>other</p>")
    assert other.keep_only(set()) == ""  # deletes every body, ours too
    other.close()
    (out / "culture/songs-of-the-coast/index.html").unlink()  # so this page must be rendered again
    _edit(source / "content/peace/water.md", "A second well opened.")
    result = run("build", "--source", source, "--output", out, "--now", NOW, "--jobs", "1", "--no-search")
    assert result.code == 0, result.err
    assert "(3 articles parsed" in result.out  # every body was lost, so every article is read again
    assert "Fishers sang at dawn." in (out / "culture/songs-of-the-coast/index.html").read_text()


def test_keep_only_tells_whether_the_caller_still_knows_every_body_is_there(tmp_path: Path) -> None:
    path = tmp_path / "bodies.sqlite"
    store = BodyStore(path)
    for n in range(150):
        store.put(f"k{n}", "<p>x</p>")
    store.flush()
    known = store.generation()
    assert store.keep_only({f"k{n}" for n in range(100)}, known) == known  # too little to collect: nothing deleted
    ours = store.keep_only({"k1"}, known)
    assert ours == store.generation() != known  # we deleted, keeping what we need
    other = BodyStore(path)  # another build of the same cache
    for n in range(150):
        other.put(f"j{n}", "<p>x</p>")
    other.flush()
    other.keep_only({"j1"})  # deletes our k1
    other.close()
    for n in range(150):
        store.put(f"m{n}", "<p>x</p>")
    store.flush()
    assert store.keep_only({"k1"}, ours) == ""  # someone deleted in between: it cannot vouch for k1
    assert store.missing({"k1"}) == {"k1"}
    store.close()


def test_a_new_store_has_a_generation_of_its_own(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = BodyStore(tmp_path / "a" / "bodies.sqlite")
    second = BodyStore(tmp_path / "b" / "bodies.sqlite")
    assert first.generation() != second.generation()
    assert BodyStore(tmp_path / "a" / "bodies.sqlite").generation() == first.generation()  # the same store reopened
    first.close()
    second.close()


def test_a_build_with_no_cache_holds_bodies_in_memory_then_moves_them_all_to_a_temporary_store() -> None:
    written = {f"key-{n}": f"<p>Body {n} of the coast’s papers.</p>" * 20 for n in range(12)}
    store = HeldBodies(limit=4 * len(written["key-0"].encode()))
    for key in list(written)[:4]:
        store.put(key, written[key])
    assert store._store is None  # (no SQLite file for a small site)
    assert store.missing({"key-0", "key-9"}) == {"key-9"}
    for key in list(written)[4:]:  # past the limit: everything goes to a temporary SQLite store
        store.put(key, written[key])
    assert store._store is not None and not store._held
    folder = store._store.path.parent
    assert folder.is_dir() and {key: store.get(key) for key in written} == written
    assert store.missing({"key-0", "key-11", "key-12"}) == {"key-12"}
    with pytest.raises(KeyError):
        store.get("key-12")
    store.close()
    assert not folder.exists()


def test_a_clean_build_renders_every_body_in_every_process_from_memory_or_a_temporary_store(
        tmp_path: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:
    # (enough pages for a forked render worker, which reads what this process held or stored)
    files = {f"content/peace/story-{n:03d}.md": article(f"Story {n}", topic="Peace", body=f"The {n}th well was dug.")
             for n in range(220)}
    write_files(tmp_path / "src", files)
    spilled: list[bool] = []
    real_close = HeldBodies.close

    def close(store: HeldBodies) -> None:
        spilled.append(store._store is not None)
        real_close(store)

    monkeypatch.setattr(HeldBodies, "close", close)
    outputs = []
    for limit in (bodies.HELD_BODY_BYTES, 2_000):
        monkeypatch.setattr(bodies, "HELD_BODY_BYTES", limit)
        outputs.append(out := tmp_path / f"out-{limit}")
        assert run("build", "--source", tmp_path / "src", "--output", out, "--now", NOW, "--clean", "--jobs", "2",
                   "--no-search").code == 0
    assert spilled == [False, True]
    for n in range(220):
        pages = [next(out.glob(f"peace/*story-{n}/index.html")).read_text(encoding="utf-8") for out in outputs]
        assert f"The {n}th well was dug." in pages[0] and pages[0] == pages[1]


def test_the_bodies_of_an_earlier_builders_table_go_as_if_pruned_and_both_builders_run(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "bodies.sqlite"
    with sqlite3.connect(path) as db:  # the layout before headings moved into the store
        db.execute("CREATE TABLE bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('store', 'old'), ('pruned', '3')")
        db.execute("INSERT INTO bodies VALUES ('k1', '<p>old</p>')")
    db.close()
    store = BodyStore(path)
    assert store.generation() == "old:4"  # a state that counted on k1 looks for it, and parses again
    assert store.missing({"k1"}) == {"k1"}
    store.put("k2", "<h2 id='a'>A</h2>", '[[2, "a", "A"]]')
    store.flush()
    assert (store.get("k2"), store.headings("k2")) == ("<h2 id='a'>A</h2>", '[[2, "a", "A"]]')
    store.close()
    again = BodyStore(path)
    assert again.generation() == "old:4"  # (migrated once)
    again.close()
    with sqlite3.connect(path) as db:  # an earlier builder run on the same cache makes its table anew
        db.execute("CREATE TABLE IF NOT EXISTS bodies (key TEXT PRIMARY KEY, html TEXT NOT NULL)")
        db.execute("INSERT INTO bodies VALUES ('k3', '<p>older</p>')")
    db.close()
    later = BodyStore(path)
    assert later.generation() == "old:5" and later.get("k2") == "<h2 id='a'>A</h2>"
    later.close()


def test_held_bodies_keep_their_headings_in_memory_and_in_the_temporary_store() -> None:
    store = HeldBodies(limit=100)
    store.put("a", "<p>a</p>", "[[2, \"x\", \"X\"]]")
    assert store._store is None and store.headings("a") == "[[2, \"x\", \"X\"]]"
    store.put("b", "<p>b</p>" * 30, "[]")  # past the limit: moved to SQLite, headings with the HTML
    assert store._store is not None
    assert (store.headings("a"), store.headings("b")) == ("[[2, \"x\", \"X\"]]", "[]")
    with pytest.raises(KeyError):
        store.headings("c")
    store.close()
