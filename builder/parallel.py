"""Process pools for the two heavy steps (Markdown parsing, page rendering), used only where they pay."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many items, starting processes costs more than it saves (measured: benchmarks/README.md).
MIN_PARALLEL_ITEMS = 200
SERIAL_CHUNK = 512
TAIL_CHUNK = 8  # the smallest piece chunks() makes near the end
# Forked workers live for at most this many items (see map_chunks); a 10,000-article site's pages
# fit in one round.
ROUND_ITEMS = 16_000


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
    """Pieces small enough that few results are in memory at once, many enough to balance workers.
    Towards the end they shrink with what is left (a share of it for each worker, down to
    TAIL_CHUNK): with pieces of one size, one worker sat out the other's last piece, on average
    half a piece (at 10,000 articles 0.4 s of parsing and 0.5 s of rendering, one core idle)."""
    size = max(1, min(SERIAL_CHUNK, -(-len(items) // (workers * per_worker))))
    parts: list[Sequence[T]] = []
    start = 0
    while start < len(items):
        left = len(items) - start
        part = min(size, max(TAIL_CHUNK, -(-left // (2 * workers))))
        parts.append(items[start:start + part])
        start += part
    return parts


def map_chunks(function: Callable[..., R], items: Sequence[T], *, jobs: int | None, shared: Any = None,
               needs_fork: bool = False, round_items: int = ROUND_ITEMS) -> Iterator[R]:
    """function(shared, chunk) for chunks of items, in worker processes when that pays, in order.

    With needs_fork, `shared` reaches workers through fork (never pickled); without fork the work
    runs here instead. Otherwise `shared` must be picklable. At most two pieces per worker are in
    flight, so finished results never pile up in memory faster than the caller consumes them.
    Forked workers are replaced by fresh ones after each ROUND_ITEMS items.
    """
    workers = worker_count(jobs)
    parallel = workers > 1 and len(items) >= MIN_PARALLEL_ITEMS and (can_fork() or not needs_fork)
    if not parallel:
        for start in range(0, len(items), SERIAL_CHUNK):
            yield function(shared, items[start:start + SERIAL_CHUNK])
        return
    context = multiprocessing.get_context("fork" if can_fork() else "spawn")
    if not needs_fork:
        pool = ProcessPoolExecutor(workers, mp_context=context)
        yield from _in_order(pool, chunks(items, workers), lambda part: (function, shared, part), None, workers)
        return
    # A forked worker copies every page of the parent's memory holding an object it reads (a
    # reference count is a write): one that rendered half of 100,000 articles' pages held a private
    # copy of 900 MB. So this process, the one that copies nothing, works too, with one worker
    # fewer; and fresh workers for each round keep their copies to what one round reads.
    rounds = -(-len(items) // max(1, round_items))
    size = -(-len(items) // rounds)
    for start in range(0, len(items), size):
        forked = ProcessPoolExecutor(workers - 1, mp_context=context, initializer=_set_shared, initargs=(shared,))
        yield from _in_order(forked, chunks(items[start:start + size], workers),
                             lambda part: (_call_with_shared, (function, part)),
                             lambda part: function(shared, part), workers - 1)


class Background:
    """WORK() in one forked process, started now and collected later: work for the core this
    process leaves idle while it waits on its own threads or works alone. No pool (its manager
    thread would keep this process from forking workers later); the result comes back in one
    message once it is complete, so the pipe never fills while nobody reads it."""

    def __init__(self, work: Callable[[], Any]) -> None:
        context = multiprocessing.get_context("fork")
        self._results, theirs = context.Pipe(duplex=False)
        self._process = context.Process(target=_in_background, args=(work, theirs), name="builder-background",
                                        daemon=True)
        self._process.start()
        theirs.close()

    def result(self) -> Any:
        """What WORK returned, or None when it failed or the process died (the caller then does
        the work itself, and meets any mistake in it with its own traceback)."""
        try:
            finished, value = self._results.recv()
        except (EOFError, OSError):
            finished, value = False, None
        finally:
            self.stop()
        return value if finished else None

    def stop(self) -> None:
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._results.close()


def _in_background(work: Callable[[], Any], results: Any) -> None:
    try:
        outcome: tuple[bool, Any] = (True, work())
    except Exception as exc:  # (the parent does the work again and reports it)
        outcome = (False, repr(exc))
    results.send(outcome)


class _Done:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def _in_order(pool: ProcessPoolExecutor, parts: Sequence[Any], task: Callable[[Any], tuple[Any, ...]],
              run_here: Callable[[Any], Any] | None, workers: int) -> Iterator[Any]:
    """The result of every part, in order. Up to two parts per worker are in flight (as TASK(part)
    in the pool); beyond that the next part is worked on here (RUN_HERE) or waits for the oldest.
    (With RUN_HERE, parts finished but not yet handed on do not count: the workers never wait
    for this process, and what piles up is what they finish while it works on one part.)"""
    with pool:
        pending: deque[Future[Any] | _Done] = deque()
        for part in parts:
            in_flight = len(pending) if run_here is None else sum(
                1 for entry in pending if isinstance(entry, Future) and not entry.done())
            if in_flight < 2 * workers:
                pending.append(pool.submit(*task(part)))
            elif run_here is not None:
                pending.append(_Done(run_here(part)))
            else:
                yield _value(pending.popleft())
                pending.append(pool.submit(*task(part)))
            while pending and (isinstance(pending[0], _Done) or pending[0].done()):
                yield _value(pending.popleft())
        while pending:
            yield _value(pending.popleft())


def _value(entry: Future[Any] | _Done) -> Any:
    return entry.value if isinstance(entry, _Done) else entry.result()


_shared: Any = None


def _set_shared(value: Any) -> None:
    global _shared  # a worker process's copy of the parent's data, set once when the worker starts
    _shared = value


def _call_with_shared(task: tuple[Callable[..., R], Sequence[T]]) -> R:
    function, part = task
    return function(_shared, part)
