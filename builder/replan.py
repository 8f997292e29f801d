"""Which groups of pages (builder.pages.Unit) must be planned again, and what the others were.

Planning and fingerprinting every page of a 10,000-article site to find the few an edit changed
took most of an edit rebuild. Instead each unit's record from the last build keeps a digest of
what its pages were made from (its inputs, the site-wide key and its templates' keys). A unit is
planned again when that changed, when the card of an article it watches changed, when it is
new, or when one of its files is missing from the output; otherwise its pages are kept as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from builder.content.model import Article
from builder.fingerprint import digest
from builder.pages import PageSpec, Unit


# Named tuples, not dataclasses: the cache holds one record a page unit, and a 10,000-article
# site's 10,000 loaded in 0.03 s as dataclasses, 0.02 s as named tuples.
class PageRecord(NamedTuple):
    """A page as the last build wrote it: enough for the output, the sitemap and the next build."""

    path: str
    url: str
    lastmod: datetime | None
    noindex: bool
    key: str


class UnitRecord(NamedTuple):
    inputs: str  # a digest of the unit's full inputs
    pages: tuple[PageRecord, ...]


@dataclass(slots=True)
class PagePlan:
    pages: list[PageSpec | PageRecord] = field(default_factory=list)  # every page, in sitemap order
    specs: list[PageSpec] = field(default_factory=list)  # the pages planned this time
    kept: dict[str, UnitRecord] = field(default_factory=dict)  # units known from the last build
    planned: list[tuple[str, str | None, list[PageSpec]]] = field(default_factory=list)

    @staticmethod
    def joined(*parts: PagePlan) -> PagePlan:
        whole = PagePlan()
        for part in parts:
            whole.pages += part.pages
            whole.specs += part.specs
            whole.kept.update(part.kept)
            whole.planned += part.planned
        return whole


def changed_cards(articles: Iterable[Article], check_of: Callable[[Article], Any], token_of: Callable[[Article], Any],
                  before: Mapping[str, Any], previous: Mapping[str, Article],
                  suspects: Container[str] | None) -> tuple[dict[str, Any], set[str]]:
    """Each article's card check by slug, and the slugs whose card changed since the build that
    left BEFORE (their checks; added and removed articles included). A check (the file's digest
    and what the card reads besides the file) equal to the one before means the same card while
    the parse settings and the terms' display names are the same, which the caller knows;
    SUSPECTS: slugs whose terms were renamed, or None when the parse settings changed. Where only
    the file changed, the card tokens of its article before (PREVIOUS, by slug) and now are
    compared. (Keeping every card's token in the cache cost 0.025 s to read after an edit at
    10,000 articles, making and comparing them all 0.075-0.1 s.)"""
    after: dict[str, Any] = {}
    changed: set[str] = set()
    for article in articles:
        slug = article.slug
        check = check_of(article)
        old = before.get(slug)
        if old == check:
            after[slug] = old  # (the loaded check: the cache's save then finds it identical)
            if suspects is None or slug in suspects:
                changed.add(slug)
            continue
        after[slug] = check
        if old is None or suspects is None or slug in suspects or old[1:] != check[1:]:
            changed.add(slug)
            continue
        was = previous.get(slug)
        if was is None or token_of(was) != token_of(article):
            changed.add(slug)
    changed.update(before.keys() - after.keys())
    return after, changed


def renamed_members(before: Mapping[str, str], after: Mapping[str, str],
                    members: Mapping[str, Sequence[str]]) -> set[str]:
    """Slugs of the articles of every term (tag or author) whose display name differs between two
    builds' BEFORE and AFTER (term slug -> name): the commonest spelling among all articles can
    change with an edit of another article."""
    renamed = {slug for slug in before.keys() | after.keys() if before.get(slug) != after.get(slug)}
    return {article for term in renamed for article in members.get(term, ())}


def plan_units(units: Iterable[Unit], inputs_of: Callable[[Unit], str | None], old: Mapping[str, UnitRecord],
               changed: set[str], exists: Callable[[str], bool]) -> PagePlan:
    """Plan the units that need it; take the others' pages from OLD. INPUTS_OF gives a unit's
    full inputs (site-wide and template keys included), None when it must always be planned."""
    plan = PagePlan()
    for unit in units:
        full = inputs_of(unit)
        inputs = None if full is None else digest(full.encode("utf-8", "surrogatepass"))
        record = old.get(unit.name)
        if (inputs is not None and record is not None and record.inputs == inputs
                and (not changed or changed.isdisjoint(unit.watches()))  # (a body edit changes no card)
                and (exists(record.pages[0].path) if len(record.pages) == 1
                     else all(exists(page.path) for page in record.pages))):
            plan.kept[unit.name] = record
            plan.pages.extend(record.pages)
            continue
        specs = unit.plan()
        plan.pages.extend(specs)
        plan.specs.extend(specs)
        plan.planned.append((unit.name, inputs, specs))
    return plan


def unit_records(plan: PagePlan, keys: Mapping[str, str]) -> dict[str, UnitRecord]:
    """Records for the next build: kept units as they were, planned ones with their new page keys
    (a unit with a page that failed to render, and so has no key, is left out)."""
    records = dict(plan.kept)
    for name, inputs, specs in plan.planned:
        if inputs is None or not all(spec.path in keys for spec in specs):
            continue
        pages = tuple(PageRecord(s.path, s.url, s.lastmod, s.noindex, keys[s.path]) for s in specs)
        records[name] = UnitRecord(inputs, pages)
    return records
