"""Cache keys of text analyses: cheap to compute, with no numerical libraries to import."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from builder.related.types import RelatedDoc

# Bump when tokenizing or stemming changes, so cached analyses from older builds are ignored.
ANALYSIS_VERSION = 2
FIELDS = ("title", "summary", "text")


def analysis_key(doc: RelatedDoc) -> str:
    """A stable hash of the fields the analysis depends on (and of the analysis version)."""
    if doc.key:  # the caller vouches that this key changes whenever title, summary or text do
        return vouched_key(doc.key)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"v{ANALYSIS_VERSION}".encode())
    for name in FIELDS:
        value = getattr(doc, name).encode("utf-8", "surrogatepass")
        digest.update(len(value).to_bytes(8, "little"))
        digest.update(value)
    return digest.hexdigest()


def vouched_key(key: str) -> str:
    """analysis_key() of a doc whose caller-given `key` stands for its title, summary and text: the
    key itself, marked with the analysis version (a concatenation, not a digest: every build asks
    for 10,000s of them in two processes, and it cannot equal a digest of the fields)."""
    return f"v{ANALYSIS_VERSION}:key:{key}"
