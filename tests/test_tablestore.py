"""The cache's big tables in pieces: a save rewrites only changed pieces, and nothing half-written is read."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from builder.cache import Cache, CacheState
from builder.tablestore import ENTRIES_PER_PIECE, MAX_PIECES, PREFIX, LazyTable, TableStore, bucket_of


def pieces(folder: Path) -> set[str]:
    return {p.name for p in folder.glob(f"{PREFIX}*")}


def saved_cards(folder: Path, per_piece: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """5,000 entries saved in FOLDER: the table and its listing."""
    table = {f"article-{n}": ("digest", n) for n in range(5000)}
    return table, saved(TableStore(folder, per_piece={"cards": per_piece}), table)


def saved(store: TableStore, cards: dict[str, Any]) -> dict[str, Any]:
    listing = store.save({"cards": cards})
    store.collect(listing)
    return listing


def test_a_save_after_one_change_rewrites_one_piece(tmp_path: Path) -> None:
    table, listing = saved_cards(tmp_path, 2000)
    before = pieces(tmp_path)
    assert len(before) == 3  # one piece per 2,000 entries

    again = TableStore(tmp_path, per_piece={"cards": 2000})
    loaded = again.load(listing)
    assert loaded == {"cards": table}
    changed = {**loaded["cards"], "article-7": ("other digest", 7)}
    new_listing = saved(again, changed)
    after = pieces(tmp_path)
    assert len(after - before) == 1 and len(before - after) == 1  # one piece replaced, the old one deleted
    assert TableStore(tmp_path).load(new_listing) == {"cards": changed}


def test_a_save_after_adding_and_removing_entries_rewrites_only_their_pieces(tmp_path: Path) -> None:
    _table, listing = saved_cards(tmp_path, 500)
    before = pieces(tmp_path)

    again = TableStore(tmp_path, per_piece={"cards": 500})
    changed = dict(again.load(listing)["cards"])
    del changed["article-7"]
    changed["article-new"] = ("digest", -1)
    new_listing = saved(again, changed)
    count = new_listing["cards"][0]
    touched = {bucket_of("article-7", count), bucket_of("article-new", count)}
    assert len(pieces(tmp_path) - before) == len(touched) == len(before - pieces(tmp_path))
    assert {bucket for bucket, name in new_listing["cards"][1] if name not in before} == touched
    assert TableStore(tmp_path).load(new_listing) == {"cards": changed}


def test_small_pieces_by_default_at_most_max_pieces(tmp_path: Path) -> None:
    store = TableStore(tmp_path, per_piece={"analyses": 2000})
    listing = store.save({"units": {f"u{n}": n for n in range(1500)}, "analyses": {f"a{n}": n for n in range(1500)},
                          "cards": {f"c{n}": n for n in range(100_000)}})
    assert listing["units"][0] == 1500 // ENTRIES_PER_PIECE + 1
    assert listing["analyses"][0] == 1
    assert listing["cards"][0] == MAX_PIECES


def test_a_piece_deleted_by_another_build_is_written_again(tmp_path: Path) -> None:
    store = TableStore(tmp_path)
    table = {"a": 1, "b": 2}
    listing = store.save({"cards": table})
    store.collect(listing)
    for piece in pieces(tmp_path):
        (tmp_path / piece).unlink()  # as a concurrent build that replaced it would
    again = store.save({"cards": table})
    store.collect(again)
    assert TableStore(tmp_path).load(again) == {"cards": table}


def test_pieces_of_a_state_that_is_not_used_are_deleted_after_the_next_save(tmp_path: Path) -> None:
    old = TableStore(tmp_path)
    old_listing = old.save({"cards": {"a": 1}})
    old.collect(old_listing)
    outside = tmp_path.parent / f"{PREFIX}outside.pickle"
    outside.write_bytes(b"")
    new = TableStore(tmp_path)
    new.discard({"cards": (1, [*old_listing["cards"][1], (1, f"../{outside.name}")])})  # as from another builder
    listing = new.save({"cards": {"b": 2}})
    new.collect(listing)
    assert pieces(tmp_path) == {name for _bucket, name in listing["cards"][1]}
    assert outside.exists()  # a name leading out of the folder is never followed


def test_a_new_builder_version_deletes_the_old_versions_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache(tmp_path)
    cache.save(CacheState(cards={"a": ("token",)}))
    cache.close()
    folder = tmp_path / ".cache" / "builder-v1"
    old = pieces(folder)
    monkeypatch.setattr("builder.cache.code_version", lambda: "another version")
    upgraded = Cache(tmp_path)
    assert upgraded.state.cards == {}  # the old state is not used...
    upgraded.save(CacheState(builder_version="another version", cards={"b": ("token",)}))
    upgraded.close()
    assert old and not old & pieces(folder)  # ...and its pieces are gone with the next save


def test_old_unlisted_pieces_are_collected_but_fresh_ones_are_left(tmp_path: Path) -> None:
    store = TableStore(tmp_path)
    listing = store.save({"cards": {"a": 1}})
    leftover, concurrent = tmp_path / f"{PREFIX}crashed.pickle", tmp_path / f"{PREFIX}other-build.pickle"
    leftover.write_bytes(b"")
    concurrent.write_bytes(b"")
    hour_ago = time.time() - 7200
    os.utime(leftover, (hour_ago, hour_ago))
    store.collect(listing)
    assert not leftover.exists() and concurrent.exists()


def test_a_damaged_piece_means_an_empty_cache_not_a_crash(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.bodies.put("k", "<p>x</p>")
    cache.save(CacheState(cards={"a": ("token",)}, pages={"index.html": "key"}))
    cache.close()
    assert Cache(tmp_path).state.cards == {"a": ("token",)}
    for piece in (tmp_path / ".cache").rglob(f"{PREFIX}*"):
        piece.write_bytes(b"not a pickle")
    damaged = Cache(tmp_path)
    assert damaged.state.cards == {} and damaged.state.pages == {}
    damaged.close()


def test_a_table_set_aside_is_written_once_and_kept_with_the_state(tmp_path: Path) -> None:
    first = Cache(tmp_path)
    first.save(CacheState(analyses={"k1": {"terms": ("peace",)}, "k2": {"terms": ("water",)}}, cards={"a": ("1",)}))
    first.close()
    folder = tmp_path / ".cache" / "builder-v1"
    cache = Cache(tmp_path)
    cache.state.analyses = {**cache.state.analyses, "k3": {"terms": ("talks",)}}
    cache.set_aside("analyses")
    assert cache.state.analyses == {}  # let go of in memory...
    cache.set_aside("analyses")  # (a second call, as a build makes, changes nothing)
    cache.state.cards = {"a": ("2",)}
    cache.save(cache.state)
    cache.close()
    again = Cache(tmp_path)
    # ...yet saved with the state, beside the tables saved at the end, and no piece lost or left over
    assert again.state.analyses == {"k1": {"terms": ("peace",)}, "k2": {"terms": ("water",)},
                                    "k3": {"terms": ("talks",)}}
    assert again.state.cards == {"a": ("2",)}
    assert len(pieces(folder)) == 2  # one piece per table


def test_a_cache_kept_in_memory_never_sets_a_table_aside(tmp_path: Path) -> None:
    cache = Cache(tmp_path, persist=False)
    cache.state.analyses = {"k": {"terms": ("peace",)}}
    cache.set_aside("analyses")
    assert cache.state.analyses == {"k": {"terms": ("peace",)}}  # the next build in this process reads it


def test_an_indexed_table_is_read_a_piece_at_a_time_and_saved_rewriting_only_what_changed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entries = {f"k{n}": {"terms": (f"w{n}",)} for n in range(45)}
    store = TableStore(tmp_path, per_piece={"t": 10}, indexed=("t",))
    listing = store.save({"t": entries})
    store.collect(listing)
    count = listing["t"][0]
    written = pieces(tmp_path)
    assert count == 5 and len(written) == 5

    loaded = TableStore(tmp_path, per_piece={"t": 10}, indexed=("t",))
    table = loaded.load(listing, lazy=("t",))["t"]
    assert isinstance(table, LazyTable)
    assert "k7" in table and "nope" not in table and len(table) == 45 and set(table) == set(entries)
    assert not table._loaded  # keys known, nothing read
    assert table["k7"] == entries["k7"] and list(table._loaded) == [bucket_of("k7", count)]

    # the next state: k7 and k8 gone, k99 new; only their pieces are written again
    kept = set(entries) - {"k7", "k8"}
    narrowed = table.narrowed(kept, {"k99": {"terms": ("new",)}}, recover=None)
    touched = {bucket_of(key, count) for key in ("k7", "k8", "k99")}
    made: list[dict[str, Any]] = []
    real_write = TableStore._write

    def write(self: TableStore, content: dict[str, Any]) -> str:
        made.append(content)
        return real_write(self, content)

    monkeypatch.setattr(TableStore, "_write", write)
    after = loaded.save({"t": narrowed}, final=True)
    loaded.collect(after)
    assert sorted(bucket_of(next(iter(content)), count) for content in made) == sorted(touched)
    assert len(pieces(tmp_path)) == 5  # the replaced pieces are gone
    expected = {key: value for key, value in entries.items() if key in kept} | {"k99": {"terms": ("new",)}}
    assert dict(TableStore(tmp_path).load(after)["t"]) == expected
    again = TableStore(tmp_path, indexed=("t",)).load(after, lazy=("t",))["t"]
    assert dict(again) == expected


def test_a_damaged_piece_of_an_indexed_table_is_made_again_and_written_healthy(tmp_path: Path) -> None:
    entries = {f"k{n}": n for n in range(30)}
    store = TableStore(tmp_path, per_piece={"t": 10}, indexed=("t",))
    listing = store.save({"t": entries})
    count, named = listing["t"][0], dict(listing["t"][1])
    bucket = bucket_of("k3", count)
    (tmp_path / named[bucket]).write_bytes(b"not a pickle")
    asked: list[list[str]] = []

    def recover(keys: list[str]) -> dict[str, int]:
        asked.append(sorted(keys))
        return {key: int(key[1:]) for key in keys}

    loaded = TableStore(tmp_path, per_piece={"t": 10}, indexed=("t",))
    table = loaded.load(listing, lazy=("t",))["t"]
    assert isinstance(table, LazyTable)
    with pytest.raises(Exception):  # noqa: B017 (no recovery: the unpickling error itself)
        table["k3"]
    narrowed = table.narrowed(set(entries), {}, recover)
    assert narrowed["k3"] == 3
    assert asked == [sorted(key for key in entries if bucket_of(key, count) == bucket)]
    after = loaded.save({"t": narrowed}, final=True)
    assert dict(TableStore(tmp_path).load(after)["t"]) == entries  # the piece was written again
