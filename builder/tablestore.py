"""The cache state's big tables (one entry per article or page unit) stored in pieces.

Each table is split into pieces (one per so many entries, at most MAX_PIECES) by a stable hash of
the entry's key. A save writes only the files whose entries changed since they were loaded, so the
save after a one-article edit rewrites a few small files instead of the whole state (0.3 s at
10,000 articles). Pieces also bound pickle's memo, which for 100,000 articles' analyses in one
piece took a quarter of a gigabyte.

File names are fresh on every write and the head file lists the ones that belong together, so
a crash or a concurrent build never leaves a head pointing at half-written pieces.

An indexed table's listing also names the keys of each piece: it can be loaded as a LazyTable,
which reads a piece only when one of its entries is asked for, and is saved rewriting only the
pieces that lost or gained entries.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from builder.heap import long_lived

# Small pieces make the save after an edit cheaper: the dozen page units an edit changes touch
# as many pieces, which were all of a 10,000-article site's six at 2,000 entries a piece (0.065 s
# to save the tables, 0.029 s at 150). A table whose entries share many objects (the analyses'
# words) takes bigger ones: pieces share repeated objects only within themselves.
ENTRIES_PER_PIECE = 150
MAX_PIECES = 64
PREFIX = "table-"
# What reading a damaged piece raises
_UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError)
_ORPHAN_AGE = 3600  # seconds after which an unlisted piece is a leftover of a crash, not a concurrent save


def piece_count(entries: int, per_piece: int = ENTRIES_PER_PIECE) -> int:
    """How many pieces a table of ENTRIES is split into: more pieces make a save after an edit
    cheaper, fewer keep memory down (a piece loads its own copy of every string it holds)."""
    return max(1, min(MAX_PIECES, entries // per_piece + 1))


def bucket_of(key: Any, pieces: int) -> int:
    text = key[0] if isinstance(key, tuple) else key
    return zlib.crc32(str(text).encode("utf-8", "surrogatepass")) % pieces


# A listing: table -> (piece count, [(bucket, file name)]), and for an indexed table a third
# item, {bucket: the piece's keys}.
Listing = Mapping[str, tuple[Any, ...]]


class LazyTable(Mapping[Any, Any]):
    """An indexed table as loaded: its keys are known, and a piece is read when one of its entries
    is first asked for. FRESH entries (set since) are in no piece yet. A piece that cannot be read
    is made of RECOVER(its keys) instead, if given: entries of a cache are made again from their
    sources. Never changed in place; narrowed() makes the table for the next save."""

    def __init__(self, folder: Path, count: int, pieces: Mapping[int, str], sizes: Mapping[int, int],
                 keys: dict[Any, int], fresh: dict[Any, Any] | None = None,
                 loaded: dict[int, dict[Any, Any]] | None = None, damaged: set[int] | None = None,
                 recover: Callable[[list[Any]], Mapping[Any, Any]] | None = None) -> None:
        self.folder = folder
        self.count = count
        self.pieces = pieces  # bucket -> file name
        self.sizes = sizes  # bucket -> how many entries the piece holds
        self.keys_in_pieces = keys  # key -> bucket, of the entries taken from the pieces
        self.fresh = fresh if fresh is not None else {}
        self._loaded = loaded if loaded is not None else {}  # bucket -> entries read (shared by narrowed tables)
        self.damaged = damaged if damaged is not None else set()  # buckets whose piece could not be read
        self._recover = recover

    def __getitem__(self, key: Any) -> Any:
        if key in self.fresh:
            return self.fresh[key]
        return self.piece(self.keys_in_pieces[key])[key]

    def __contains__(self, key: object) -> bool:
        return key in self.fresh or key in self.keys_in_pieces

    def __iter__(self) -> Iterator[Any]:
        yield from self.keys_in_pieces
        yield from self.fresh

    def __len__(self) -> int:
        return len(self.keys_in_pieces) + len(self.fresh)

    def piece(self, bucket: int) -> dict[Any, Any]:
        entries = self._loaded.get(bucket)
        if entries is None:
            try:
                with open(self.folder / self.pieces[bucket], "rb") as stream, long_lived():
                    entries = pickle.load(stream)
                if not isinstance(entries, dict):
                    raise pickle.UnpicklingError("not a table piece")
            except _UNREADABLE:
                if self._recover is None:
                    raise
                entries = dict(self._recover([key for key, at in self.keys_in_pieces.items() if at == bucket]))
                self.damaged.add(bucket)
            self._loaded[bucket] = entries
        return entries

    def narrowed(self, keep: Collection[Any], fresh: Mapping[Any, Any],
                 recover: Callable[[list[Any]], Mapping[Any, Any]] | None) -> LazyTable:
        """This table with only the entries of KEEP, and FRESH added; RECOVER for its pieces."""
        keys = {key: at for key, at in self.keys_in_pieces.items() if key in keep and key not in fresh}
        kept_fresh = {key: value for key, value in self.fresh.items() if key in keep}
        return LazyTable(self.folder, self.count, self.pieces, self.sizes, keys, {**kept_fresh, **fresh},
                         self._loaded, self.damaged, recover)


class TableStore:
    def __init__(self, folder: Path, *, per_piece: Mapping[str, int] | None = None,
                 indexed: Collection[str] = ()) -> None:
        """PER_PIECE: entries a piece of a table holds, by table (default ENTRIES_PER_PIECE).
        INDEXED: tables whose listing names each piece's keys (see LazyTable)."""
        self.folder = folder
        self._per_piece = dict(per_piece or {})
        self._indexed = frozenset(indexed)
        self._lazy_pieces: dict[str, set[str]] = {}  # table -> pieces it was lazily loaded from
        # (table, piece count, bucket) -> (file name, entries as loaded or last written, or None
        # once the table is saved for good)
        self._known: dict[tuple[str, int, int], tuple[str, dict[Any, Any] | None]] = {}
        self._superseded: list[str] = []  # pieces the last save replaced, deleted once the head is in place
        self._discarded: list[str] = []  # pieces of an unusable state (another builder version)

    def load(self, listing: Listing, *, lazy: Collection[str] = ()) -> dict[str, Mapping[Any, Any]]:
        """The tables named in LISTING; raises OSError or pickle errors when a piece is missing or
        damaged. The indexed tables named in LAZY come as LazyTables (their pieces only checked
        to be there)."""
        tables: dict[str, Mapping[Any, Any]] = {}
        for table, entry in listing.items():
            count, pieces = entry[0], entry[1]
            if table in lazy and len(entry) > 2:
                tables[table] = self._lazy(count, pieces, entry[2])
                self._lazy_pieces[table] = {name for _bucket, name in pieces}
                continue
            merged: dict[Any, Any] = {}
            tables[table] = merged
            for bucket, name in pieces:
                with open(self.folder / name, "rb") as stream:
                    entries = pickle.load(stream)
                if not isinstance(entries, dict):
                    raise pickle.UnpicklingError(f"{name} is not a table piece")
                merged.update(entries)
                self._known[(table, count, bucket)] = (name, entries)
        return tables

    def _lazy(self, count: int, pieces: Iterable[tuple[int, str]], keys: Mapping[int, tuple[Any, ...]]) -> LazyTable:
        names = dict(pieces)
        for name in names.values():
            os.stat(self.folder / name)  # (a missing piece: the state is not used, as with any table)
        return LazyTable(self.folder, count, names, {bucket: len(held) for bucket, held in keys.items()},
                         {key: bucket for bucket, held in keys.items() for key in held})

    def discard(self, listing: Listing) -> None:
        """Delete LISTING's pieces at the next collect (they belong to a state that is not used)."""
        try:
            self._discarded = [name for entry in listing.values() for _bucket, name in entry[1]]
        except (AttributeError, TypeError, ValueError):  # a head from a builder with another layout
            self._discarded = []

    def save(self, tables: Mapping[str, Mapping[Any, Any]], *, final: bool = False) -> dict[str, tuple[Any, ...]]:
        """Write the pieces of TABLES that changed; returns their listing, to keep in the head file
        with those of tables saved before. FINAL: these tables are not saved again by this store,
        so it keeps no reference to their entries (which can then be freed). A LazyTable is
        saved once (a later save of the same one could name pieces collected meanwhile)."""
        listing: dict[str, tuple[Any, ...]] = {}
        before = {name for (table, _count, _bucket), (name, _entries) in self._known.items() if table in tables}
        for table in tables:
            before.update(self._lazy_pieces.pop(table, ()))
        for table, entries in tables.items():
            count = piece_count(len(entries), self._per_piece.get(table, ENTRIES_PER_PIECE))
            pieces: list[tuple[int, str]] = []
            keys: dict[int, tuple[Any, ...]] = {}
            listing[table] = (count, pieces, keys) if table in self._indexed else (count, pieces)
            if isinstance(entries, LazyTable):
                if entries.count == count:
                    self._save_lazy(entries, pieces, keys)
                    continue
                entries = dict(entries.items())  # (another piece count: every entry moves)
            for bucket, content in enumerate(self._buckets(table, count, entries)):
                if content is None:
                    known = self._known[(table, count, bucket)]
                    # (another build of the same site may have replaced and deleted the piece meanwhile)
                    if (self.folder / known[0]).is_file():
                        pieces.append((bucket, known[0]))
                        keys[bucket] = tuple(known[1] or ())
                        continue
                    content = known[1]
                if not content:
                    continue
                name = self._write(content)
                self._known[(table, count, bucket)] = (name, content)
                pieces.append((bucket, name))
                keys[bucket] = tuple(content)
        listed = {name for entry in listing.values() for _bucket, name in entry[1]}
        self._superseded = sorted({*self._superseded, *((before | set(self._discarded)) - listed)})
        self._discarded = []
        self._known = {k: (v[0], None) if final and k[0] in tables else v for k, v in self._known.items()
                       if k[0] not in tables or v[0] in listed}
        return listing

    def _save_lazy(self, table: LazyTable, pieces: list[tuple[int, str]], keys: dict[int, tuple[Any, ...]]) -> None:
        """A piece keeps its file while it lost no entry and gained none (an entry's value never
        changes under its key in an indexed table: its key is a digest of what it is made from)."""
        held: dict[int, list[Any]] = defaultdict(list)
        for key, bucket in table.keys_in_pieces.items():
            held[bucket].append(key)
        for key in table.fresh:
            held[bucket_of(key, table.count)].append(key)
        for bucket, names in sorted(held.items()):
            name = table.pieces.get(bucket)
            if (name is None or len(names) != table.sizes.get(bucket) or bucket in table.damaged
                    or any(key in table.fresh for key in names) or not (self.folder / name).is_file()):
                name = self._write({key: table[key] for key in names})
            pieces.append((bucket, name))
            keys[bucket] = tuple(names)

    def collect(self, listing: Listing) -> None:
        """After the head naming LISTING is in place: delete the pieces it replaced, and pieces
        nobody lists that are old enough to be leftovers of an interrupted build."""
        listed = {name for entry in listing.values() for _bucket, name in entry[1]}
        for name in self._superseded:
            # names come from head files on disk: only plain piece names inside this folder
            if name not in listed and name.startswith(PREFIX) and "/" not in name and "\\" not in name:
                (self.folder / name).unlink(missing_ok=True)
        self._superseded = []
        cutoff = time.time() - _ORPHAN_AGE
        for path in self.folder.glob(f"{PREFIX}*"):
            try:
                if path.name not in listed and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError:
                pass

    def _buckets(self, table: str, count: int, entries: Mapping[Any, Any]) -> list[dict[Any, Any] | None]:
        """ENTRIES split into COUNT pieces, None for a piece that holds exactly what it held as
        loaded or last written. After an edit nearly every entry is the very object loaded, so the
        known pieces are compared whole (in C) and only keys no known piece held are hashed to
        their piece: hashing every key and comparing entry by entry took 0.05 s at 10,000 articles."""
        known = [self._known.get((table, count, bucket)) for bucket in range(count)]
        olds = [None if k is None else k[1] for k in known]
        if not any(olds) or any(k is not None and k[1] is None for k in known):
            buckets: list[dict[Any, Any]] = [{} for _ in range(count)]
            for key, value in entries.items():
                buckets[bucket_of(key, count)][key] = value
            return [None if old is not None and _same(old, content) else content
                    for old, content in zip(olds, buckets, strict=True)]
        extras: list[dict[Any, Any]] = [{} for _ in range(count)]
        for key in entries.keys() - set().union(*(old for old in olds if old)):
            extras[bucket_of(key, count)][key] = entries[key]
        result: list[dict[Any, Any] | None] = []
        for old, extra in zip(olds, extras, strict=True):
            if old is not None and not extra and _contained(old, entries):
                result.append(None)
            else:
                result.append({**{key: entries[key] for key in old or () if key in entries}, **extra})
        return result

    def _write(self, content: dict[Any, Any]) -> str:
        handle, temp = tempfile.mkstemp(dir=self.folder, prefix=PREFIX, suffix=".pickle")
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(content, stream, protocol=pickle.HIGHEST_PROTOCOL)
        return os.path.basename(temp)


def _contained(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> bool:
    """Every entry of OLD is in NEW with an equal value (identical ones are not compared)."""
    try:
        return old.items() <= new.items()
    except ValueError:  # values holding arrays have no single truth value: count them as changed
        return False


def _same(old: Mapping[Any, Any], new: Mapping[Any, Any]) -> bool:
    """Equal tables, checked by identity first: most entries are the very objects loaded."""
    return old.keys() == new.keys() and _contained(old, new)
