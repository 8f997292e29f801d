"""portal.toml: defaults, validation with key and line, topics."""

import pytest

from builder.config import SiteConfig, parse_config
from builder.errors import BuildError


def problems_of(text: str) -> list[str]:
    with pytest.raises(BuildError) as caught:
        parse_config(text)
    return [str(p) for p in caught.value.problems]


def test_defaults_when_empty() -> None:
    assert parse_config("") == SiteConfig()


def test_full_config_is_typed_and_frozen() -> None:
    config = parse_config('''
title = "Peace Dispatch"
base_url = "https://news.example.org/portal"
per_page = 12
timezone = "Europe/Zurich"
[[topics]]
slug = "human-rights"
title = "Human Rights"
description = "Rights."
[related]
count = 4
[related.weights]
tags = 0.5
''')
    assert config.title == "Peace Dispatch"
    assert config.base_path == "/portal/"
    assert config.origin == "https://news.example.org"
    assert config.topics[0].slug == "human-rights"
    assert config.related.count == 4 and config.related.weights.tags == 0.5
    with pytest.raises(AttributeError):
        config.title = "x"  # type: ignore[misc]


def test_unknown_key_names_line_and_suggests() -> None:
    found = problems_of('title = "x"\n\nper_pag = 4\n')
    assert found == ["portal.toml:3: unknown key 'per_pag'\n    hint: did you mean 'per_page'?"]


def test_wrong_types_all_reported_with_lines() -> None:
    found = problems_of('title = 3\nper_page = "ten"\n[related]\ncount = true\n')
    assert [f.split(":")[1] for f in found] == ["1", "2", "4"]
    assert "'title' must be a string, not 3" in found[0]
    assert "'per_page' must be a whole number, not 'ten'" in found[1]
    assert "'related.count' must be a whole number, not True" in found[2]


def test_unknown_key_in_nested_table() -> None:
    found = problems_of('[related.weights]\ntagz = 1.0\n')
    assert found[0].startswith("portal.toml:2: unknown key 'related.weights.tagz'")
    assert "did you mean 'tags'?" in found[0]


def test_syntax_error_has_line() -> None:
    found = problems_of('title = "x"\nper_page = = 3\n')
    assert found[0].startswith("portal.toml:2: TOML syntax error")


def test_topic_checks() -> None:
    found = problems_of('''
[[topics]]
slug = "peace"
title = "Peace"
[[topics]]
slug = "Bad Slug"
title = "Other"
[[topics]]
slug = "peace"
title = "Again"
[[topics]]
slug = "tags"
title = "Tags"
''')
    assert any("6: topic slug 'Bad Slug' is not usable in a URL" in f and "'bad-slug'" in f for f in found)
    assert any(":9: topic slug 'peace' is declared twice" in f for f in found)
    assert any(":12: topic slug 'tags' is reserved" in f for f in found)


def test_value_checks() -> None:
    found = problems_of('base_url = "example.org"\nper_page = 0\ntimezone = "Mars/Olympus"\nlanguage = "english!"\n')
    assert len(found) == 4
    assert "not an absolute http(s) URL" in found[0]
