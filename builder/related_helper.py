"""A helper process for the related lists of a CLI build.

Updating the lists from the engine's saved state first needs numpy and scipy imported and the
state read from the cache: 0.3 s at 10,000 articles before any work (the articles' text
analyses are read only if the update needs more than the ones this build made).
A helper forked as the build starts does that on the other core while this process checks its
inputs, reads its cache and parses, then runs the caller's errand (if any) while it waits; it then
updates the lists while the build prepares its pages, sends them back, and writes the engine's
new state while the build goes on. With no saved state (start_from_scratch), the command line
forks it before importing the build, and it works every list out from the analyses it is sent.
Whatever goes wrong in it, the caller works the lists out itself, and gets the same lists.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from builder.cache import Cache
from builder.parallel import can_fork

if TYPE_CHECKING:
    from multiprocessing.context import ForkProcess


Lists = dict[str, tuple[str, ...]]

_ERRAND = "errand"  # tags the errand's result, the helper's first message when there is an errand
_CHANGED = "changed"  # tags an answer holding only the lists that may have changed

# Above this much saved state the helper does not pay: the state and its update then sit in a
# second process beside the build's own memory (2.2 GB together at 100,000 articles, whose state
# is 226 MB on disk), and reading it competes with the build's own reading of the cache (an edit
# took 20.1-21.6 s with the helper, 19.3-20.7 s without). At 10,000 articles it is 31 MB.
MAX_STATE_BYTES = 64 * 2**20


@dataclass(frozen=True, slots=True)
class Errand:
    """Work for the helper while it waits for the parse step (its core is idle then): RUN(stop)
    there, which should return early, with the work unfinished, once stop() is true (the lists
    are asked for). Its (picklable) result is handed to TAKE here before MEANWHILE runs. If it
    fails, or the lists are never asked for, TAKE is not called."""

    run: Callable[[Callable[[], bool]], Any]
    take: Callable[[Any], None]


class RelatedHelper:
    """The parent's end of one helper process; used for at most one set of lists."""

    def __init__(self, process: ForkProcess, connection: Connection, errand: Errand | None,
                 from_scratch: bool = False) -> None:
        self._process = process
        self._connection = connection
        self._errand = errand
        self._answered = False
        self._ended = False
        # No saved engine state: every list is worked out from the analyses this build sends.
        self.from_scratch = from_scratch

    @classmethod
    def start(cls, cache: Cache, jobs: int | None, errand: Errand | None = None) -> RelatedHelper | None:
        """A helper, where one can help: a cache on disk with a saved engine state of this builder
        and at most MAX_STATE_BYTES, more than one job allowed, and a process that may fork
        (single-threaded). The cache's own helper if it has one not asked yet (ERRAND is then
        the one it was started with)."""
        existing = cache.related_helper
        if existing is not None:
            if not (existing._answered or existing._ended):
                return existing
            existing.finish()
            cache.related_helper = None
        if not (cache.enabled and _may_fork(cache, jobs)):
            return None
        if not 0 < cache.related_engine_bytes() <= MAX_STATE_BYTES:
            return None
        return cls._fork(cache, errand, from_scratch=False)

    @classmethod
    def start_from_scratch(cls, cache: Cache, jobs: int | None) -> RelatedHelper | None:
        """A helper for a CLI build with no saved engine state (the first build, or --clean), to be
        started before the build's own modules are imported: its NumPy and SciPy (0.45 s of CPU)
        then load on a core that sits idle while this process imports (0.2 s) and parses, instead
        of beside the parse workers. It is sent every analysis, so the build stops it for a site
        above FROM_SCRATCH_ARTICLES (builder.load). None where a helper with saved state may start
        (start() does that, with its errand) or none may."""
        if cache.related_helper is not None or not _may_fork(cache, jobs) or cache.related_engine_bytes() > 0:
            return None
        return cls._fork(cache, None, from_scratch=True)

    @classmethod
    def _fork(cls, cache: Cache, errand: Errand | None, *, from_scratch: bool) -> RelatedHelper:
        ours, theirs = multiprocessing.Pipe()
        process = multiprocessing.get_context("fork").Process(
            target=_work, args=(cache, theirs, errand.run if errand else None), name="builder-related")
        process.start()
        theirs.close()
        helper = cache.related_helper = cls(process, ours, errand, from_scratch)  # Cache.close() finishes it
        return helper

    def relate(self, inputs: bytes, fresh: Mapping[str, Any], stored: Mapping[str, Any],
               meanwhile: Callable[[], None] | None = None, held: tuple[str, Lists] | None = None) -> Lists | None:
        """The lists for INPUTS (the pickled docs as RelatedDoc.as_row rows, the related settings
        and the language), or None when the helper could not make them (it is stopped then). FRESH holds
        the analyses this build made, which the saved ones lack; the helper asks STORED, which
        must hold every doc's, for any other it lacks. MEANWHILE, if given, runs here while the
        helper works. HELD: lists this process has and the key of their inputs; if the engine's
        saved state made them, the helper sends only the lists that may have changed (sending
        10,000 cost both processes 0.03 s)."""
        answer: Any = None
        try:
            self._connection.send_bytes(inputs)
            self._connection.send((dict(fresh), held[0] if held else ""))
            # the errand's result comes first, as (_ERRAND, pickled result or b""); anything else
            # is the message of a helper that failed
            first = self._connection.recv() if self._errand is not None else (_ERRAND, b"")
        except (OSError, EOFError):
            first = None
        if isinstance(first, tuple) and first[:1] == (_ERRAND,):
            if self._errand is not None and first[1]:
                self._errand.take(pickle.loads(first[1]))
            if meanwhile is not None:
                meanwhile()  # outside the try: its own errors are not the helper's, and propagate
            with contextlib.suppress(OSError, EOFError):
                answer = self._connection.recv()
                if isinstance(answer, list):  # keys of analyses it lacks (only if the cache lost some)
                    self._connection.send({key: stored[key] for key in answer})
                    answer = self._connection.recv()
        if isinstance(answer, tuple) and answer[:1] == (_CHANGED,) and held is not None:
            answer = {**held[1], **answer[1]}  # (the same documents: the helper checked)
        if not isinstance(answer, dict):
            self.stop()
            return None
        self._answered = True
        lists: Lists = answer
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


def _may_fork(cache: Cache, jobs: int | None) -> bool:
    """Whether any helper may start: a CLI build (its cache written when it ends, with no engine
    state held in memory), more than one job allowed, and a process that may fork."""
    return cache.persist and cache.relations is None and jobs != 1 and can_fork()


def _work(cache: Cache, connection: Connection, errand: Callable[[Callable[[], bool]], Any] | None) -> None:
    """In the helper: get ready, run the errand, answer one request, then keep the engine's state
    for the next build."""
    try:
        from builder.fingerprint import digest
        from builder.related import docs_from_rows, load_engine, relate, reusable_docs
        from builder.related.keys import analysis_key

        load_engine()  # first: the wait for the request is the time to load it

        previous = cache.related_engine()
        reusable = reusable_docs(previous)
        errand_result = b"" if errand is None else _run(errand, connection.poll)
        inputs = connection.recv_bytes()
        rows, settings, language = pickle.loads(inputs)
        fresh, held_key = connection.recv()
        if errand is not None:
            connection.send((_ERRAND, errand_result))
            del errand_result
        docs = docs_from_rows(rows, reusable)
        del reusable

        def saved_or_asked() -> dict[str, Any]:
            saved = cache.saved_analyses()
            lacking = [key for key in map(analysis_key, docs) if key not in fresh and key not in saved]
            if lacking:
                connection.send(lacking)
                saved.update(connection.recv())
            return saved

        relations = relate(docs, count=settings.count, weights=settings.weights, language=language,
                           analyses=_Analyses(fresh, saved_or_asked), previous=previous)
        changed = relations.lists_since(previous) if held_key and held_key == cache.related_engine_key else None
        connection.send(relations.lists if changed is None else (_CHANGED, changed))
    except BaseException as exc:  # the parent works the lists out itself and sees any real error there
        with contextlib.suppress(OSError, ValueError):
            connection.send(f"{type(exc).__name__}: {exc}")
        return
    cache.keep_related_engine(relations.state, digest(inputs))


class _Analyses(MutableMapping[str, Any]):
    """The helper's analyses by key: this build's FRESH ones, then the others, read (SAVED_OR_ASKED)
    only when one is asked for: an update after an edit needs only the edited articles', which
    are fresh, and reading the cache's 10,000 took 0.07 s."""

    def __init__(self, fresh: dict[str, Any], saved_or_asked: Callable[[], dict[str, Any]]) -> None:
        self._fresh = fresh
        self._saved_or_asked = saved_or_asked
        self._others: dict[str, Any] | None = None

    def _all(self) -> dict[str, Any]:
        if self._others is None:
            self._others = self._saved_or_asked()
        return self._others

    def __getitem__(self, key: str) -> Any:
        found = self._fresh.get(key)
        return found if found is not None else self._all()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._fresh[key] = value

    def __delitem__(self, key: str) -> None:
        fresh = self._fresh.pop(key, None)
        if self._all().pop(key, None) is None and fresh is None:
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._all().keys() | self._fresh.keys())

    def __len__(self) -> int:
        return len(self._all().keys() | self._fresh.keys())


def _run(errand: Callable[[Callable[[], bool]], Any], asked: Callable[[], bool]) -> bytes:
    """The errand's result, pickled, or b"" if it failed: the caller then does that work itself,
    and meets any error there. The errand stops early once ASKED says the request is here."""
    try:
        return pickle.dumps(errand(asked), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return b""
