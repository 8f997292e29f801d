"""The cache state's big tables (one entry per article or page unit) stored in pieces.

Each table is split into pieces (one per so many entries, at most MAX_PIECES) by a stable hash of
the entry's key. A save writes only the files whose entries changed since they were loaded, so the
save after a one-article edit rewrites a few small files instead of the whole state (0.3 s at
10,000 articles). Pieces also bound pickle's memo, which for 100,000 articles' analyses in one
piece took a quarter of a gigabyte.

File names are fresh on every write and the head file lists the ones that belong together, so
a crash or a concurrent build never leaves a head pointing at half-written pieces.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

# Small pieces make the save after an edit cheaper: the dozen page units an edit changes touch
# as many pieces, which were all of a 10,000-article site's six at 2,000 entries a piece (0.065 s
# to save the tables, 0.029 s at 150). A table whose entries share many objects (the analyses'
# words) takes bigger ones: pieces share repeated objects only within themselves.
ENTRIES_PER_PIECE = 150
MAX_PIECES = 64
PREFIX = "table-"
_ORPHAN_AGE = 3600  # seconds after which an unlisted piece is a leftover of a crash, not a concurrent save


def piece_count(entries: int, per_piece: int = ENTRIES_PER_PIECE) -> int:
    """How many pieces a table of ENTRIES is split into: more pieces make a save after an edit
    cheaper, fewer keep memory down (a piece loads its own copy of every string it holds)."""
    return max(1, min(MAX_PIECES, entries // per_piece + 1))


def bucket_of(key: Any, pieces: int) -> int:
    text = key[0] if isinstance(key, tuple) else key
    return zlib.crc32(str(text).encode("utf-8", "surrogatepass")) % pieces


class TableStore:
    def __init__(self, folder: Path, *, per_piece: Mapping[str, int] | None = None) -> None:
        """PER_PIECE: entries a piece of a table holds, by table (default ENTRIES_PER_PIECE)."""
        self.folder = folder
        self._per_piece = dict(per_piece or {})
        # (table, piece count, bucket) -> (file name, entries as loaded or last written, or None
        # once the table is saved for good)
        self._known: dict[tuple[str, int, int], tuple[str, dict[Any, Any] | None]] = {}
        self._superseded: list[str] = []  # pieces the last save replaced, deleted once the head is in place
        self._discarded: list[str] = []  # pieces of an unusable state (another builder version)

    def load(self, listing: Mapping[str, tuple[int, Iterable[tuple[int, str]]]]) -> dict[str, dict[Any, Any]]:
        """The tables named in LISTING (table -> piece count and (bucket, file name) pairs); raises
        OSError or pickle errors when a piece is missing or damaged."""
        tables: dict[str, dict[Any, Any]] = {}
        for table, (count, pieces) in listing.items():
            merged = tables.setdefault(table, {})
            for bucket, name in pieces:
                with open(self.folder / name, "rb") as stream:
                    entries = pickle.load(stream)
                if not isinstance(entries, dict):
                    raise pickle.UnpicklingError(f"{name} is not a table piece")
                merged.update(entries)
                self._known[(table, count, bucket)] = (name, entries)
        return tables

    def discard(self, listing: Mapping[str, tuple[int, Iterable[tuple[int, str]]]]) -> None:
        """Delete LISTING's pieces at the next collect (they belong to a state that is not used)."""
        try:
            self._discarded = [name for _count, pieces in listing.values() for _bucket, name in pieces]
        except (AttributeError, TypeError, ValueError):  # a head from a builder with another layout
            self._discarded = []

    def save(self, tables: Mapping[str, Mapping[Any, Any]], *,
             final: bool = False) -> dict[str, tuple[int, list[tuple[int, str]]]]:
        """Write the pieces of TABLES that changed; returns their listing, to keep in the head file
        with those of tables saved before. FINAL: these tables are not saved again by this store,
        so it keeps no reference to their entries (which can then be freed)."""
        listing: dict[str, tuple[int, list[tuple[int, str]]]] = {}
        before = {name for (table, _count, _bucket), (name, _entries) in self._known.items() if table in tables}
        for table, entries in tables.items():
            count = piece_count(len(entries), self._per_piece.get(table, ENTRIES_PER_PIECE))
            pieces: list[tuple[int, str]] = []
            listing[table] = (count, pieces)
            for bucket, content in enumerate(self._buckets(table, count, entries)):
                if content is None:
                    known = self._known[(table, count, bucket)]
                    # (another build of the same site may have replaced and deleted the piece meanwhile)
                    if (self.folder / known[0]).is_file():
                        pieces.append((bucket, known[0]))
                        continue
                    content = known[1]
                if not content:
                    continue
                name = self._write(content)
                self._known[(table, count, bucket)] = (name, content)
                pieces.append((bucket, name))
        listed = {name for _count, pieces in listing.values() for _bucket, name in pieces}
        self._superseded = sorted({*self._superseded, *((before | set(self._discarded)) - listed)})
        self._discarded = []
        self._known = {k: (v[0], None) if final and k[0] in tables else v for k, v in self._known.items()
                       if k[0] not in tables or v[0] in listed}
        return listing

    def collect(self, listing: Mapping[str, tuple[int, Iterable[tuple[int, str]]]]) -> None:
        """After the head naming LISTING is in place: delete the pieces it replaced, and pieces
        nobody lists that are old enough to be leftovers of an interrupted build."""
        listed = {name for _count, pieces in listing.values() for _bucket, name in pieces}
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
