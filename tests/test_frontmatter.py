"""Splitting front matter from the body, with line numbers for every problem."""

from builder.content.frontmatter import FrontMatter, split_front_matter
from builder.errors import Problem


def test_splits_and_keeps_dates_as_text() -> None:
    front = split_front_matter("a.md", "---\ntitle: Hello\ndate: 2026-05-01\n---\nBody text\n")
    assert isinstance(front, FrontMatter)
    assert front.data == {"title": "Hello", "date": "2026-05-01"}
    assert front.line_of == {"title": 2, "date": 3}
    assert front.body.strip() == "Body text"


def test_leading_blank_lines_shift_line_numbers() -> None:
    front = split_front_matter("a.md", "\n\n---\ntitle: Hello\n---\nBody")
    assert isinstance(front, FrontMatter)
    assert front.line_of["title"] == 4


def test_empty_file() -> None:
    problem = split_front_matter("a.md", "  \n")
    assert isinstance(problem, Problem) and problem.message == "the file is empty"


def test_no_front_matter() -> None:
    problem = split_front_matter("a.md", "Just text\n")
    assert isinstance(problem, Problem)
    assert problem.line == 1 and "no front matter" in problem.message


def test_unclosed_front_matter() -> None:
    problem = split_front_matter("a.md", "---\ntitle: x\n\nBody forever\n")
    assert isinstance(problem, Problem)
    assert problem.message == "front matter is opened with '---' but never closed"


def test_yaml_error_points_at_file_line() -> None:
    problem = split_front_matter("a.md", "---\ntitle: ok\ndate: 2026-01-01\nsummary: a: b\n---\nBody")
    assert isinstance(problem, Problem)
    assert problem.line == 4
    assert problem.message.startswith("front matter is not valid YAML")


def test_front_matter_must_be_a_mapping() -> None:
    problem = split_front_matter("a.md", "---\n- one\n- two\n---\nBody")
    assert isinstance(problem, Problem) and "key: value" in problem.message


def test_horizontal_rule_in_body_is_not_a_boundary() -> None:
    front = split_front_matter("a.md", "---\ntitle: x\n---\nOne\n\n---\n\nTwo\n")
    assert isinstance(front, FrontMatter)
    assert "Two" in front.body and "One" in front.body


# --- Simple front matter read without the YAML parser ----------------------------------------

import os  # noqa: E402

import pytest  # noqa: E402
import yaml  # noqa: E402
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from builder.content import frontmatter  # noqa: E402

# Mostly what front matter holds, with every kind of character YAML treats specially mixed in
_KEYS = st.sampled_from(["title", "tags", "summary", "x-y", "_a", "a1", "yes", "No", "on", "null", "y", "é", "a b", "1"])
_SEPARATORS = st.sampled_from([": ", ": ", ": ", ":  ", ":", " : ", ":\t", ": \t"])
_WORDS = st.sampled_from(["Peace", "talks", "Ana Ruiz", "it's", "a,b", "x-y", "2026-05-01", "2026-05-01 10:00", "a:b",
                          "Aldessa", "été", "—"])
_SPECIALS = st.sampled_from([
    " ", "  ", ",", ", ", ":", ": ", "#", " #", '"', "'", "''", "\\", '\\"', "\\n", "\\\\", "[", "]", "{", "}", "-",
    "- ", "?", "&", "*", "!", "|", ">", "%", "@", "`", "~", "=", "<<", ".", "0", "1", "12", "0x1", "1_0", "1:30",
    ".5", "1e3", ".inf", "true", "False", "ON", "off", "yes", "no", "null", "Null", "\u2028", "\x85", "\t", "\r",
    "\x07", "\ufeff",
])
_VALUES = st.lists(st.one_of(_WORDS, _WORDS, _SPECIALS), min_size=1, max_size=4).map("".join)
_ITEMS = st.lists(st.one_of(_WORDS, _SPECIALS), min_size=1, max_size=2).map("".join)
_LINES = st.one_of(
    st.builds(lambda k, s, v: f"{k}{s}{v}", _KEYS, _SEPARATORS, _VALUES),
    st.builds(lambda k, s, v: f'{k}{s}"{v}"', _KEYS, _SEPARATORS, _VALUES),
    st.builds(lambda k, s, v: f"{k}{s}'{v}'", _KEYS, _SEPARATORS, _VALUES),
    st.builds(lambda k, s, items: f"{k}{s}[{', '.join(items)}]", _KEYS, _SEPARATORS, st.lists(_ITEMS, max_size=3)),
    st.sampled_from(["", " ", "  - item", "---", "...", "# a comment", "%YAML 1.1", "key:", "- a"]),
)


def _yaml_reads(raw: str) -> object:
    try:
        return yaml.load(raw, Loader=frontmatter._NoTimestampLoader)
    except yaml.YAMLError as exc:
        return exc


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 5, deadline=None)
@given(st.lists(_LINES, min_size=1, max_size=4).map("\n".join))
@example('title: "Talks: \\"a\\" round"\ndate: 2026-05-01 10:00\ntags: [Peace, Water]\ndraft: true\n')
@example("title: It's 'fine', they said [again]\nauthor: [Ana Ruiz]\nfeatured: Off\nsummary: 'It''s'")
@example("tags: []\nrelated: [ ]\nslug: a-b_c\n")
@example("title: a:")  # (an error to YAML)
@example("tags: [12]")
@example("tags: [a: b]")
@example("tags: [&a x]")
@example("yes: x")
def test_simple_front_matter_reads_as_yaml_reads_it(raw: str) -> None:
    """Where the quick reader accepts front matter, it reads exactly what PyYAML reads."""
    quick = frontmatter._simple_mapping(raw)
    if quick is not None:
        assert quick == _yaml_reads(raw)
        assert [type(v) for v in quick.values()] == [type(v) for v in _yaml_reads(raw).values()]  # type: ignore[attr-defined]


@pytest.mark.parametrize("raw", [
    'title: "Talks resume"\ndate: 2026-05-01\ntopic: Peace\ntags: [Mediation, Water]\nauthor: Ana Ruiz\n',
    "title: Women's council meets\nsummary: \"A \\\"new\\\" start, at last.\"\ndraft: false\nfeatured: true\n",
])
def test_common_front_matter_skips_the_yaml_parser(raw: str) -> None:
    assert frontmatter._simple_mapping(raw) == _yaml_reads(raw)


@pytest.mark.parametrize("raw", [
    "author:\n  - Ana Ruiz\n  - Ben Ode\n", "count: 12\n", "title: null\n", "title: \n", "title: a # note\n",
    "yes: no\n", 'title: "a\\tb"\n', "title: a: b\n", "tags: [a, [b]]\n", "title: |\n  text\n",
])
def test_other_front_matter_goes_to_the_yaml_parser(raw: str) -> None:
    assert frontmatter._simple_mapping(raw) is None
