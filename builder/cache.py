"""The build cache in SOURCE/.cache/: parsed articles, bodies, related analyses and page keys.

Everything here can be deleted at any time; the next build is then a full one. The folder name
carries a format version, and the state records the builder version and the settings parsing
depends on, so a new builder or a changed Markdown setup never reads stale entries.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder import __version__
from builder.bodies import BODIES_FILE, BodyStore, HeldBodies
from builder.compact import pickled_as_tuple
from builder.heap import long_lived
from builder.tablestore import TableStore

if TYPE_CHECKING:
    from builder.related_helper import RelatedHelper

CACHE_DIR = ".cache"
FORMAT = 1
_STATE = "state.pickle"
_MANIFEST = "manifest.pickle"
_RELATED = "related.pickle"
# CacheState tables stored in pieces (builder.tablestore): each entry is of one article or page
_CHUNKED = ("sources", "parsed", "analyses", "pages", "units", "cards")
_ANALYSES_PER_PIECE = 2000  # analyses share their words within a piece: fewer, bigger pieces
_LAZY = ("analyses",)  # tables loaded as LazyTables
# What reading a missing, damaged or foreign pickle raises: the cache then counts as empty.
_UNREADABLE = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """The builder version plus a digest of its own source, so even an unreleased code change
    (or a reinstall of another build) starts from an empty cache instead of stale entries."""
    package = Path(__file__).parent
    digest = hashlib.blake2b(__version__.encode(), digest_size=12)
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()}"


@pickled_as_tuple
@dataclass(slots=True)
class SourceStamp:
    size: int
    mtime_ns: int
    digest: str


@dataclass
class CacheState:
    """What a build remembers for the next one: plain data, pickled as a head file with its
    per-article and per-page tables (_CHUNKED) in pieces beside it."""

    builder_version: str = field(default_factory=code_version)
    parse_key: str = ""
    sources: dict[str, SourceStamp] = field(default_factory=dict)  # article path -> stamp
    parsed: dict[tuple[str, str], Any] = field(default_factory=dict)  # (path, digest) -> ParseResult
    # related-engine analyses; loaded as a LazyTable (builder.tablestore): a build after an edit
    # reads none of them (0.05-0.07 s at 10,000 articles), only their keys
    analyses: Mapping[str, Any] = field(default_factory=dict)
    image_sizes: dict[str, tuple[int, int, tuple[int, int] | None]] = field(default_factory=dict)
    output: str = ""  # the output folder the page keys describe
    pages: dict[str, str] = field(default_factory=dict)  # output path -> key of what was written
    units: dict[str, Any] = field(default_factory=dict)  # page unit -> UnitRecord (builder.replan)
    cards: dict[str, Any] = field(default_factory=dict)  # article slug -> card check (replan.changed_cards)
    cards_parse_key: str = ""  # the parse_key the cards were made with
    term_names: tuple[dict[str, str], dict[str, str]] = ({}, {})  # Planner.term_names() of the cards
    related: tuple[str, dict[str, tuple[str, ...]]] | None = None  # (input key, lists)
    templates: dict[str, bytes] = field(default_factory=dict)  # compiled Jinja templates by Jinja's key
    saved_ns: int = 0
    # The body store's generation (BodyStore.generation) at which it held every body `parsed` names.
    bodies_generation: str = ""


@dataclass
class Manifest:
    """What the last successful build read and wrote, small enough to check before anything else:
    when every input and the output are as they were, and the clock has not crossed a moment the
    site depends on (a scheduled article, the news sitemap's two days), nothing needs doing."""

    inputs: str  # digest of every input file's stamp, the build options and the builder's code
    output: str  # digest of the output folder's files as the build left them
    valid_from_ns: int  # the build's clock...
    valid_until_ns: int  # ...and the next moment its output would change by itself
    pages: int
    warnings: tuple[Any, ...]
    scheduled: tuple[Any, ...]


class Cache:
    """The cache folder of one site; `enabled=False` gives a throwaway cache (builds with --clean)."""

    def __init__(self, source: Path, *, enabled: bool = True, persist: bool = True) -> None:
        self.folder = source / CACHE_DIR / f"builder-v{FORMAT}"
        self.enabled = enabled
        # A long-running caller (the preview server) keeps the state in memory between builds and
        # writes it once at the end: writing it after every save would cost more than the rebuild.
        self.persist = persist
        self._state: CacheState | None = None if enabled else CacheState()
        self._bodies: BodyStore | HeldBodies | None = None
        self._tables = TableStore(self.folder, per_piece={"analyses": _ANALYSES_PER_PIECE}, indexed=_LAZY)
        # Output folder -> the files this cache's last build left there: a caller that builds again
        # and again (the preview server) then deletes only what disappeared instead of walking the folder.
        self.written: dict[str, frozenset[str]] = {}
        # The related engine's state after the last build, kept in memory by such a caller.
        self.relations: Any = None
        # A helper process working out this build's related lists (builder.related_helper); close() finishes it.
        self.related_helper: RelatedHelper | None = None
        self.related_engine_key = ""  # see keep_related_engine
        # Tables of the state written early by set_aside(), with their listing.
        self._aside: dict[str, Any] = {}

    @property
    def state(self) -> CacheState:
        """Loaded on first use: a build that finds nothing to do never reads it."""
        if self._state is None:
            self._state = self._load() if (self.folder / BODIES_FILE).is_file() else CacheState()
        return self._state

    @property
    def bodies(self) -> BodyStore | HeldBodies:
        if self._bodies is None:
            if self.enabled:
                self.state  # noqa: B018 (decide about the state before the store file exists)
                self.folder.mkdir(parents=True, exist_ok=True)
                self._bodies = BodyStore(self.folder / BODIES_FILE)
            else:
                self._bodies = HeldBodies()
        return self._bodies

    def manifest(self) -> Manifest | None:
        if not self.enabled or not self.persist:
            return None
        try:
            with open(self.folder / _MANIFEST, "rb") as stream:
                manifest = pickle.load(stream)
        except _UNREADABLE:
            return None
        return manifest if isinstance(manifest, Manifest) else None

    def save_manifest(self, manifest: Manifest | None) -> None:
        """Write (or, with None, remove) the manifest; removed first whenever a build starts changing things."""
        if not self.enabled or not self.persist:
            return
        path = self.folder / _MANIFEST
        if manifest is None:
            path.unlink(missing_ok=True)
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        _dump_atomically(manifest, path)

    def related_engine(self) -> Any:
        """The related engine's state from an earlier build (held in memory by a long-running
        caller), or None. Read only when lists must be worked out, and only if this builder's code
        wrote it: it is plain pickled data of the engine's own classes."""
        self.related_engine_key = ""
        if self.relations is not None or not self.enabled:
            return self.relations
        try:
            with open(self.folder / _RELATED, "rb") as stream, long_lived():
                if pickle.load(stream) != code_version():
                    return None
                key = pickle.load(stream)
                engine = pickle.load(stream)
        except _UNREADABLE:
            return None
        self.related_engine_key = key if isinstance(key, str) else ""
        return engine

    def related_engine_bytes(self) -> int:
        """The size of the related engine's state an earlier CLI build of this builder left on
        disk, or 0 when there is none (only its header is read)."""
        if not self.enabled:
            return 0
        try:
            with open(self.folder / _RELATED, "rb") as stream:
                ours = pickle.load(stream) == code_version()
                return os.fstat(stream.fileno()).st_size if ours else 0
        except _UNREADABLE:
            return 0

    def saved_analyses(self) -> dict[str, Any]:
        """The related engine's text analyses as the last build saved them, read on their own (the
        related helper process needs only these), or {} when there are none this builder can use
        (or the cache is off)."""
        if not self.enabled:
            return {}
        try:
            with open(self.folder / _STATE, "rb") as stream:
                state, listing = pickle.load(stream)
            if not isinstance(state, CacheState) or state.builder_version != code_version():
                return {}
            with long_lived():
                return dict(TableStore(self.folder).load({"analyses": listing["analyses"]}).get("analyses", {}))
        except (*_UNREADABLE, KeyError):
            return {}

    def keep_related_engine(self, engine: Any, lists_key: str = "") -> None:
        """Keep ENGINE for the next build: in memory for a long-running caller (written with the
        rest in persist_now), else on disk at once, with LISTS_KEY, the key of the inputs its
        lists were made for (CacheState.related), which related_engine() then leaves in
        `related_engine_key`."""
        if not self.persist:
            self.relations = engine
        else:
            self._write_related(engine, lists_key)

    def _write_related(self, engine: Any, lists_key: str = "") -> None:
        if self.enabled and engine is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            _dump_atomically(engine, self.folder / _RELATED, header=code_version(), key=lists_key)

    def _load(self) -> CacheState:
        try:
            with long_lived():
                with open(self.folder / _STATE, "rb") as stream:
                    state, listing = pickle.load(stream)
                if not isinstance(state, CacheState) or state.builder_version != code_version():
                    self._tables.discard(listing)  # another builder's pieces: gone once our state is saved
                    return CacheState()
                for name, table in self._tables.load(listing, lazy=_LAZY).items():
                    if name in _CHUNKED:
                        setattr(state, name, table)
        except _UNREADABLE:
            return CacheState()
        return state

    def save(self, state: CacheState) -> None:
        """Keep STATE; write it too unless this cache only persists at the end (persist_now)."""
        self._state = state
        if self.persist:
            self.persist_now()

    def set_aside(self, table: str) -> None:
        """Write TABLE of the state now and let go of it, for a table the rest of the build never
        reads (the text analyses, once the related lists are made: 250 MB at 100,000 articles).
        It is saved with the state as written now; a second call does nothing. A cache kept in
        memory between builds (persist=False) keeps it."""
        state = self._state
        if not self.enabled or not self.persist or state is None or table not in _CHUNKED or table in self._aside:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._aside[table] = self._tables.save({table: getattr(state, table)}, final=True)[table]
        setattr(state, table, {})

    def persist_now(self) -> None:
        """Write the state atomically; a crash mid-write leaves the previous state."""
        state = self._state
        if not self.enabled or state is None:
            return
        self.bodies.flush()
        listing = {**self._tables.save({name: getattr(state, name) for name in _CHUNKED if name not in self._aside}),
                   **self._aside}
        empty: dict[str, Any] = {name: {} for name in _CHUNKED}
        _dump_atomically((dataclasses.replace(state, **empty), listing), self.folder / _STATE)
        self._tables.collect(listing)
        if not self.persist:
            self._write_related(self.relations)

    def close(self) -> None:
        if self.related_helper is not None:
            self.related_helper.finish()
            self.related_helper = None
        if self._bodies is not None:
            self._bodies.close()


def _dump_atomically(value: Any, path: Path, *, header: Any = None, key: str | None = None) -> None:
    """Pickle VALUE to PATH through a temporary file beside it, so a reader never sees half a file.
    A HEADER is pickled first, to be checked before the value is read; then the KEY, if any."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    with os.fdopen(handle, "wb") as stream:
        if header is not None:
            pickle.dump(header, stream, protocol=pickle.HIGHEST_PROTOCOL)
        if key is not None:
            pickle.dump(key, stream, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(value, stream, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(temp, path)
