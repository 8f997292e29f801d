"""Find the site's source files under content/ (articles, data, assets) and read them as text."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from builder.errors import Problem

CONTENT = "content"
DATA = "_data"
ARTICLE_SUFFIXES = (".md", ".markdown")
DATA_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".toml")

# Editor temporaries, swap files and system clutter: never content (see also builder.serve.events).
_IGNORED_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".tmp", ".bak", "___jb_tmp___", "___jb_old___")
_IGNORED_NAMES = frozenset({"4913", "Thumbs.db", "desktop.ini"})


@dataclass(frozen=True, slots=True)
class SourceTree:
    """Paths relative to the site folder, POSIX style, sorted."""

    articles: tuple[str, ...]
    data_files: tuple[str, ...]
    assets: tuple[str, ...]
    warnings: tuple[Problem, ...]


def is_ignored_name(name: str) -> bool:
    return (name.startswith((".", "#")) or name.endswith(_IGNORED_SUFFIXES) or name in _IGNORED_NAMES)


def discover(source: Path) -> SourceTree:
    root = source / CONTENT
    articles: list[str] = []
    data_files: list[str] = []
    assets: list[str] = []
    warnings: list[Problem] = []
    if not root.is_dir():
        return SourceTree((), (), (), ())
    source_real = os.path.realpath(source)
    seen_dirs = {os.path.realpath(root)}
    # (folder, its path relative to the site folder): strings, not Paths, for 10,000s of files
    stack = [(str(root), CONTENT)]
    while stack:
        folder, folder_rel = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            warnings.append(Problem(folder_rel, None, f"cannot read this folder: {exc.strerror}"))
            continue
        for entry in entries:
            if is_ignored_name(entry.name):
                continue
            rel = f"{folder_rel}/{entry.name}"
            if entry.is_symlink():
                target = os.path.realpath(entry.path)
                if os.path.commonpath([target, source_real]) != source_real:
                    warnings.append(Problem(rel, None, "is a link to a place outside the site folder; not followed",
                                            "copy the file into content/ instead of linking to it"))
                    continue
                if not os.path.exists(target):
                    warnings.append(Problem(rel, None, "is a broken link; skipped", "remove it or fix its target"))
                    continue
            if entry.is_dir():
                real = os.path.realpath(entry.path)
                if real not in seen_dirs:
                    seen_dirs.add(real)
                    stack.append((entry.path, rel))
                continue
            if not entry.is_file():
                continue
            in_data = rel.startswith(f"{CONTENT}/{DATA}/")
            if in_data:
                (data_files if rel.endswith(DATA_SUFFIXES) else assets).append(rel)
            elif rel.lower().endswith(ARTICLE_SUFFIXES):
                articles.append(rel)
            else:
                assets.append(rel)
    assets = [a for a in assets if not a.startswith(f"{CONTENT}/{DATA}/")]
    return SourceTree(tuple(sorted(articles)), tuple(sorted(data_files)), tuple(sorted(assets)), tuple(warnings))


def read_text(source: Path, rel: str) -> str | Problem:
    """The file as text, or a problem naming why it is not readable UTF-8 text."""
    try:
        raw = (source / rel).read_bytes()
    except OSError as exc:
        return Problem(rel, None, f"cannot be read: {exc.strerror}", "check the file's permissions")
    return decode_text(rel, raw)


def decode_text(rel: str, raw: bytes) -> str | Problem:
    if b"\0" in raw[:8192]:
        return Problem(rel, None, "is a binary file, not text",
                       "articles must be Markdown text; move other files out or give them their own extension")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return Problem(rel, line, f"is not valid UTF-8 text: {exc.reason} at byte offset {exc.start} "
                       f"(byte 0x{raw[exc.start]:02x})",
                       "re-save the file with the encoding set to UTF-8 in your editor")
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")

