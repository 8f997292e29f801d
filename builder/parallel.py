"""Process pools for the two heavy steps (Markdown parsing, page rendering), used only where they pay."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting processes costs more than it saves (measured: benchmarks/README.md).
MIN_PARALLEL_ITEMS = 200


def worker_count(jobs: int | None) -> int:
    if jobs is not None:
        return max(1, jobs)
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, available)


def can_fork() -> bool:
    """Forked workers share the parent's memory for free, but forking a process that runs other
    threads (the preview server) can deadlock the child, so only a single-threaded parent forks."""
    return (sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()
            and threading.active_count() == 1)


def chunks(items: Sequence[T], workers: int, per_worker: int = 8) -> list[Sequence[T]]:
    size = max(1, -(-len(items) // (workers * per_worker)))
    return [items[i:i + size] for i in range(0, len(items), size)]


def map_chunks(function: Callable[..., R], items: Sequence[T], *, jobs: int | None, shared: Any = None,
               needs_fork: bool = False) -> Iterator[R]:
    """function(shared, chunk) for chunks of items, in worker processes when that pays, in order.

    With needs_fork, `shared` reaches workers through fork (never pickled); without fork the work
    runs here instead. Otherwise `shared` must be picklable.
    """
    workers = worker_count(jobs)
    parallel = workers > 1 and len(items) >= MIN_PARALLEL_ITEMS and (can_fork() or not needs_fork)
    if not parallel:
        yield function(shared, items)
        return
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    if needs_fork:
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_set_shared, initargs=(shared,)) as pool:
            yield from pool.map(_call_with_shared, _bind(function, chunks(items, workers)))
    else:
        parts = chunks(items, workers)
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            yield from pool.map(function, [shared] * len(parts), parts)


_shared: Any = None


def _set_shared(value: Any) -> None:
    global _shared  # a worker process's copy of the parent's data, set once when the worker starts
    _shared = value


def _bind(function: Callable[..., R], parts: Iterable[Sequence[T]]) -> list[tuple[Callable[..., R], Sequence[T]]]:
    return [(function, part) for part in parts]


def _call_with_shared(task: tuple[Callable[..., R], Sequence[T]]) -> R:
    function, part = task
    return function(_shared, part)
