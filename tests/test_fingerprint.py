"""Page and input keys: equal values, equal keys, in any process."""

from __future__ import annotations

from datetime import UTC, datetime

from builder.fingerprint import Fingerprints, canonical_digest
from builder.views import Card


def _day() -> datetime:
    return datetime(2026, 1, 1, 9, tzinfo=UTC)


def test_keys_do_not_depend_on_which_equal_objects_are_one_object() -> None:
    day = _day()
    shared = [("/a/", day), ("/b/", day)]  # one date object, as a page and its listing share it
    separate = [("/a/", _day()), ("/b/", _day())]  # equal dates, read or made apart
    assert Fingerprints().of("sitemaps", shared) == Fingerprints().of("sitemaps", separate)
    assert canonical_digest(shared) == canonical_digest(separate)
    assert canonical_digest(shared) != canonical_digest([("/a/", day), ("/c/", day)])


def test_a_card_key_is_the_same_however_its_values_are_shared() -> None:
    fields = {name: None for name in Card.__dataclass_fields__}
    iso = "2026-01-01T09:00:00+00:00"
    one = Card(**{**fields, "title": "T", "date": _day(), "date_iso": iso, "updated_iso": iso})
    two = Card(**{**fields, "title": "T", "date": _day(), "date_iso": "".join(iso), "updated_iso": iso[:10] + iso[10:]})
    assert two.date_iso is not two.updated_iso
    assert Fingerprints().card_key(one) == Fingerprints().card_key(two)
