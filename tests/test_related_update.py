"""Updating related lists after an edit gives exactly what computing them afresh gives."""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import time
from array import array
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import article, write_files
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.build import BuildOptions, build
from builder.cache import Cache, code_version
from builder.config import RelatedWeights
from builder.related import RelatedDoc, docs_from_rows, engine, relate, reusable_docs, rows, update, vectors

BASE = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
SUBJECTS = {
    "water": "well pump drill village water committee drought rain tank pipe spring repair",
    "music": "festival band stage ticket harbour jazz folk brass singer crowd dance concert",
    "school": "exam pupil teacher school paper history maths result revision class ministry lesson",
    "truce": "ceasefire talks monitor border envoy truce accord patrol negotiator army front midnight",
    "farm": "harvest seed market cooperative loan farmer field maize price storage tractor irrigation",
}
COMMON = ["people", "city", "year", "week", "report", "said", "new", "local", "group", "plan", "people", "also", "told"]


def corpus(seed: int, size: int) -> list[RelatedDoc]:
    rng = random.Random(seed)
    subjects = sorted(SUBJECTS)
    docs = []
    for i in range(size):
        subject = subjects[i % len(subjects)]
        words = SUBJECTS[subject].split() + SUBJECTS[rng.choice(subjects)].split()[:4]
        text = " ".join(rng.choice(words + COMMON) for _ in range(rng.randint(0, 60)))
        docs.append(RelatedDoc(
            slug=f"{subject}-{i:04}", title=" ".join(rng.sample(words, 3)), summary=" ".join(rng.sample(words, 4)),
            text=text, topic=subject if i % 7 else "", tags=tuple(rng.sample(words, rng.randint(0, 3))),
            authors=(f"writer-{i % 9}",), date=BASE + timedelta(days=rng.randint(0, 900)),
            pins=(f"{subject}-{(i + 5) % size:04}",) if i % 23 == 0 else (),
            excludes=(f"{subject}-{(i + 10) % size:04}",) if i % 29 == 0 else ()))
    # a few republished stories: the same text under another slug
    for i in range(0, size, 37):
        docs[i] = replace(docs[i], text=docs[(i + 1) % size].text, title=docs[(i + 1) % size].title)
    return docs


def edit(docs: list[RelatedDoc], rng: random.Random) -> list[RelatedDoc]:
    """The same docs with one to three of them edited: text, title, tags, topic, authors, date,
    pins or excludes."""
    out = list(docs)
    vocabulary = " ".join(SUBJECTS.values()).split()
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(out))
        doc = out[at]
        other = out[rng.randrange(len(out))]
        kind = rng.choice(["append", "drop", "copy", "empty", "title", "fresh-word", "retag", "untag", "new-tag",
                           "topic", "author", "date", "pin", "exclude", "add", "remove", "rename"])
        if kind == "add":  # a new article, sometimes a copy of another's text
            text = other.text if rng.random() < 0.3 else " ".join(rng.choices(vocabulary, k=rng.randint(0, 50)))
            out.append(replace(doc, slug=f"new-{rng.randrange(10**9)}", text=text, tags=other.tags[:2]))
            continue
        if kind == "remove":
            del out[at]
            continue
        if kind == "rename":
            out[at] = replace(doc, slug=f"renamed-{rng.randrange(10**9)}")
            continue
        if kind == "append":
            doc = replace(doc, text=doc.text + " " + " ".join(rng.choices(vocabulary, k=rng.randint(1, 30))))
        elif kind == "drop":
            words = doc.text.split()
            doc = replace(doc, text=" ".join(words[: len(words) // 2]))
        elif kind == "copy":
            other = out[rng.randrange(len(out))]
            doc = replace(doc, text=other.text, title=other.title)
        elif kind == "empty":
            doc = replace(doc, text="", summary="")
        elif kind == "title":
            doc = replace(doc, title=" ".join(rng.choices(vocabulary, k=4)))
        elif kind == "fresh-word":  # a word no other article uses
            doc = replace(doc, text=doc.text + f" zzword{rng.randrange(10**6)}")
        elif kind == "retag":
            doc = replace(doc, tags=tuple(rng.sample(vocabulary, rng.randint(1, 3))))
        elif kind == "untag":
            doc = replace(doc, tags=())
        elif kind == "new-tag":  # a tag no other article has
            doc = replace(doc, tags=(*doc.tags, f"tag{rng.randrange(10**6)}"))
        elif kind == "topic":
            doc = replace(doc, topic=rng.choice([*SUBJECTS, "", "brand-new-topic"]))
        elif kind == "author":
            doc = replace(doc, authors=(f"writer-{rng.randrange(12)}",))
        elif kind == "date":
            doc = replace(doc, date=BASE + timedelta(days=rng.randint(0, 900)))
        elif kind == "pin":
            doc = replace(doc, pins=(other.slug,))
        else:
            doc = replace(doc, excludes=(other.slug,))
        out[at] = doc
    return out


def same_outcome(updated: engine.Outcome, fresh: engine.Outcome) -> None:
    assert [d.slug for d in updated.docs] == [d.slug for d in fresh.docs]
    assert np.array_equal(updated.neighbours, fresh.neighbours)
    assert np.array_equal(updated.similarity, fresh.similarity)
    assert updated.copies == fresh.copies
    for a, b in ((updated.signals.text, fresh.signals.text), (updated.queries, fresh.queries)):
        assert rows.changed_rows(a, b).size == 0
    assert np.array_equal(updated.table, fresh.table)
    for a, b in zip(updated.lists.items, fresh.lists.items, strict=True):
        assert a.tolist() == b.tolist()
    for a, b in zip(updated.lists.parts, fresh.lists.parts, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(updated.lists.filled, fresh.lists.filled)


@pytest.mark.parametrize("query_work", [vectors.QUERY_WORK, 3_000])  # whole queries / pruned queries
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_run_of_edits_updates_to_what_a_fresh_run_computes(seed: int, query_work: int,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "QUERY_WORK", query_work)
    monkeypatch.setattr(update, "MAX_CHANGED_SHARE", 1.0)  # never fall back to a full run here
    rng = random.Random(seed)
    docs = corpus(seed, 240)
    weights = RelatedWeights()
    previous = engine.run(docs, 5, weights, "en", {})
    updated_rows = 0
    for step in range(12):
        docs = edit(docs, rng)
        updated = update.rerun(previous, docs, 5, weights, "en", {})
        assert updated is not None
        fresh = engine.run(docs, 5, weights, "en", {})
        same_outcome(updated, fresh)
        updated_rows += sum(a.tolist() != b.tolist() for a, b in zip(previous.lists.items, updated.lists.items))
        # the next edit starts from the updated outcome, as a server's next save does, or from
        # that outcome stored on disk and read back, as the next `builder build` does
        previous = pickle.loads(pickle.dumps(updated.stored())) if step % 2 else updated
    assert updated_rows > 0  # the edits did move lists, so the update had real work to do


_WORDS = [f"w{n}" for n in range(14)]
_ANALYSES = st.dictionaries(st.sampled_from(_WORDS), st.tuples(*[st.integers(0, 6)] * 3), max_size=9).map(
    lambda counts: {"terms": tuple(sorted(counts)),
                    "counts": array("H", [n for term in sorted(counts) for n in counts[term]]).tobytes()})


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.lists(_ANALYSES, min_size=1, max_size=70), st.data())
def test_text_vectors_after_an_edit_are_those_made_afresh(docs: list[dict[str, Any]], data: st.DataObject) -> None:
    """Spliced from the previous vectors (words gained and lost by the vocabulary included), the
    matrix is bit for bit the one made from all the analyses."""
    before = vectors.text_vectors(docs)
    changed = sorted(data.draw(st.sets(st.integers(0, len(docs) - 1))))
    after = list(docs)
    for i in changed:
        after[i] = data.draw(_ANALYSES)
    fresh, patched = vectors.text_vectors(after), vectors.text_vectors_after(before, after, changed)
    assert patched.terms == fresh.terms
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(patched.matrix, name), getattr(fresh.matrix, name)), name
    assert patched.raw is not None and fresh.raw is not None
    for name in ("cols", "indptr", "tf"):
        assert np.array_equal(getattr(patched.raw, name), getattr(fresh.raw, name)), name


def test_relate_with_previous_gives_the_lists_of_a_fresh_call() -> None:
    docs = corpus(7, 120)
    first = relate(docs, count=4)
    edited = edit(docs, random.Random(7))
    assert relate(edited, count=4, previous=first.state).lists == relate(edited, count=4).lists


def test_docs_made_from_rows_are_the_previous_states_own_where_equal() -> None:
    docs = corpus(3, 20)
    state = relate(docs, count=3).state
    rows = [d.as_row() for d in docs]
    rows[4] = (*rows[4][:10], "another key")  # (its text changed)
    rows[5] = (*rows[5][:7], rows[5][7] + 60, *rows[5][8:])  # (a minute later)
    rows.append(("new-one", "New", "", "", "peace", (), (), 1.7e9, (), (), ""))
    made = docs_from_rows(rows, reusable_docs(state))
    assert [d.as_row() for d in made] == rows
    before = {d.slug: d for d in state.docs}
    assert [i for i, d in enumerate(made) if d is not before.get(d.slug)] == [4, 5, 20]
    assert [d.as_row() for d in docs_from_rows(rows, reusable_docs(None))] == rows  # no state: every doc made


def test_the_lists_since_a_state_are_all_that_differ_from_its_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(update, "MAX_CHANGED_SHARE", 1.0)  # (an update, not a full run, on a small site)
    docs = corpus(5, 300)
    first = relate(docs, previous=None)
    edited = [replace(d, text=d.text + " ceasefire envoy") if i == 40 else d for i, d in enumerate(docs)]
    second = relate(edited, previous=first.state)
    changed = second.lists_since(first.state)
    assert changed is not None and 0 < len(changed) < len(docs)
    assert {**first.lists, **changed} == second.lists
    # other documents (one removed): no answer, all the lists are needed
    assert relate(edited[1:], previous=first.state).lists_since(first.state) is None


def test_above_the_bound_no_raw_weights_are_kept_and_updates_map_every_document(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(update, "MAX_CHANGED_SHARE", 1.0)
    monkeypatch.setattr(vectors, "KEEP_RAW_ENTRIES", 50)  # (a 100,000-article site's state stays smaller)
    docs = corpus(5, 300)
    first = relate(docs, previous=None)
    assert first.state.vectors.raw is None  # type: ignore[attr-defined]
    edited = [replace(d, text=d.text + " ceasefire envoy") if i == 40 else d for i, d in enumerate(docs)]
    assert relate(edited, previous=first.state).lists == relate(edited, previous=None).lists


def test_changed_settings_or_a_site_much_changed_mean_a_full_run() -> None:
    docs = corpus(5, 80)
    weights = RelatedWeights()
    previous = engine.run(docs, 5, weights, "en", {})
    assert update.rerun(previous, docs[20:], 5, weights, "en", {}) is None  # a quarter removed
    assert update.rerun(previous, docs, 6, weights, "en", {}) is None
    assert update.rerun(previous, docs, 5, replace(weights, tags=0.0), "en", {}) is None
    unchanged = update.rerun(previous, docs, 5, weights, "en", {})
    assert unchanged is not None and unchanged.lists is previous.lists


def test_replace_rows_and_changed_rows_agree() -> None:
    import scipy.sparse as sp

    matrix = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 0], [3, 4, 0], [0, 5, 6]], dtype=np.float32))
    new_rows = sp.csr_matrix(np.array([[0, 7, 0], [3, 4, 0]], dtype=np.float32))
    replaced = rows.replace_rows(matrix, np.array([1, 2]), new_rows)
    assert replaced.toarray().tolist() == [[1, 0, 2], [0, 7, 0], [3, 4, 0], [0, 5, 6]]
    assert rows.changed_rows(matrix, replaced).tolist() == [1]


def _portal(root: Path) -> Path:
    files: dict[str, str | bytes] = {"portal.toml": 'title = "T"\nbase_url = "https://example.org/"\n'}
    rng = random.Random(3)
    for i in range(30):
        subject = sorted(SUBJECTS)[i % len(SUBJECTS)]
        body = " ".join(rng.choices(SUBJECTS[subject].split(), k=40))
        files[f"content/{subject}/a{i:02}.md"] = article(f"{subject} story {i}", date=f"2026-03-{1 + i % 28:02}",
                                                         body=body, topic=subject)
    return write_files(root, files)


def test_a_build_after_an_edit_updates_the_lists_from_the_state_the_last_build_left(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    state = root / ".cache" / "builder-v1" / "related.pickle"
    assert state.is_file()
    updates: list[object] = []
    real_rerun = update.rerun

    def spy(*args: object, **kwargs: object) -> object:
        updates.append(result := real_rerun(*args, **kwargs))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(update, "rerun", spy)
    monkeypatch.setattr(update, "MAX_CHANGED_SHARE", 1.0)  # on 30 articles one edit moves many word weights
    edited = root / "content" / "farm" / "a00.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nThe festival band played by the well.\n",
                      encoding="utf-8")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    assert len(updates) == 1 and updates[0] is not None  # updated, not computed afresh
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")


def test_the_preview_server_keeps_the_state_in_memory_and_writes_it_when_it_stops(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    state = root / ".cache" / "builder-v1" / "related.pickle"
    session = Cache(root, persist=False)  # as builder serve holds it
    build(BuildOptions(root, root / "preview", now=NOW, jobs=1), cache=session)
    assert session.relations is not None and not state.exists()
    session.persist_now()
    assert isinstance(Cache(root).related_engine(), engine.Outcome)


@pytest.mark.parametrize("damage", ["other version", "truncated"])
def test_a_state_from_another_builder_or_half_written_is_not_used(tmp_path: Path, damage: str) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    state = root / ".cache" / "builder-v1" / "related.pickle"
    if damage == "other version":
        data = state.read_bytes()
        with state.open("wb") as stream:
            pickle.dump("0.0.1+another-builder", stream)
            stream.write(data[len(pickle.dumps(code_version(), protocol=pickle.HIGHEST_PROTOCOL)):])
    else:
        state.write_bytes(state.read_bytes()[: state.stat().st_size // 2])
    assert Cache(root).related_engine() is None
    # no helper process is started for another builder's state (its header says so)
    assert (Cache(root).related_engine_bytes() > 0) is (damage == "truncated")


# Each build with a helper runs in a fresh interpreter: a helper is only forked from a process
# with no other threads, and tests that ran before may have left some in this one.
_BUILD_WITH_SPY = """
import json, sys
from datetime import datetime
from pathlib import Path
from builder import related_helper
from builder.build import BuildOptions, build
from builder.output import Listing, SiteWriter
from builder.related import update

root, mode, now = Path(sys.argv[1]), sys.argv[2], datetime.fromisoformat(sys.argv[3])
answers, stops = [], []
real_relate, real_stop = related_helper.RelatedHelper.relate, related_helper.RelatedHelper.stop

def relate(helper, *args, **kwargs):
    answers.append(answer := real_relate(helper, *args, **kwargs))
    return answer

def stop(helper):
    stops.append(1)
    real_stop(helper)

listed = []
real_list_output, real_walk_output = SiteWriter.list_output, SiteWriter.walk_output

def list_output(writer):
    # while the helper works: the walk of the output the helper made is taken, and finished here
    listed.append("taken" if writer._found is not None else "walked here")
    real_list_output(writer)

def list_output_fails(writer):
    raise PermissionError("output folder unreadable")

def walk_output(writer, until=None):
    if until is None or mode == "":
        return real_walk_output(writer, until)
    if mode == "errand fails":
        raise PermissionError("the helper cannot read the output")
    polls = iter(range(3))  # "partial walk": the helper lists two folders, the build the others
    return real_walk_output(writer, lambda: next(polls, None) is None)

SiteWriter.list_output = list_output_fails if mode == "walk fails" else list_output
SiteWriter.walk_output = walk_output
Listing.POLL_EVERY = 1

def broken(cache, connection, errand):
    raise SystemExit(3)  # the helper dies before answering

related_helper.RelatedHelper.relate, related_helper.RelatedHelper.stop = relate, stop
update.MAX_CHANGED_SHARE = 1.0  # on 30 articles one edit moves many word weights
if mode == "broken":
    related_helper._work = broken
if mode == "big state":
    related_helper.MAX_STATE_BYTES = 10
if mode == "saved analyses unreadable":
    def unreadable(cache):
        raise OSError("the saved analyses are not to be read")
    related_helper.Cache.saved_analyses = unreadable
if mode == "analyses lost":
    # the helper must ask for all but the new one, and works the lists out afresh from them
    related_helper.Cache.saved_analyses = lambda cache: {}
    related_helper.Cache.related_engine = lambda cache: None
try:
    build(BuildOptions(root, root / "site", now=now, jobs=2))
except PermissionError as error:
    print(json.dumps({"error": str(error), "answers": len(answers), "stops": len(stops)}))
    raise SystemExit(0)
print(json.dumps({"answers": [isinstance(a, dict) for a in answers], "stops": len(stops), "listed": listed}))
"""


def _build_with_spy(root: Path, mode: str = "") -> dict[str, Any]:
    """A CLI-like build of ROOT in a fresh interpreter: what its related helper answered, how often it was stopped."""
    done = subprocess.run([sys.executable, "-c", _BUILD_WITH_SPY, str(root), mode, NOW.isoformat()],
                          capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_cli_build_after_an_edit_takes_its_lists_from_the_helper_process(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    assert Cache(root).related_engine_bytes() > 0
    keys_before = {doc.slug: doc.key for doc in Cache(root).related_engine().docs}
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    # the helper made the lists (and walked the output folder while it waited for them)
    assert _build_with_spy(root) == {"answers": [True], "stops": 0, "listed": ["taken"]}
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")
    # ...and wrote the engine's new state before the build returned: the next update starts from it
    state = Cache(root).related_engine()
    assert isinstance(state, engine.Outcome)
    keys_after = {doc.slug: doc.key for doc in state.docs}
    assert [slug for slug in keys_after if keys_after[slug] != keys_before[slug]] == ["farm-story-0"]


def test_a_helper_updating_after_a_body_edit_reads_no_saved_analyses(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    # only the edited article's analysis is needed, and the build sends it (reading them fails here)
    assert _build_with_spy(root, "saved analyses unreadable") == {"answers": [True], "stops": 0, "listed": ["taken"]}
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")


def test_a_helper_lacking_saved_analyses_asks_the_build_for_them(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    minute_ago = time.time() - 60
    for path in (root / "content").rglob("*.md"):  # stamps old enough to trust: only the edit is parsed
        os.utime(path, (minute_ago, minute_ago))
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    assert _build_with_spy(root, "analyses lost") == {"answers": [True], "stops": 0, "listed": ["taken"]}
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")


def test_a_failing_helper_leaves_the_lists_to_the_build_itself(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    assert _build_with_spy(root, "broken") == {"answers": [False], "stops": 1, "listed": []}
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")


@pytest.mark.parametrize("mode", ["partial walk", "errand fails"])
def test_the_output_walk_is_finished_or_made_here_when_the_helper_did_not_make_it_all(tmp_path: Path,
                                                                                      mode: str) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    stale = [root / "site" / "stale.html", root / "site" / "farm" / "gone" / "index.html",
             root / "site" / "tags" / "old-tag" / "page" / "2" / "index.html"]
    for path in stale:  # pages an earlier build left, wherever the walks split the folder
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("old", encoding="utf-8")
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    listed = "taken" if mode == "partial walk" else "walked here"
    assert _build_with_spy(root, mode) == {"answers": [True], "stops": 0, "listed": [listed]}
    assert not any(path.exists() for path in stale)
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")


def test_an_error_while_waiting_for_the_helper_is_the_builds_not_the_helpers(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    # raised from the walk, not taken for a failed helper (which would fall back and hide it);
    # the helper, never answered, is stopped when the build's cache closes
    assert _build_with_spy(root, "walk fails") == {"error": "output folder unreadable", "answers": 0, "stops": 1}


_NOTHING_TO_DO = """
import json, multiprocessing, sys
from datetime import datetime
from pathlib import Path
from builder.build import BuildOptions, build
from builder.related_helper import RelatedHelper

started = []
real_start = RelatedHelper.start.__func__

def start(cls, *args, **kwargs):
    started.append(helper := real_start(cls, *args, **kwargs))
    return helper

RelatedHelper.start = classmethod(start)
report = build(BuildOptions(Path(sys.argv[1]), Path(sys.argv[1]) / "site", now=datetime.fromisoformat(sys.argv[2]), jobs=2))
print(json.dumps({"up to date": report.up_to_date, "helpers": sum(h is not None for h in started),
                  "alive": len(multiprocessing.active_children())}))
"""


def test_a_build_with_nothing_to_do_stops_the_helper_it_started_at_once(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    minute_ago = time.time() - 60
    for path in root.rglob("*"):  # stamps old enough to trust: the next build may find nothing to do
        os.utime(path, (minute_ago, minute_ago))
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    done = subprocess.run([sys.executable, "-c", _NOTHING_TO_DO, str(root), NOW.isoformat()],
                          capture_output=True, text=True, check=True)
    # started before the inputs were checked (it gets ready while they are), stopped when nothing changed
    assert json.loads(done.stdout.splitlines()[-1]) == {"up to date": True, "helpers": 1, "alive": 0}
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    # after an edit, the helper started first is the one that answers: one process, not two
    assert _build_with_spy(root) == {"answers": [True], "stops": 0, "listed": ["taken"]}


# The incremental property test (tests/test_incremental.py) builds with --jobs 1, without the
# related helper; these random edit sequences build as the CLI does, with a helper at every
# edit (its early start, its walk of the output and its changed lists included), in a fresh
# interpreter. BUILDER_HELPER_SEQUENCES=200 for a deeper run than CI's.
_EDIT_SEQUENCES = """
import json, random, shutil, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from test_incremental import NOW, Site, tree
from builder import related_helper
from builder.build import BuildOptions, build

answers = []
real_relate = related_helper.RelatedHelper.relate

def relate(helper, *args, **kwargs):
    answers.append((lists := real_relate(helper, *args, **kwargs)) is not None)
    return lists

related_helper.RelatedHelper.relate = relate
kinds = ["add", "body", "title", "date", "updated", "topic", "tags", "draft", "delete", "rename", "template",
         "config", "reads"]
rng, work, mismatches = random.Random(1), Path(sys.argv[2]), []
for number in range(int(sys.argv[3])):
    root = work / f"site-{number}"
    site = Site(root, rng.choice([5, 0]))
    build(BuildOptions(root, root / "out", now=NOW, jobs=2))
    for _ in range(rng.randint(1, 7)):
        step = (rng.choice(kinds), rng.randint(0, 9), rng.randint(0, 9))
        site.apply(step)
        build(BuildOptions(root, root / "out", now=NOW, jobs=2))
        build(BuildOptions(root, work / "clean", now=NOW, jobs=2, clean=True))
        if tree(root / "out") != tree(work / "clean"):
            mismatches.append([number, *step])
        shutil.rmtree(work / "clean")
print(json.dumps({"asked": len(answers), "answered": sum(answers), "mismatches": mismatches}))
"""


def test_random_edits_built_with_the_related_helper_equal_clean_builds(tmp_path: Path) -> None:
    sequences = os.environ.get("BUILDER_HELPER_SEQUENCES", "20")
    done = subprocess.run([sys.executable, "-c", _EDIT_SEQUENCES, str(Path(__file__).parent), str(tmp_path), sequences],
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["mismatches"] == []
    assert result["answered"] == result["asked"] > 0  # the helper made every edit's lists


def test_no_helper_for_a_big_state(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    assert _build_with_spy(root, "big state") == {"answers": [], "stops": 0, "listed": []}
    build(BuildOptions(root, tmp_path / "clean", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "clean")


def test_a_build_that_needs_no_new_lists_stops_the_helper(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    state = root / ".cache" / "builder-v1" / "related.pickle"
    before = state.read_bytes()
    (root / "content" / "_data").mkdir()
    (root / "content" / "_data" / "menu.yaml").write_text("items: [a]\n", encoding="utf-8")
    assert _build_with_spy(root) == {"answers": [], "stops": 1, "listed": []}
    assert state.read_bytes() == before


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# `builder build` as the command line runs it, in a fresh interpreter, with spies on the related
# helper it starts before the build's own modules are imported (when there is no saved state).
_CLI_WITH_SPY = """
import json, multiprocessing, sys
from builder import cli, related_helper

root, options, bound = sys.argv[1], sys.argv[2].split(), int(sys.argv[3])
started, answers, stops = [], [], []
real_start = related_helper.RelatedHelper.start_from_scratch.__func__
real_relate, real_stop = related_helper.RelatedHelper.relate, related_helper.RelatedHelper.stop

def start(cls, cache, jobs):
    helper = real_start(cls, cache, jobs)
    # what this process had imported when the helper forked
    started.append([helper is not None, *(name in sys.modules for name in ("builder.build", "markdown", "numpy"))])
    import builder.load
    builder.load.FROM_SCRATCH_ARTICLES = bound
    return helper

def relate(helper, *args, **kwargs):
    answers.append(isinstance(lists := real_relate(helper, *args, **kwargs), dict))
    return lists

def stop(helper):
    stops.append(1)
    real_stop(helper)

related_helper.RelatedHelper.start_from_scratch = classmethod(start)
related_helper.RelatedHelper.relate, related_helper.RelatedHelper.stop = relate, stop
code = cli.main(["build", "--source", root, "--now", sys.argv[4], "--no-search", "--jobs", "2", *options])
print(json.dumps({"code": code, "started": started, "answers": answers, "stops": len(stops),
                  "alive": len(multiprocessing.active_children())}))
"""


def _cli_build_with_spy(root: Path, options: str = "", bound: int = 20_000) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _CLI_WITH_SPY, str(root), options, str(bound), NOW.isoformat()],
                          capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_first_cli_build_takes_its_lists_from_a_helper_started_before_the_builds_modules_load(
        tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    # forked before Markdown, the build's modules and NumPy were imported here; it made the lists
    assert _cli_build_with_spy(root) == {"code": 0, "started": [[True, False, False, False]], "answers": [True],
                                         "stops": 0, "alive": 0}
    build(BuildOptions(root, tmp_path / "alone", now=NOW, jobs=1, clean=True))  # no helper: lists made here
    assert _tree(root / "site") == _tree(tmp_path / "alone")
    # it kept the engine's state for the next build, which then starts its helper from that state
    assert isinstance(Cache(root).related_engine(), engine.Outcome)
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    assert _cli_build_with_spy(root) == {"code": 0, "started": [[False, False, False, False]], "answers": [True],
                                         "stops": 0, "alive": 0}


def test_a_clean_cli_build_has_a_helper_from_scratch_that_reads_and_writes_no_cache(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    build(BuildOptions(root, root / "site", now=NOW, jobs=1))
    saved = {path: path.read_bytes() for path in (root / ".cache").rglob("*") if path.is_file()}
    _append(root / "content" / "farm" / "a00.md", "\nThe festival band played by the well.\n")
    assert Cache(root, enabled=False).saved_analyses() == {} != Cache(root).saved_analyses()
    assert _cli_build_with_spy(root, "--clean --output " + str(tmp_path / "clean")) == {
        "code": 0, "started": [[True, False, False, False]], "answers": [True], "stops": 0, "alive": 0}
    assert {path: path.read_bytes() for path in (root / ".cache").rglob("*") if path.is_file()} == saved
    build(BuildOptions(root, tmp_path / "alone", now=NOW, jobs=1, clean=True))
    assert _tree(tmp_path / "clean") == _tree(tmp_path / "alone")


def test_above_the_bound_the_helper_from_scratch_is_stopped_and_the_lists_made_here(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")  # 30 articles
    assert _cli_build_with_spy(root, bound=29) == {"code": 0, "started": [[True, False, False, False]],
                                                   "answers": [], "stops": 1, "alive": 0}
    build(BuildOptions(root, tmp_path / "alone", now=NOW, jobs=1, clean=True))
    assert _tree(root / "site") == _tree(tmp_path / "alone")
    assert _cli_build_with_spy(root, "--clean --output " + str(tmp_path / "at"), bound=30)["answers"] == [True]
    assert _tree(tmp_path / "at") == _tree(tmp_path / "alone")


def test_no_helper_from_scratch_for_one_job_or_a_refused_output(tmp_path: Path) -> None:
    root = _portal(tmp_path / "s")
    assert _cli_build_with_spy(root, "--jobs 1") == {"code": 0, "started": [[False, False, False, False]],
                                                     "answers": [], "stops": 0, "alive": 0}
    # a refused output: the helper it started is stopped, and nothing is left running
    assert _cli_build_with_spy(root, "--clean --output " + str(root)) == {
        "code": 2, "started": [[True, False, False, False]], "answers": [], "stops": 1, "alive": 0}


_LOADS_ENGINE_UNASKED = """
import sys, time
from pathlib import Path
from builder.cache import Cache
from builder.related_helper import RelatedHelper

cache = Cache(Path(sys.argv[1]), enabled=False)
helper = RelatedHelper.start_from_scratch(cache, 2)
deadline, loaded = time.monotonic() + 30, False
while not loaded and time.monotonic() < deadline:
    time.sleep(0.05)
    with open(f"/proc/{helper._process.pid}/maps") as maps:
        loaded = "_sparsetools" in maps.read()  # SciPy's sparse matrix code
print(loaded, "numpy" in sys.modules)
cache.close()
"""


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads the helper's memory map from /proc")
def test_the_helper_from_scratch_loads_the_engine_before_it_is_asked(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _LOADS_ENGINE_UNASKED, str(_portal(tmp_path / "s"))],
                          capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False"]  # in the helper, not here
