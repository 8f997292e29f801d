"""Content keys for view models: equal keys mean a template renders them to equal bytes.

A page's key is a hash of its view model, where each article card and body counts by its own
key instead of its contents, so hashing thousands of pages that share cards stays cheap.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from typing import Any

from builder.views import BodyRef, Card


class Fingerprints:
    def __init__(self) -> None:
        self._card_keys: dict[int, str] = {}
        self._keep: list[Card] = []  # keeps memoised cards alive so their ids stay unique

    def card_key(self, card: Card) -> str:
        key = self._card_keys.get(id(card))
        if key is None:
            key = canonical_digest(card)
            self._card_keys[id(card)] = key
            self._keep.append(card)
        return key

    def of(self, *parts: Any) -> str:
        buffer = io.BytesIO()
        _Pickler(buffer, self).dump(parts)
        return digest(buffer.getvalue())


class _Pickler(pickle.Pickler):
    """Pickles cards and bodies as their keys. A dispatch table, unlike persistent_id, costs nothing
    for the millions of other objects (strings, tuples) in a big site's pages."""

    def __init__(self, stream: io.BytesIO, owner: Fingerprints) -> None:
        super().__init__(stream, protocol=5)
        self.fast = True  # see canonical_pickle
        self.dispatch_table = {
            Card: lambda card: (str, (owner.card_key(card),)),
            BodyRef: lambda body: (str, (body.key,)),
        }


def canonical_digest(value: Any) -> str:
    return digest(canonical_pickle(value))


def canonical_pickle(value: Any) -> bytes:
    """VALUE's pickle made without pickle's memo: with it, the bytes depend on which equal objects
    happen to be one object (a date shared by a page and its listing, a string read from the
    cache), so equal values got other digests in another process and their pages were made
    again. (Fast mode is only unsafe for values that contain themselves, which ours never do.)"""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=5)
    pickler.fast = True
    pickler.dump(value)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()
