"""A card's token changes exactly when the card does: a body edit must not re-plan every listing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import article

from builder.content.model import ImageRef
from builder.load import load_site
from builder.pages import Planner
from builder.urls import Urls


def test_the_card_token_follows_the_card_not_the_file(make_site: Callable[[dict[str, str | bytes]], Path]) -> None:
    root = make_site({
        "portal.toml": 'title = "Cards"\nbase_url = "https://example.org/"\n',
        "content/peace/a.md": article("Talks resume", topic="peace", tags=["Mediation"], author="Ana Ruiz",
                                      body="word " * 400),
        "content/peace/b.md": article("Wells dug", topic="peace", tags=["Water"], author="Ben Ode"),
    })
    loaded = load_site(root, now=datetime(2026, 11, 27, tzinfo=UTC))
    assert not loaded.problems
    planner = Planner(loaded.site, Urls("/", "https://example.org"), lambda path: None, loaded.source_urls,
                      lambda key: "")
    first = loaded.site.articles[0]
    token = planner.card_token(first)
    # another body of about the same length: another file digest and body, the same card
    assert planner.card_token(replace(first, digest="another", body_key="another",
                                      word_count=first.word_count + 20)) == token
    # anything the card shows changes the token
    for changed in (replace(first, title="Talks end"), replace(first, summary="Another summary."),
                    replace(first, date=first.date + timedelta(days=1)),
                    replace(first, updated=first.date + timedelta(days=2)),
                    replace(first, word_count=first.word_count + 900),  # reading time
                    replace(first, tags=("Water",)), replace(first, authors=("Ben Ode",)),
                    replace(first, image=ImageRef("https://example.org/a.jpg", "A well"))):
        assert planner.card_token(changed) != token, changed
