"""Find the line of an article's Markdown source where a link or image is written.

The converted body says which links exist; this module only finds where each was typed, by
reading the link targets out of the source and rewriting them the way builder.content.markup does.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
from urllib.parse import unquote

from builder.content.markup import REF_SCHEME
from builder.urls import split_url

_FENCE = re.compile(r"^-{3,}\s*$")
_INLINE = re.compile(r"\]\(\s*(?:<([^>\n]*)>|([^\s)]+(?:\([^\s)]*\)[^\s)]*)*))")
_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(?:<([^>\n]*)>|(\S+))")
_HTML_ATTRIBUTE = re.compile(r"""\b(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>", re.I)


def rewritten(target: str, folder: str, base_path: str, *, is_image: bool) -> str:
    """What builder.content.markup makes of a link target written in an article in `folder`."""
    if not target or target.startswith(("#", "/")):
        return target
    parts = split_url(target)
    if parts is None or parts.scheme or parts.netloc:
        return target
    resolved = posixpath.normpath(posixpath.join(folder, unquote(parts.path)))
    if resolved.startswith("../") or resolved == "..":
        return target
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    if resolved.endswith(".md") and not is_image:
        return f"{REF_SCHEME}{resolved}{fragment}"
    return f"{base_path}{resolved}{fragment}"


class SourceLinks:
    """Link targets of one article's body, in the order written, with their lines."""

    def __init__(self, text: str, folder: str, base_path: str) -> None:
        self.folder = folder
        self.base_path = base_path
        self.lines = text.split("\n")
        self.body_start = _body_start(self.lines)
        # (value in the converted body, is an image) -> [(line, target as written)], in source order
        self._index: dict[tuple[str, bool], list[tuple[int, str]]] = {}
        for index in range(self.body_start, len(self.lines)):
            line = self.lines[index]
            for pattern in (_INLINE, _DEFINITION, _HTML_ATTRIBUTE, _AUTOLINK):
                for match in pattern.finditer(line):
                    written = next((g for g in match.groups() if g is not None), "").strip()
                    for is_image in (False, True):
                        for value in {written, rewritten(written, folder, base_path, is_image=is_image)}:
                            self._index.setdefault((value, is_image), []).append((index + 1, written))
        self._used: Counter[tuple[str, bool]] = Counter()

    def find(self, value: str, *, is_image: bool) -> tuple[int | None, str]:
        """(line, target as written) for a link value of the converted body; each call for the same
        value takes the next occurrence, so a link written twice is reported at both lines."""
        matches = self._index.get((value, is_image))
        if matches:
            occurrence = self._used[(value, is_image)]
            self._used[(value, is_image)] += 1
            return matches[min(occurrence, len(matches) - 1)]
        shown = _shown(value)
        for index in range(self.body_start, len(self.lines)):
            if shown in self.lines[index] or value in self.lines[index]:
                return index + 1, shown
        return None, shown


def _shown(value: str) -> str:
    return value.removeprefix(REF_SCHEME)


def _body_start(lines: list[str]) -> int:
    """Index of the first line after the front matter (0 when there is none)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or not _FENCE.match(lines[first]):
        return 0
    for index in range(first + 1, len(lines)):
        if _FENCE.match(lines[index]):
            return index + 1
    return len(lines)
