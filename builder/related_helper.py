"""A helper process for the related lists of a CLI build after an edit.

Updating the lists from the engine's saved state first needs numpy and scipy imported, the state
and the articles' text analyses read from the cache: 0.3 s at 10,000 articles before any work.
A helper forked before the articles are parsed does that on the other core while this process
reads its cache and parses; it then updates the lists while the build walks its output folder,
sends them back, and writes the engine's new state while the build goes on. Whatever goes wrong
in it, the caller works the lists out itself, and gets the same lists.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from builder.cache import Cache
from builder.parallel import can_fork

if TYPE_CHECKING:
    from multiprocessing.context import ForkProcess

    from builder.related import RelatedDoc, RelatedWeights

Lists = dict[str, tuple[str, ...]]

# Above this much saved state the helper does not pay: the state and its update then sit in a
# second process beside the build's own memory (2.2 GB together at 100,000 articles, whose state
# is 226 MB on disk), and reading it competes with the build's own reading of the cache (an edit
# took 20.1-21.6 s with the helper, 19.3-20.7 s without). At 10,000 articles it is 23 MB.
MAX_STATE_BYTES = 64 * 2**20


class RelatedHelper:
    """The parent's end of one helper process; used for at most one set of lists."""

    def __init__(self, process: ForkProcess, connection: Connection) -> None:
        self._process = process
        self._connection = connection
        self._answered = False
        self._ended = False

    @classmethod
    def start(cls, cache: Cache, jobs: int | None) -> RelatedHelper | None:
        """A helper, where one can help: a cache on disk with a saved engine state of this builder
        and at most MAX_STATE_BYTES, more than one job allowed, and a process that may fork
        (single-threaded)."""
        if not (cache.enabled and cache.persist) or cache.relations is not None or jobs == 1 or not can_fork():
            return None
        if not 0 < cache.related_engine_bytes() <= MAX_STATE_BYTES:
            return None
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.get_context("fork").Process(target=_work, args=(cache, theirs),
                                                               name="builder-related")
        process.start()
        theirs.close()
        helper = cache.related_helper = cls(process, ours)  # Cache.close() finishes it, whatever happens
        return helper

    def relate(self, docs: Sequence[RelatedDoc], *, count: int, weights: RelatedWeights, language: str,
               analyses: Mapping[str, Any], meanwhile: Callable[[], None] | None = None) -> Lists | None:
        """The lists for DOCS, or None when the helper could not make them (it is stopped then).
        ANALYSES must hold every doc's analysis; the helper asks only for those it lacks.
        MEANWHILE, if given, runs here while the helper works."""
        lists = None
        try:
            self._connection.send((list(docs), count, weights, language))
            lacking = self._connection.recv()  # a list of keys, or what went wrong
            asked = isinstance(lacking, list)
            if asked:
                self._connection.send({key: analyses[key] for key in lacking})
        except (OSError, EOFError):
            asked = False
        if asked:
            if meanwhile is not None:
                meanwhile()  # outside the try: its own errors are not the helper's, and propagate
            with contextlib.suppress(OSError, EOFError):
                lists = self._connection.recv()
        if not isinstance(lists, dict):
            self.stop()
            return None
        self._answered = True
        return lists

    def stop(self) -> None:
        """End a helper whose lists are not wanted (or not coming): it has written nothing."""
        if self._process.is_alive():
            self._process.kill()
        self._end()

    def finish(self) -> None:
        """After its lists came: wait until the helper has written the engine's new state.
        Otherwise (the build stopped before it asked): stop it. Done already: nothing."""
        if self._ended:
            return
        if self._answered:
            self._end()
        else:
            self.stop()

    def _end(self) -> None:
        self._process.join()
        self._connection.close()
        self._ended = True


def _work(cache: Cache, connection: Connection) -> None:
    """In the helper: get ready, answer one request, then keep the engine's state for the next build."""
    try:
        from builder.related import relate
        from builder.related.keys import analysis_key

        previous = cache.related_engine()
        saved = cache.saved_analyses()
        docs, count, weights, language = connection.recv()
        keys = [analysis_key(doc) for doc in docs]
        connection.send(sorted({key for key in keys if key not in saved}))
        analyses = {key: saved[key] for key in keys if key in saved}
        analyses.update(connection.recv())
        relations = relate(docs, count=count, weights=weights, language=language, analyses=analyses,
                           previous=previous)
        connection.send(relations.lists)
    except BaseException as exc:  # the parent works the lists out itself and sees any real error there
        with contextlib.suppress(OSError, ValueError):
            connection.send(f"{type(exc).__name__}: {exc}")
        return
    cache.keep_related_engine(relations.state)
