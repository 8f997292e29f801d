"""Slugs: readable, transliterated, and never able to name a path outside their folder."""

import pytest

from builder.slugs import is_safe_slug, slugify


@pytest.mark.parametrize("text, slug", [
    ("Talks Resume in Geneva: What's Next?", "talks-resume-in-geneva-whats-next"),
    ("Grüße aus Köln", "grusse-aus-koln"),
    ("Ελλάδα", "ellada"),
    ("../../etc/passwd", "etc-passwd"),
    ("C:\\Windows", "c-windows"),
    ("🕊️", ""),
])
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


@pytest.mark.parametrize("slug, safe", [
    ("peace-talks", True), ("a_b", True), ("2026-review", True),
    ("", False), ("..", False), ("a/b", False), ("a\\b", False), ("-a", False), ("A", False), ("a\0", False),
])
def test_is_safe_slug(slug: str, safe: bool) -> None:
    assert is_safe_slug(slug) is safe
