"""Turn names into URL segments that are safe to use as folder names."""

from __future__ import annotations

import functools
import re

from slugify import slugify as _transliterate_slug

# A slug is one path segment: lowercase ASCII letters and digits joined by single
# hyphens or underscores. Nothing else can reach the file system through a slug.
_SAFE_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_MAX_SLUG = 120


# "What's next" should read "whats-next", not "what-s-next".
_APOSTROPHES = [["'", ""], ["\u2019", ""], ["\u02bc", ""]]


@functools.lru_cache(maxsize=65536)  # the same tag and author names recur across thousands of articles
def slugify(text: str) -> str:
    """Transliterate any script to ASCII and hyphenate; '' when nothing usable remains."""
    return _transliterate_slug(text, max_length=_MAX_SLUG, word_boundary=True, replacements=_APOSTROPHES)


def is_safe_slug(slug: str) -> bool:
    return len(slug) <= _MAX_SLUG and bool(_SAFE_SLUG.match(slug))
