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
