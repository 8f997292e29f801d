"""The only module that writes the site: stage changed files beside the output, then move them in."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Collection
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

MARKER = ".builder-site"
_MARKER_TEXT = ("This folder is made by `builder build`, which replaces and deletes files here.\n"
                "Do not keep anything of your own in it.\n")


class OutputRefused(Exception):
    """The output folder is one we must not write to; `hint` says what to do instead."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class WriteSummary:
    written: int
    unchanged: int
    removed: int
    changed: tuple[str, ...] = ()  # output-relative paths written or removed, sorted


def check_output_folder(source: Path, output: Path) -> None:
    """Refuse outputs whose replacement would destroy the user's own files."""
    src, out = source.resolve(), output.resolve()
    home = Path.home().resolve()
    forbidden = {
        src: "the site folder itself",
        src / "content": "the content folder",
        src / "themes": "the themes folder",
        home: "your home folder",
        Path(out.anchor): "the root of the file system",
    }
    for place, name in forbidden.items():
        if out == place:
            raise OutputRefused(f"refusing to use {name} ({output}) as the output folder",
                                "choose a folder of its own, such as site/ (the default)")
    for place in (src / "content", src / "themes"):
        if place in out.parents:
            raise OutputRefused(f"refusing to write the site inside {place.name}/ ({output})",
                                "choose a folder outside content/ and themes/, such as site/")
    if out in src.parents:
        raise OutputRefused(f"refusing to use {output}: it contains the site folder",
                            "choose a folder inside or beside the site folder, such as site/")
    if out.exists() and not out.is_dir():
        raise OutputRefused(f"the output {output} exists and is not a folder", "remove it or choose another path")
    if out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir()):
        raise OutputRefused(f"the output folder {output} already holds files that builder did not make",
                            "move them away, or choose an empty or new folder with --output")


def sync_folder(new: Path, target: Path) -> int:
    """Make TARGET hold exactly NEW's files, replacing only files whose bytes differ (so unchanged
    ones keep their modification time); NEW is consumed. Returns the number of files replaced."""
    replaced = 0
    target.mkdir(parents=True, exist_ok=True)
    wanted: set[str] = set()
    for dirpath, _dirnames, filenames in os.walk(new):
        folder = Path(dirpath)
        relative = folder.relative_to(new)
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in filenames:
            rel = (relative / name).as_posix()
            wanted.add(rel)
            old, fresh = target / rel, folder / name
            if old.is_file() and old.stat().st_size == fresh.stat().st_size and old.read_bytes() == fresh.read_bytes():
                continue
            os.replace(fresh, old)
            replaced += 1
    for dirpath, dirnames, filenames in os.walk(target, topdown=False):
        folder = Path(dirpath)
        for name in filenames:
            if (folder / name).relative_to(target).as_posix() not in wanted:
                (folder / name).unlink()
        for name in dirnames:
            if not any((folder / name).iterdir()):
                (folder / name).rmdir()
    shutil.rmtree(new, ignore_errors=True)
    return replaced


class SiteWriter:
    """Collects the new site in a staging folder; nothing in the output changes before commit()."""

    def __init__(self, output: Path, *, keep: tuple[str, ...] = (), previous: AbstractSet[str] | None = None) -> None:
        """PREVIOUS, when the caller knows it, is every file the last build left in OUTPUT (the
        preview server keeps it, and nothing else writes to its folder): exists() then answers
        from it and commit() deletes only what the new site lacks. Otherwise the output is walked
        once (see _listing)."""
        self.output = output.absolute()
        self._previous = previous
        self._keep_prefixes = tuple(f"{folder}/" for folder in keep)  # folders other tools write (search index)
        self._root = str(self.output)
        self.staging = self.output.parent / f".{self.output.name}.staging-{os.getpid()}"
        if self.staging.exists():
            shutil.rmtree(self.staging)
        self.staging.mkdir(parents=True)
        self.expected: set[str] = set()
        self._staged: list[str] = []
        self._unchanged = 0
        self._found: Listing | None = None

    @property
    def exists_now(self) -> Callable[[str], bool]:
        """exists() as a plain lookup, for asking about every page of a build (a method call and
        a listing lookup per page cost 8 ms at 10,000 articles). Walks the output if need be."""
        if self._previous is not None:
            # The caller that knows the previous build (the preview server) owns the folder:
            # what that build left is there. A stat per page cost 60 ms a save at 10,000 articles.
            return self._previous.__contains__
        return self._listing().files.__contains__  # (a lookup: no path is opened, so none needs checking)

    def exists(self, rel: str) -> bool:
        """Whether the output holds a regular file at REL."""
        return self.exists_now(rel)

    @property
    def walks_output(self) -> bool:
        """Whether exists() and commit() need a walk of the output (no known previous build)."""
        return self._previous is None

    def list_output(self) -> None:
        """Walk the output now, if exists() and commit() will need the walk."""
        if self.walks_output:
            self._listing()

    def walk_output(self, until: Callable[[], bool] | None = None) -> Listing:
        """The walk list_output() makes, stopped early once UNTIL says so: for another process to
        make as much of it as it can (the build's related helper, while it waits: the whole walk
        takes 0.17 s for the 15,500 files of a 10,000-article site)."""
        return Listing(self._root, stamps=True, until=until)

    def take_listing(self, found: Listing) -> None:
        """Use FOUND, a walk_output() made meanwhile, instead of walking the output here; what
        it left unlisted is listed when needed."""
        if self.walks_output and self._found is None and isinstance(found, Listing):
            self._found = found

    def _listing(self) -> Listing:
        """What the output held when first asked, from one walk that never follows links: cheaper
        than a stat per page, and commit() then deletes what the new site lacks from it instead of
        walking the folder a second time."""
        if self._found is None:
            self._found = self.walk_output()
        elif not self._found.complete:
            self._found.finish()
        return self._found

    @property
    def listed_stamps(self) -> dict[str, tuple[int, int, int]]:
        """Listing.stamps of the walk, if the output was walked (else empty)."""
        return self._found.stamps if self._found is not None else {}

    def write(self, rel: str, data: bytes) -> bool:
        """Stage `data` for `rel` unless the output already holds these exact bytes; True if staged."""
        staged = stage(self.output, self.staging, _safe(rel), data)
        self.record(rel, staged)
        return staged

    def record(self, rel: str, staged: bool) -> None:
        """Account for a file staged (or found unchanged) by stage(), possibly in a worker process."""
        rel = _safe(rel)
        self._expect(rel)
        if staged:
            self._staged.append(rel)
        else:
            self._unchanged += 1

    def copy(self, rel: str, source_file: Path) -> bool:
        rel = _safe(rel)
        self._expect(rel)
        old = self.output / rel
        try:
            new_stat, old_stat = source_file.stat(), old.stat()
            if new_stat.st_size == old_stat.st_size and new_stat.st_mtime_ns == old_stat.st_mtime_ns:
                self._unchanged += 1
                return False
        except OSError:
            pass
        target = self.staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_file, target)
        self._staged.append(rel)
        return True

    def discard(self, rel: str) -> None:
        """Take back a file staged by stage() that this build turned out not to want, and the
        folders staged for it alone."""
        target = self.staging / _safe(rel)
        target.unlink(missing_ok=True)
        for folder in target.parents:
            if folder == self.staging:
                break
            try:
                folder.rmdir()
            except OSError:  # (not empty: other files are staged there)
                break

    def keep(self, rel: str) -> None:
        """The output's current file is known to be right (an incremental build skipped rendering it)."""
        self._expect(_safe(rel))
        self._unchanged += 1

    def keep_all(self, rels: Collection[str]) -> None:
        """keep() for each of RELS (distinct paths a page record of the last build named), at
        once: one call a page took 0.035 s at 10,000 articles. Unchecked for safety: keeping
        only spares a file from deletion, and every path a build writes to is checked."""
        before = len(self.expected)
        self.expected.update(rels)
        if len(self.expected) != before + len(rels):
            raise ValueError("two outputs for one path")  # (a bug guard, as in _expect)
        self._unchanged += len(rels)

    def _expect(self, rel: str) -> None:
        if rel in self.expected:
            raise ValueError(f"two outputs for {rel}")  # callers check collisions first; this is a bug guard
        self.expected.add(rel)

    def commit(self) -> WriteSummary:
        """Move staged files into the output and delete files the new site no longer has: of
        the previous build's files when known, else of what the walk of the output found."""
        (self.staging / MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
        if not self.output.exists():
            self.staging.rename(self.output)
            return WriteSummary(len(self._staged), self._unchanged, 0, tuple(sorted(self._staged)))
        real_output = os.path.realpath(self.output)
        for dirpath, _dirnames, filenames in os.walk(self.staging):
            folder = self.output / Path(dirpath).relative_to(self.staging)
            folder.mkdir(parents=True, exist_ok=True)
            if os.path.commonpath([os.path.realpath(folder), real_output]) != real_output:
                raise OutputRefused(f"{folder} leads outside the output folder (a link?)",
                                    "remove links from the output folder")
            for name in filenames:
                os.replace(os.path.join(dirpath, name), folder / name)
        if self._previous is not None:
            removed = self._remove_known(self._previous - self.expected)
        else:
            # the listing made for exists(), or made now: either way, what it holds that the new
            # site does not (files just moved in are expected) goes
            found = self._listing()
            removed = self._remove((found.files | found.others) - self.expected - {MARKER})
            for rel in found.empty:
                self._drop_empty_folders(os.path.join(self._root, rel))
        self.abort()
        changed = tuple(sorted([*self._staged, *removed]))
        return WriteSummary(len(self._staged), self._unchanged, len(removed), changed)

    def _remove_known(self, stale: AbstractSet[str]) -> list[str]:
        """Delete STALE, paths a previous build wrote (checked, as they come from the cache)."""
        return self._remove({rel for rel in stale if is_safe_path(rel)})

    def _remove(self, stale: AbstractSet[str]) -> list[str]:
        """Delete STALE (output-relative paths; folders other tools write are left alone) and the
        folders this empties."""
        removed: list[str] = []
        for rel in sorted(stale):
            if rel.startswith(self._keep_prefixes):
                continue
            path = os.path.join(self._root, rel)
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
            removed.append(rel)
            self._drop_empty_folders(os.path.dirname(path))
        return removed

    def _drop_empty_folders(self, folder: str) -> None:
        """Delete FOLDER if it is an empty folder (not a link), then its parents that this empties."""
        while folder != self._root and os.path.isdir(folder) and not os.path.islink(folder) \
                and not os.listdir(folder):
            os.rmdir(folder)
            folder = os.path.dirname(folder)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)


class Listing:
    """An output folder's entries by kind, output-relative: regular files, anything else that is
    not a folder (links, never followed), and folders with nothing in them; with `stamps`, also
    each regular file's (size, mtime_ns, mode). A walk told to stop early holds the folders it
    has yet to list, and finish() lists them (in another process, if it was pickled meanwhile)."""

    # Folders listed between two calls of `until`: at 10,000 articles about one millisecond
    POLL_EVERY = 64

    def __init__(self, root: str, *, skip: str | None = None, stamps: bool = False,
                 until: Callable[[], bool] | None = None) -> None:
        """Walk ROOT (if it is a folder), leaving out its top-level folder SKIP; stop early, with
        the walk unfinished, once UNTIL (if given) says so."""
        self.files: set[str] = set()
        self.others: set[str] = set()
        self.empty: list[str] = []
        self.stamps: dict[str, tuple[int, int, int]] = {}
        self._skip = skip
        self._stamped = stamps
        self._pending: list[tuple[str, str]] = [(root, "")] if os.path.isdir(root) else []
        self._walk(until)

    @property
    def complete(self) -> bool:
        return not self._pending

    def finish(self) -> None:
        """List the folders an early stop left."""
        self._walk(None)

    def _walk(self, until: Callable[[], bool] | None) -> None:
        listed = 0
        while self._pending:
            if until is not None and listed % self.POLL_EVERY == 0 and until():
                return
            self._scan(*self._pending.pop())
            listed += 1

    def _scan(self, folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            listed = list(entries)
        if not listed and prefix:
            self.empty.append(prefix.rstrip("/"))
        for entry in listed:
            rel = prefix + entry.name
            if entry.is_dir(follow_symlinks=False):
                if rel != self._skip:
                    self._pending.append((entry.path, rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                self.files.add(rel)
                if self._stamped:
                    stat = entry.stat(follow_symlinks=False)
                    self.stamps[rel] = (stat.st_size, stat.st_mtime_ns, stat.st_mode)
            else:
                self.others.add(rel)


def stage(output: Path, staging: Path, rel: str, data: bytes) -> bool:
    """Write `data` into the staging folder unless output/rel already holds exactly these bytes.
    Plain os calls on strings, not pathlib: a page costs one stat, one open (a mkdir first when its
    folder is new) and one write; Path objects, exist_ok's checks and a buffered file added about
    half as much CPU again as those calls take (and a cold build writes every page)."""
    rel = _safe(rel)
    old = f"{output}/{rel}"
    try:
        if os.stat(old).st_size == len(data) and _read(old) == data:
            return False
    except OSError:
        pass
    target = f"{staging}/{rel}"
    try:
        handle = os.open(target, _WRITE_FLAGS, 0o666)
    except FileNotFoundError:  # its folder is not staged yet
        os.makedirs(os.path.dirname(target), exist_ok=True)
        handle = os.open(target, _WRITE_FLAGS, 0o666)
    try:
        left = memoryview(data)
        while left:
            left = left[os.write(handle, left):]
    finally:
        os.close(handle)
    return True


_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)


def _read(path: str) -> bytes:
    with open(path, "rb", buffering=0) as stream:
        return stream.read()


_UNSAFE_CHARS = re.compile(r"[\\:\x00-\x1f]")  # backslash, drive colon, control characters


def is_safe_path(rel: str) -> bool:
    """True for a relative POSIX path that stays inside the output folder on every platform.
    (Called for every page of every build, so string tests rather than PurePosixPath.)"""
    if not rel or rel[0] == "/" or rel[-1] == "/" or "//" in rel or _UNSAFE_CHARS.search(rel):
        return False  # (an empty part)
    if rel[0] != "." and "/." not in rel:
        return True  # no part can be "." or ".."
    return not any(part in (".", "..") for part in rel.split("/"))


def _safe(rel: str) -> str:
    """Reject any output path that could leave the output folder; callers check user-given names first."""
    if not is_safe_path(rel):
        raise ValueError(f"unsafe output path {rel!r}")
    return rel
