"""Worker pools: results in order whatever the split; forked pools work here too, with workers\nreplaced between rounds."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from builder.parallel import SERIAL_CHUNK, TAIL_CHUNK, Background, can_fork, chunks, map_chunks


@given(st.integers(0, 40_000), st.integers(1, 8))
def test_pieces_hold_every_item_once_in_order_and_shrink_towards_the_end(count: int, workers: int) -> None:
    items = list(range(count))
    parts = chunks(items, workers)
    assert [item for part in parts for item in part] == items
    sizes = [len(part) for part in parts]
    assert all(0 < size <= SERIAL_CHUNK for size in sizes)
    assert sizes == sorted(sizes, reverse=True)  # never a bigger piece after a smaller one
    if parts:
        assert sizes[-1] <= TAIL_CHUNK  # the last piece is small, whoever gets it finishes soon
    if count >= 8 * workers * SERIAL_CHUNK:
        assert sizes[0] == SERIAL_CHUNK  # (not small everywhere: a piece has its overhead)


def _pids(shared: object, chunk: list[int]) -> list[tuple[int, int]]:
    return [(item, os.getpid()) for item in chunk]


@pytest.mark.skipif(not can_fork(), reason="rounds of fresh workers are for forked pools")
def test_forked_workers_are_fresh_for_each_round() -> None:
    items = list(range(900))
    results = [pair for batch in map_chunks(_pids, items, jobs=2, shared=None, needs_fork=True, round_items=300)
               for pair in batch]
    assert [item for item, _ in results] == items
    here = os.getpid()
    by_round = [{pid for item, pid in results if start <= item < start + 300} - {here} for start in (0, 300, 600)]
    assert all(len(workers) == 1 for workers in by_round)  # this process and one worker on two jobs
    assert not by_round[0] & by_round[1] and not by_round[1] & by_round[2]


def test_one_round_when_items_fit() -> None:
    items = list(range(400))
    results = [pair for batch in map_chunks(_pids, items, jobs=2, shared=None, needs_fork=True) for pair in batch]
    assert [item for item, _ in results] == items
    assert len({pid for _, pid in results} - {os.getpid()}) == 1


def test_few_items_run_here() -> None:
    results = [pair for batch in map_chunks(_pids, [1, 2, 3], jobs=2, shared=None, needs_fork=True) for pair in batch]
    assert results == [(1, os.getpid()), (2, os.getpid()), (3, os.getpid())]


def _fails() -> None:
    raise RuntimeError("a mistake")


@pytest.mark.skipif(not can_fork(), reason="a background process is forked")
def test_a_background_returns_its_result_or_none_when_it_failed() -> None:
    here = os.getpid()
    assert Background(lambda: (os.getpid(), [1, 2, 3])).result()[1] == [1, 2, 3]
    assert Background(lambda: os.getpid()).result() != here
    assert Background(_fails).result() is None
    assert Background(lambda: os._exit(3)).result() is None  # (died: nothing comes back)
    stopped = Background(lambda: __import__("time").sleep(60))
    stopped.stop()  # (a build that fails stops it at once)
    assert stopped.result() is None
