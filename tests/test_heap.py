"""The collector is kept off what the build cache loads, and stays on for everything else."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from builder.cache import Cache
from builder.heap import long_lived


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_long_lived_freezes_what_it_made_and_collects_again_after() -> None:
    with long_lived():
        assert not gc.isenabled()
        made = [[n] for n in range(1000)]
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)
    # cycles made afterwards are still collected
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


def test_long_lived_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    try:
        with long_lived():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_collector_is_back_on_after_an_error_inside() -> None:
    with pytest.raises(ValueError), long_lived():
        raise ValueError
    assert gc.isenabled()


def test_a_loaded_cache_is_frozen(tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    cache.state.parsed[("a.md", "d")] = ["an entry"]
    cache.persist_now()
    cache.close()
    gc.unfreeze()
    again = Cache(tmp_path)
    assert again.state.parsed == {("a.md", "d"): ["an entry"]}
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
    again.close()
