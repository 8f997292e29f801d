"""The fixture site in tests/sites/basic built end to end and compared with tests/golden/basic.

After an intended change, rewrite the expected files with `make golden` (UPDATE_GOLDEN=1) and
review the diff like any other change.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

from conftest import NOW

SITE = Path(__file__).parent / "sites" / "basic"
GOLDEN = Path(__file__).parent / "golden" / "basic"


def _tree(root: Path) -> dict[str, bytes]:
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            # The default theme's own CSS changes with design work; here only its presence matters.
            files[rel] = b"" if rel.startswith("static/css/") else path.read_bytes()
    return files


def test_basic_site_matches_golden(tmp_path: Path, run) -> None:
    source = shutil.copytree(SITE, tmp_path / "basic")  # the build writes its cache beside content/
    out = tmp_path / "site"
    result = run("build", "--source", source, "--output", out, "--now", NOW, "--no-search")
    assert result.code == 0, result.err
    actual = _tree(out)
    if os.environ.get("UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        for rel, data in actual.items():  # the default theme's CSS is stored empty, not copied
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_bytes(data)
    expected = _tree(GOLDEN)
    assert sorted(actual) == sorted(expected), "the set of output files changed"
    diffs = []
    for rel, data in actual.items():
        if data != expected[rel]:
            diffs.extend(difflib.unified_diff(expected[rel].decode().splitlines(), data.decode().splitlines(),
                                              f"golden/{rel}", f"built/{rel}", lineterm="", n=1))
    assert not diffs, "\n".join(diffs[:80])
