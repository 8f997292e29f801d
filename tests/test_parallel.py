"""Worker pools: results in order, and the parent's objects frozen for forked workers only while they run."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from collections.abc import Sequence

from builder import parallel

# In a fresh interpreter: workers are forked only from a process with no other threads, and tests
# that ran before may have left some in this one.
_FORKED = """
import gc, json
from builder import parallel

def frozen_counts(shared, items):
    return [(item, gc.get_freeze_count()) for item in items]

assert parallel.can_fork()
before, during, results = gc.get_freeze_count(), [], []
for batch in parallel.map_chunks(frozen_counts, list(range(400)), jobs=2):
    during.append(gc.get_freeze_count())
    results += batch
print(json.dumps({"before": before, "during": during, "results": results, "after": gc.get_freeze_count()}))
"""


def test_forked_workers_see_the_parents_objects_frozen_and_the_parent_gets_them_back() -> None:
    done = subprocess.run([sys.executable, "-c", _FORKED], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout)
    assert [item for item, _ in seen["results"]] == list(range(400))
    assert all(count > 0 for _, count in seen["results"])  # the workers inherited the frozen objects
    assert seen["before"] == 0 and all(count > 0 for count in seen["during"])
    assert seen["after"] == 0  # unfrozen once the pool is done


def _frozen_counts(shared: None, items: Sequence[int]) -> list[tuple[int, int]]:
    return [(item, gc.get_freeze_count()) for item in items]


def test_serial_runs_freeze_nothing() -> None:
    results = [r for batch in parallel.map_chunks(_frozen_counts, list(range(10)), jobs=1) for r in batch]
    assert results == [(item, 0) for item in range(10)]
