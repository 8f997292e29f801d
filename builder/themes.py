"""Find a theme and its parents: templates and static files looked up child first, default theme last."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import builder
from builder.config import CONFIG_NAME
from builder.errors import BuildError, Problem, did_you_mean

DEFAULT_THEME = "peace"
THEME_FILE = "theme.toml"
_THEME_KEYS = frozenset({"name", "parent", "description", "author", "license"})


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    chain: tuple[Path, ...]  # theme folders, the chosen theme first

    @property
    def template_dirs(self) -> list[str]:
        return [str(folder / "templates") for folder in self.chain if (folder / "templates").is_dir()]

    def static_files(self) -> tuple[dict[str, Path], list[Problem]]:
        """Output-relative path under static/ -> the file that wins (child over parent), and warnings
        for links that lead out of their theme (not followed: a theme must not publish other files)."""
        files: dict[str, Path] = {}
        warnings: list[Problem] = []
        for folder in reversed(self.chain):
            static = folder / "static"
            real_theme = os.path.realpath(folder)
            for dirpath, dirnames, filenames in os.walk(static, followlinks=True):
                if os.path.commonpath([os.path.realpath(dirpath), real_theme]) != real_theme:
                    warnings.append(Problem(_shown(folder, Path(dirpath)), None, "is a link to a place outside the "
                                            "theme; not followed", "copy the files into the theme instead"))
                    dirnames[:] = []
                    continue
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in filenames:
                    path = Path(dirpath) / name
                    if name.startswith("."):
                        continue
                    if os.path.commonpath([os.path.realpath(path), real_theme]) != real_theme:
                        warnings.append(Problem(_shown(folder, path), None, "is a link to a place outside the "
                                                "theme; not followed", "copy the file into the theme instead"))
                        continue
                    files[path.relative_to(static).as_posix()] = path
        return dict(sorted(files.items())), warnings


def _shown(theme: Path, path: Path) -> str:
    return f"themes/{theme.name}/{path.relative_to(theme).as_posix()}"


def builtin_themes_dir() -> Path:
    """Themes shipped with the package; in a source checkout they sit at the repository's top level."""
    package = Path(builder.__file__).parent
    installed = package / "_themes"
    return installed if installed.is_dir() else package.parent / "themes"


def load_theme(source: Path, name: str) -> Theme:
    chain: list[Path] = []
    seen: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen:
            cycle = " -> ".join([*seen, current])
            where = f"themes/{seen[-1]}/{THEME_FILE}"
            raise BuildError([Problem(where, _line_of_key(source / where, "parent"),
                                      f"theme parents form a cycle: {cycle}",
                                      "make the last theme's parent a theme without that parent (e.g. 'peace')")])
        seen.append(current)
        folder = _find(source, current)
        if folder is None:
            where = f"themes/{seen[-2]}/{THEME_FILE}" if len(seen) > 1 else CONFIG_NAME
            line = _line_of_key(source / where, "parent" if len(seen) > 1 else "theme")
            hint = f"{did_you_mean(current, _available(source))} (a theme is a folder themes/<name>/)"
            raise BuildError([Problem(where, line, f"unknown theme '{current}'", hint)])
        if not any(os.path.samefile(folder, f) for f in chain):
            chain.append(folder)
        current = _parent_of(source, folder)
    default = _find(source, DEFAULT_THEME, builtin_only=True)
    if default is not None and not any(os.path.samefile(default, f) for f in chain):
        chain.append(default)
    return Theme(name, tuple(chain))


def _find(source: Path, name: str, *, builtin_only: bool = False) -> Path | None:
    if not name or "/" in name or "\\" in name or name.startswith("."):
        return None
    places = [builtin_themes_dir()] if builtin_only else [source / "themes", builtin_themes_dir()]
    for place in places:
        if (place / name).is_dir():
            return place / name
    return None


def _parent_of(source: Path, folder: Path) -> str | None:
    path = folder / THEME_FILE
    if not path.is_file():
        return None
    where = _display(source, path)
    try:
        meta = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise BuildError([Problem(where, _line_of_error(str(exc)), f"cannot be read: {reason}",
                                  "check the TOML syntax")]) from None
    problems = [Problem(where, _line_of_key(path, key), f"unknown key '{key}'", did_you_mean(key, _THEME_KEYS))
                for key in meta if key not in _THEME_KEYS]
    parent = meta.get("parent")
    if parent is not None and not isinstance(parent, str):
        problems.append(Problem(where, _line_of_key(path, "parent"), "'parent' must be a theme name in quotes",
                                'parent = "peace"'))
    if problems:
        raise BuildError(problems)
    return parent


def _line_of_key(path: Path, key: str) -> int | None:
    """The line of a top-level `key = ...` in a small TOML file, for messages; None if not found."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith("["):
            return None  # past the top-level keys
        if pattern.match(line):
            return number
    return None


def _line_of_error(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def _available(source: Path) -> list[str]:
    names = set()
    for place in (source / "themes", builtin_themes_dir()):
        if place.is_dir():
            names |= {p.name for p in place.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return sorted(names)


def _display(source: Path, path: Path) -> str:
    try:
        return path.relative_to(source).as_posix()
    except ValueError:
        return f"{path.parent.name}/{path.name}"
