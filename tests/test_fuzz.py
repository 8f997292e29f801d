"""Random front matter, bodies and file names through the real CLI: a build either succeeds or
reports clean `path:line: message` problems; it never crashes and never writes outside its output.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from conftest import NOW
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from builder.cli import main
from builder.errors import printable

REPO = Path(__file__).parent.parent
# BUILDER_FUZZ_EXAMPLES=2000 for a deeper run than CI's.
FUZZ = settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "60")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

# --- strategies ------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=40),
    st.sampled_from(["2026-05-01", "2026-05-01 10:15", "2025-13-45", "2026-02-30T25:00Z", "yesterday", "",
                     "../../etc", "a/b", "C:\\x", "Peace", "peace", "Ünïcödé", "  ", "!!!", "base"]),
)
yaml_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                           max_leaves=8)
KNOWN = ["title", "date", "updated", "publish_at", "expire_at", "topic", "tags", "author", "authors", "summary",
         "slug", "image", "image_alt", "image_caption", "draft", "related", "related_exclude"]
front_matter = st.dictionaries(st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=12)), yaml_values,
                               max_size=8)

FRAGMENTS = [
    "<div>", "</div>", "</p>", "<script>alert(1)</script>", "<img src=x>", "&amp;", "&#0;", "&bogus;",
    "[link](other.md)", "[up](../../x.md#frag)", "[ref]", "[ref]: /x", "![](pic.png)", "![a](pic.svg \"Cap\")",
    "[^1]", "[^1]: A note.", "[^missing]", "| a | b |\n|---|---|\n| 1 | 2 |", "|---|", "```", "```python",
    "~~~", "{: .class #id }", "{: title=\"x\" }", "*[HTML]: Hyper Text", "Term\n:   Definition", "> quote",
    "- item\n    - nested", "1. one\n1. two", "---", "***", "<!--", "-->", "\\", "`code`", "**bold", "_em_",
    "<a href=\"javascript:x\">x</a>", "[x](<a b.md>)", "[x](%00)", "\x00", "\ufeff", "\u202e", "\r\n", "\t",
]
headings = st.builds(lambda level, text: "#" * level + " " + text, st.integers(1, 8), st.text(max_size=300))
body_parts = st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=80), headings)
bodies = st.lists(body_parts, max_size=12).map("\n".join)

_NAME_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00")
file_names = st.one_of(
    st.text(_NAME_CHARS, min_size=1, max_size=60),
    st.sampled_from(["-rf", "--help", "a b", " lead", "trail ", "...", "..x", "x.", "名前", "Ünïcödé", "con",
                     "x" * 200, "a:b", "a\\b", "new\nline", "%2e%2e"]),
).filter(lambda name: name not in (".", "..") and len((name + ".md").encode()) <= 240)


# --- helpers ---------------------------------------------------------------------------------------

def render_front_matter(data: dict[str, object]) -> str:
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        return "title: fallback\n"


def write(path: Path, data: str | bytes) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    except (OSError, UnicodeEncodeError, ValueError):
        return False
    return True


def files_under(root: Path) -> dict[str, bytes]:
    found = {}
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            found[path.relative_to(root).as_posix()] = path.read_bytes() if not path.is_symlink() else b"link"
    return found


def build_in(temp: Path, *, subprocess_run: bool = False) -> tuple[int, str]:
    source, output = temp / "src", temp / "out"
    before = files_under(temp)
    args = ["build", "--source", str(source), "--output", str(output), "--now", NOW, "--no-search", "--jobs", "1",
            "--clean"]
    if subprocess_run:
        done = subprocess.run([sys.executable, "-m", "builder", *args], capture_output=True, text=True, cwd=REPO,
                              timeout=300, check=False)
        code, err = done.returncode, done.stderr
    else:
        out, err_stream = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err_stream):
            code = main(args)
        err = err_stream.getvalue()
    after = files_under(temp)
    outside = {rel: data for rel, data in after.items() if not rel.startswith("out/")}
    assert outside == before, "the build changed or created files outside its output folder"
    return code, err


def assert_clean_outcome(code: int, err: str, source: Path) -> None:
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert code in (0, 1), err
    if code == 0:
        return
    known = {printable(rel) for rel in files_under(source)} | {"content", "portal.toml"}
    known |= {printable(str(Path(rel).parent.as_posix())) for rel in files_under(source)}
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors, err
    for line in errors:
        rest = line.removeprefix("error: ")
        assert any(re.match(re.escape(path) + r"(:\d+)?: \S", rest) for path in known), line


# --- properties ------------------------------------------------------------------------------------

@FUZZ
@given(data=front_matter, body=bodies, valid_base=st.booleans())
def test_random_front_matter_and_bodies(data: dict[str, object], body: str, valid_base: bool) -> None:
    if valid_base:
        data = {"title": "A fuzzed article", "date": "2026-05-01", **data}
    with tempfile.TemporaryDirectory() as temp:
        source = Path(temp) / "src"
        write(source / "content/peace/fuzzed.md", f"---\n{render_front_matter(data)}---\n\n{body}\n")
        write(source / "content/peace/other.md", "---\ntitle: Other\ndate: 2026-04-01\n---\n\nText.\n")
        code, err = build_in(Path(temp))
        assert_clean_outcome(code, err, source)


@FUZZ
@given(raw=st.text(max_size=300), body=bodies)
def test_random_text_as_front_matter(raw: str, body: str) -> None:
    with tempfile.TemporaryDirectory() as temp:
        source = Path(temp) / "src"
        write(source / "content/peace/raw.md", f"---\n{raw}\n---\n{body}")
        code, err = build_in(Path(temp))
        assert_clean_outcome(code, err, source)


@FUZZ
@given(names=st.lists(file_names, min_size=1, max_size=4, unique=True), folder=file_names, body=bodies)
@example(names=["\x1f\u2028"], folder="0", body="")  # a line separator split the problem's line (found by this test)
def test_random_file_and_folder_names(names: list[str], folder: str, body: str) -> None:
    with tempfile.TemporaryDirectory() as temp:
        source = Path(temp) / "src"
        written = 0
        for index, name in enumerate(names):
            text = f"---\ntitle: Story {index}\ndate: 2026-05-0{index + 1}\n---\n\n{body}\n"
            written += write(source / "content" / folder / f"{name}.md", text)
            write(source / "content" / folder / f"{name}.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
        if not written:
            return
        code, err = build_in(Path(temp))
        assert_clean_outcome(code, err, source)


@settings(max_examples=5, deadline=None)
@given(data=front_matter, body=bodies, name=file_names)
def test_through_a_real_process(data: dict[str, object], body: str, name: str) -> None:
    data = {"title": "Subprocess", "date": "2026-05-01", **data}
    with tempfile.TemporaryDirectory() as temp:
        source = Path(temp) / "src"
        if not write(source / "content/peace" / f"{name}.md", f"---\n{render_front_matter(data)}---\n{body}\n"):
            return
        code, err = build_in(Path(temp), subprocess_run=True)
        assert_clean_outcome(code, err, source)


# --- smart punctuation: the linear scan gives what the original single expression gave ---------------

_REFERENCE = re.compile(r"<(pre|code|kbd|samp|script|style|tt|math)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>", re.S | re.I)


def _reference_smarten(html: str) -> str:
    """builder.content.typography.smarten as first written: right, but quadratic on unclosed <code>."""
    from builder.content.typography import _smarten_text

    out, previous, position = [], " ", 0
    for match in _REFERENCE.finditer(html):
        if match.start() > position:
            text = _smarten_text(html[position:match.start()], previous)
            out.append(text)
            previous = text[-1]
        out.append(match.group(0))
        if match.group(1):
            previous = "x"
        position = match.end()
    if position < len(html):
        out.append(_smarten_text(html[position:], previous))
    return "".join(out)


_HTML_BITS = ["<code>", "</code>", "</CODE >", "<pre class='x'>", "</pre>", "<!--", "-->", "<!---->", "<", ">",
              "'", '"', "--", "---", "...", "x", " ", "<p>", "</p>", "<codex>", "<script>", "</script>", "\n",
              "<tt>", "a'b", "'90s", "<a title=\"it's\">", "</a>", "<MATH>", "</math>"]


@FUZZ
@given(st.lists(st.one_of(st.sampled_from(_HTML_BITS), st.text(max_size=5)), max_size=40).map("".join))
def test_smart_punctuation_matches_the_reference(html: str) -> None:
    from builder.content.typography import smarten

    assert smarten(html) == _reference_smarten(html)


def _reference_quotes(text: str, previous: str) -> str:
    """Curly quotes as first written: each straight quote looked at one character at a time."""
    opening_context = " \t\n\r([{\u2014\u2013-/\u00a0"
    chars = list(text)
    for index, char in enumerate(chars):
        if char in "'\"":
            opening = (chars[index - 1] if index else previous) in opening_context
            chars[index] = ("\u201c" if opening else "\u201d") if char == '"' else ("\u2018" if opening else "\u2019")
    return "".join(chars)


@FUZZ
@given(st.lists(st.sampled_from(["'", '"', " ", "(", "-", "\u2014", "\u00a0", "/", "x", "7", "\n", "''", '""', "_", "s", "é"]),
                max_size=30).map("".join).filter(bool),
       st.sampled_from([" ", "x", "(", "\u201c", "-"]))
def test_curly_quotes_match_the_character_by_character_reference(text: str, previous: str) -> None:
    from builder.content.typography import _smarten_text

    # dashes, decades and apostrophes are done first, as in _smarten_text (the expressions as first written)
    expected = text.replace("---", "\u2014").replace("--", "\u2013")
    expected = re.sub(r"(?<=\w)'(?=\w)", "\u2019", re.sub(r"'(?=\d\ds\b)", "\u2019", expected))
    assert _smarten_text(text, previous) == _reference_quotes(expected, previous)
