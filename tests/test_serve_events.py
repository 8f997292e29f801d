"""builder.serve.events and the rebuild loop: which changes matter, and how bursts become batches."""

from __future__ import annotations

import threading

import pytest

from builder.errors import Problem
from builder.serve.events import ChangeBatcher, FileEvent, is_ignored, source_path
from builder.serve.loop import RebuildLoop
from builder.serve.status import BuildOutcome, Status

SRC = "/site"


def changed(path: str) -> FileEvent:
    return FileEvent("modified", f"{SRC}/{path}")


# --- filtering ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [
    ".water.md.swp", ".water.md.swx", "water.md.swn", "water.md~", ".#water.md", "#water.md#", "4913",
    "water.md___jb_tmp___", "water.md___jb_old___", ".DS_Store", "Thumbs.db", ".water.md.kate-swp",
    "photo.jpg.crdownload", "photo.jpg.part", "~$report.docx", ".goutputstream-X1Y2Z3",
])
def test_editor_temporaries_and_hidden_files_are_ignored(name: str) -> None:
    assert is_ignored(name)
    assert source_path(f"{SRC}/content/peace/{name}", SRC) is None


@pytest.mark.parametrize("name", ["water.md", "map.svg", "reads.csv", "style.css", "4913-report.md", "notes.markdown"])
def test_ordinary_names_are_not_ignored(name: str) -> None:
    assert not is_ignored(name)


@pytest.mark.parametrize("path, expected", [
    ("content/peace/water.md", "content/peace/water.md"),
    ("content/_data/reads.csv", "content/_data/reads.csv"),
    ("content/peace/img/map.svg", "content/peace/img/map.svg"),
    ("themes/mine/static/css/style.css", "themes/mine/static/css/style.css"),
    ("themes/mine/templates/base.html", "themes/mine/templates/base.html"),
    ("portal.toml", "portal.toml"),
    ("site/index.html", None),                         # the user's build output
    (".cache/preview/index.html", None),               # the preview's own output
    (".git/index", None),
    (".git/refs/heads/main", None),
    ("content/.git/HEAD", None),                       # a repository inside content/
    ("content/.hidden/water.md", None),                # anything inside a hidden folder
    ("themes/.cache/x.css", None),
    ("README.md", None),                               # the site folder's other files
    ("portal.toml.swp", None),
    ("tests/portal.toml", None),
    ("../elsewhere/content/x.md", None),
])
def test_only_the_site_sources_count(path: str, expected: str | None) -> None:
    assert source_path(f"{SRC}/{path}", SRC) == expected


# --- coalescing ---------------------------------------------------------------------------------

def test_a_burst_of_500_events_is_one_batch() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1, max_wait=2.0)
    now = 100.0
    for i in range(500):  # e.g. a git checkout: 500 files within half a second
        batcher.add(changed(f"content/t{i % 7}/a{i}.md"), now)
        assert batcher.take(now) is None
        now += 0.001
    assert batcher.take(now + 0.05) is None  # not quiet long enough yet
    batch = batcher.take(now + 0.1)
    assert batch is not None and len(batch) == 500
    assert batcher.take(now + 10) is None  # nothing left
    assert batcher.wait_time(now + 10) is None


def test_waiting_is_capped_when_events_never_stop() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1, max_wait=1.0)
    batches = []
    for i in range(300):  # one event every 50 ms for 15 s: never quiet
        now = i * 0.05
        batcher.add(changed(f"content/a{i}.md"), now)
        if (batch := batcher.take(now)) is not None:
            batches.append(batch)
    assert 10 <= len(batches) <= 16
    assert sum(len(b) for b in batches) + len(batcher.take(1e9) or ()) == 300


def test_wait_time_counts_down_from_the_last_event() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1, max_wait=2.0)
    assert batcher.wait_time(0.0) is None
    batcher.add(changed("content/a.md"), 5.0)
    assert batcher.wait_time(5.0) == pytest.approx(0.1)
    batcher.add(changed("content/b.md"), 5.08)
    assert batcher.wait_time(5.1) == pytest.approx(0.08)
    assert batcher.wait_time(6.0) == 0.0


def test_ignored_events_do_not_start_a_batch() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1)
    for name in ["content/.a.md.swp", "content/4913", "site/index.html", ".cache/preview/x.html", ".git/index"]:
        batcher.add(changed(name), 1.0)
    batcher.add(FileEvent("modified", f"{SRC}/content/peace", is_dir=True), 1.0)  # a folder's mtime
    assert batcher.wait_time(1.0) is None
    assert batcher.take(100.0) is None


def test_atomic_rename_save_is_one_change_of_the_target() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1)
    temp, real = f"{SRC}/content/peace/tmpk2v9x8", f"{SRC}/content/peace/water.md"
    batcher.add(FileEvent("created", temp), 1.0)
    batcher.add(FileEvent("modified", temp), 1.001)
    batcher.add(FileEvent("moved", temp, real), 1.002)
    assert batcher.take(2.0) == frozenset({"content/peace/water.md"})


def test_vim_style_save_is_one_change() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1)
    real = f"{SRC}/content/peace/water.md"
    batcher.add(FileEvent("created", f"{SRC}/content/peace/4913"), 1.0)
    batcher.add(FileEvent("deleted", f"{SRC}/content/peace/4913"), 1.0)
    batcher.add(FileEvent("moved", real, real + "~"), 1.0)
    batcher.add(FileEvent("created", real), 1.0)
    batcher.add(FileEvent("modified", real), 1.0)
    batcher.add(FileEvent("deleted", real + "~"), 1.0)
    assert batcher.take(2.0) == frozenset({"content/peace/water.md"})


def test_a_deleted_file_that_existed_before_stays_a_change() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1)
    real = f"{SRC}/content/peace/water.md"
    batcher.add(FileEvent("moved", f"{SRC}/content/peace/tmp1", real), 1.0)  # renamed over: it existed
    batcher.add(FileEvent("deleted", real), 1.0)
    assert batcher.take(2.0) == frozenset({"content/peace/water.md", "content/peace/tmp1"})
    batcher.add(FileEvent("deleted", real), 3.0)
    batcher.add(FileEvent("created", real), 3.0)
    batcher.add(FileEvent("deleted", real), 3.0)
    assert batcher.take(4.0) == frozenset({"content/peace/water.md"})


def test_a_file_created_and_removed_within_a_batch_is_no_change() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1)
    batcher.add(FileEvent("created", f"{SRC}/content/scratch.md"), 1.0)
    batcher.add(FileEvent("deleted", f"{SRC}/content/scratch.md"), 1.01)
    assert batcher.take(2.0) is None


def test_events_during_a_build_make_one_more_batch() -> None:
    batcher = ChangeBatcher(SRC, quiet=0.1)
    batcher.add(changed("content/a.md"), 1.0)
    assert batcher.take(1.2) == frozenset({"content/a.md"})
    # the build runs from 1.2 to 4.0; the loop hands over what queued up meanwhile, with its times
    for i in range(40):
        batcher.add(changed(f"content/b{i}.md"), 1.5 + i * 0.05)
    first = batcher.take(4.0)
    assert first is not None and len(first) == 40
    assert batcher.take(10.0) is None


# --- the rebuild loop (threads, but no timing: builds are held by events) --------------------

class FakeBuild:
    """Records each change set; the first build blocks until released."""

    def __init__(self) -> None:
        self.batches: list[frozenset[str]] = []
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, changes: frozenset[str]) -> BuildOutcome:
        self.batches.append(changes)
        self.started.set()
        assert self.release.wait(10)
        return BuildOutcome(changed=("index.html",))


def test_changes_during_a_build_cause_exactly_one_more_build() -> None:
    fake, status = FakeBuild(), Status()
    loop = RebuildLoop(fake, status, ChangeBatcher(SRC, quiet=0.01))
    loop.start()
    try:
        loop.put(changed("content/a.md"))
        assert fake.started.wait(10)  # the first build is running and blocked
        for i in range(25):
            loop.put(changed(f"content/b{i}.md"))
        fake.release.set()
        assert status.wait(1, timeout=10) is not None  # the second build finished
    finally:
        loop.stop()
    assert fake.batches[0] == frozenset({"content/a.md"})
    assert fake.batches[1] == {f"content/b{i}.md" for i in range(25)}
    assert len(fake.batches) == 2  # stop() drained the queue: nothing was left for a third
    assert status.snapshot().build == 2


def test_a_crashing_build_is_reported_and_the_loop_goes_on() -> None:
    calls: list[frozenset[str]] = []

    def rebuild(changes: frozenset[str]) -> BuildOutcome:
        calls.append(changes)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return BuildOutcome()

    status = Status()
    loop = RebuildLoop(rebuild, status, ChangeBatcher(SRC, quiet=0.01))
    first = loop.build()
    assert first.build == 1 and "boom" in first.problems[0].message
    loop.start()
    try:
        loop.put(changed("content/a.md"))
        second = status.wait(1, timeout=10)
    finally:
        loop.stop()
    assert second is not None and second.problems == ()


# --- what a build tells the browser -------------------------------------------------------------

def test_status_says_whether_pages_or_only_stylesheets_changed() -> None:
    status = Status()
    first = status.publish(BuildOutcome(changed=("index.html", "static/css/style.css")))
    assert (first.build, first.pages, first.styles) == (1, 1, 0)
    css = status.publish(BuildOutcome(changed=("static/css/style.css",)))
    assert (css.build, css.pages, css.styles) == (2, 1, 2)
    nothing = status.publish(BuildOutcome())
    assert (nothing.build, nothing.pages, nothing.styles) == (3, 1, 2)
    broken = status.publish(BuildOutcome(problems=(Problem("content/a.md", 2, "bad", "fix it"),)))
    assert (broken.build, broken.pages) == (4, 1) and broken.problems
    assert '"line": 2' in broken.to_json()


def test_waiting_for_status_returns_at_once_when_behind_and_none_when_closed() -> None:
    status = Status()
    status.publish(BuildOutcome())
    assert status.wait(-1, timeout=10) is not None
    status.close()
    assert status.wait(1, timeout=10) is None

