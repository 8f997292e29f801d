"""Article bodies by key: the cache's SQLite store, and the store of a build with no cache.

A body is its HTML and its headings (as builder.content.model.encode_headings wrote them), both
read only where an article's own page or a feed is made."""

from __future__ import annotations

import os
import secrets
import sqlite3
import tempfile
from pathlib import Path

BODIES_FILE = "bodies.sqlite"
# A build with no cache (--clean) keeps up to this much body HTML in memory (UTF-8), then moves
# it to a temporary SQLite store. Storing and reading 1,000 benchmark bodies takes 0.06 s of CPU
# in SQLite, 0.02 s held (most of it in the process that also plans and renders); the bodies of
# 10,000 benchmark articles take 66 MB, those of 100,000 articles 660 MB (the build would pass
# 2 GB).
HELD_BODY_BYTES = 96 * 2**20


class BodyStore:
    """Article bodies by key in SQLite, so a build loads only the bodies it re-renders.

    Each process opens its own connection (worker processes must not share the parent's).
    """

    def __init__(self, path: Path | None) -> None:
        if path is None:
            path = Path(tempfile.mkdtemp(prefix="builder-bodies-")) / BODIES_FILE
            self._temporary = True
        else:
            self._temporary = False
        self.path = path
        self._connection: sqlite3.Connection | None = None
        self._pid = 0
        self._pending: dict[str, tuple[str, str]] = {}
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bodies'").fetchone():
                # the table of earlier builders, without headings (they kept those in the cache's
                # state): its bodies go, as if deleted, so any state that counted on them parses
                # again; such a builder run on this store later makes its table anew, and likewise
                db.execute("DROP TABLE bodies")
                db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'pruned'")
            db.execute("CREATE TABLE IF NOT EXISTS bodies_v2 (key TEXT PRIMARY KEY, html TEXT NOT NULL, "
                       "headings TEXT NOT NULL)")
            if db.execute("SELECT COUNT(*) FROM meta").fetchone()[0] < 2:  # (a write only for a new store)
                # A store of its own name: a deleted and recreated store never passes for the old one.
                db.execute("INSERT OR IGNORE INTO meta VALUES ('store', ?)", (secrets.token_hex(8),))
                db.execute("INSERT OR IGNORE INTO meta VALUES ('pruned', '0')")

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            self._connection = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            # Pages of 32 KB, not 4 KB: a body of 5-10 KB then fits one page instead of a chain of
            # overflow pages, and storing 10,000 of them takes half the time. (Only a new file
            # takes the size, so it is set before WAL mode creates the file.)
            self._connection.execute("PRAGMA page_size=32768")
            if self._temporary:
                # A build's own store (HeldBodies past its limit), deleted when it ends: nothing
                # to recover after a crash, so no journal; WAL wrote every page twice (storing
                # 10,000 bodies took 0.24-0.26 s of CPU, 0.09-0.13 s without).
                self._connection.execute("PRAGMA journal_mode=OFF")
                self._connection.execute("PRAGMA synchronous=OFF")
            else:
                self._connection.execute("PRAGMA journal_mode=WAL")
                self._connection.execute("PRAGMA synchronous=NORMAL")
            self._pid = os.getpid()
        return self._connection

    def put(self, key: str, html: str, headings: str = "") -> None:
        self._pending[key] = (html, headings)
        if len(self._pending) >= 500:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            with self._connect() as db:
                db.executemany("INSERT OR REPLACE INTO bodies_v2 VALUES (?, ?, ?)",
                               ((key, html, headings) for key, (html, headings) in self._pending.items()))
            self._pending.clear()

    def get(self, key: str) -> str:
        """The body's HTML."""
        return self._column(key, 0, "SELECT html FROM bodies_v2 WHERE key = ?")

    def headings(self, key: str) -> str:
        """The body's headings, as put."""
        return self._column(key, 1, "SELECT headings FROM bodies_v2 WHERE key = ?")

    def _column(self, key: str, index: int, query: str) -> str:
        if key in self._pending:
            return self._pending[key][index]
        row = self._connect().execute(query, (key,)).fetchone()
        if row is None:
            raise KeyError(f"article body {key} is missing from the cache")
        return str(row[0])

    def missing(self, keys: set[str]) -> set[str]:
        """Which of KEYS the store lacks (another process may have collected them)."""
        self.flush()
        with self._connect() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (key TEXT PRIMARY KEY)")
            db.execute("DELETE FROM wanted")
            db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", ((k,) for k in keys))
            found = {row[0] for row in db.execute("SELECT key FROM bodies_v2 WHERE key IN (SELECT key FROM wanted)")}
        return keys - found

    def generation(self) -> str:
        """Which store this is and how many times bodies were deleted from it. While it stays the
        same, every body once stored is still there: bodies are only ever deleted by keep_only()."""
        values = dict(self._connect().execute("SELECT name, value FROM meta WHERE name IN ('store', 'pruned')"))
        return f"{values.get('store', '')}:{values.get('pruned', '')}"

    def keep_only(self, keys: set[str], known: str = "") -> str:
        """Forget bodies no article uses any more, so the cache does not grow forever. Runs only once
        the store holds twice what is needed, which also spares a second build of the same site
        running at the same time (a preview server beside a CLI build) most of the time.
        KNOWN: a generation at which the store held every body the caller needs. Returns the
        generation at which it still does (KNOWN itself if nothing was deleted), or "" when
        another process may have deleted some in between."""
        self.flush()
        total = self._connect().execute("SELECT COUNT(*) FROM bodies_v2").fetchone()[0]
        if total <= 2 * len(keys) + 100:
            return known
        db = self._connect()
        with db:
            db.execute("BEGIN IMMEDIATE")  # no other process deletes between reading and deleting
            before = self.generation()
            db.execute("CREATE TEMP TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY)")
            db.execute("DELETE FROM live")
            db.executemany("INSERT OR IGNORE INTO live VALUES (?)", ((k,) for k in keys))
            db.execute("DELETE FROM bodies_v2 WHERE key NOT IN (SELECT key FROM live)")
            db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE name = 'pruned'")
            after = self.generation()
        return after if known and before == known else ""

    def close(self) -> None:
        self.flush()
        if self._connection is not None and self._pid == os.getpid():
            self._connection.close()
        self._connection = None
        if self._temporary:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.path.parent.rmdir()


class HeldBodies:
    """The body store of a build with no cache: bodies in memory, where worker processes forked
    later read them too, until they pass HELD_BODY_BYTES; then all of them in a temporary
    BodyStore. Bodies are put by one process only (the one that receives the parse results).
    They are held as UTF-8: half the memory of the strings (a body with one curly quote is two
    bytes a character as a string), for 18 us an article encoding and decoding."""

    def __init__(self, limit: int | None = None) -> None:
        self._held: dict[str, bytes] = {}
        self._headings: dict[str, str] = {}
        self._bytes = 0
        self._limit = HELD_BODY_BYTES if limit is None else limit
        self._store: BodyStore | None = None
        self._name = secrets.token_hex(8)

    def put(self, key: str, html: str, headings: str = "") -> None:
        if self._store is not None:
            self._store.put(key, html, headings)
            return
        data = self._held[key] = html.encode()
        self._headings[key] = headings
        self._bytes += len(data) + len(headings)
        if self._bytes > self._limit:
            self._store = BodyStore(None)
            for held_key, held in self._held.items():
                self._store.put(held_key, held.decode(), self._headings[held_key])
            self._held.clear()
            self._headings.clear()

    def flush(self) -> None:
        if self._store is not None:
            self._store.flush()

    def get(self, key: str) -> str:
        held = self._held.get(key)
        if held is not None:
            return held.decode()
        if self._store is None:
            raise KeyError(f"article body {key} is missing from the cache")
        return self._store.get(key)

    def headings(self, key: str) -> str:
        held = self._headings.get(key)
        if held is not None:
            return held
        if self._store is None:
            raise KeyError(f"article body {key} is missing from the cache")
        return self._store.headings(key)

    def missing(self, keys: set[str]) -> set[str]:
        return self._store.missing(keys) if self._store is not None else keys - self._held.keys()

    def generation(self) -> str:
        """As BodyStore.generation(): this store's own name; nothing is ever deleted from it."""
        return f"{self._name}:0"

    def keep_only(self, keys: set[str], known: str = "") -> str:
        """A store that lives for one build deletes nothing (see BodyStore.keep_only)."""
        return known

    def close(self) -> None:
        self._held.clear()
        self._headings.clear()
        if self._store is not None:
            self._store.close()
