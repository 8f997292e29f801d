"""The related-articles engine: obvious neighbours, pins, excludes, coverage, determinism, caching."""

from __future__ import annotations

import pathlib
import pickle
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.config import RelatedWeights
from builder.related import Explanation, RelatedDoc, Relations, analysis_key, engine, relate
from builder.related.analyze import Analyzer, snowball_name

BASE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# Three small stories each about wells, a music festival, school exams and a ceasefire: within a
# group the articles share their subject's vocabulary, across groups they share almost nothing.
TEXTS: dict[str, tuple[str, str, str]] = {
    "wells-north": (
        "New wells bring water to northern villages",
        "Volunteers drilled three wells this spring.",
        ("Volunteers drilled three deep wells near the northern villages, so families no longer walk "
         "hours to fetch water. The wells use hand pumps that villagers repair themselves, and the "
         "water committee tests the water every month."),
    ),
    "wells-drought": (
        "Drought dries up village wells",
        "Shallow wells failed after the long drought.",
        ("After the long drought many shallow wells ran dry. Engineers say deeper drilling and new "
         "hand pumps are needed, and villagers are rationing water from the last working well."),
    ),
    "wells-repair": (
        "Women's committee learns to repair hand pumps",
        "A training course on fixing village wells.",
        ("Members of the water committee learned to repair broken hand pumps on the village wells. "
         "A spare-parts fund keeps the pumps working, so clean water keeps flowing to families."),
    ),
    "festival-lineup": (
        "Harbour music festival announces lineup",
        "Forty bands will play on three stages.",
        ("The harbour music festival announced forty bands for its summer stages. Tickets for the "
         "festival weekend go on sale on Monday, and the organisers promise jazz, folk and brass bands."),
    ),
    "festival-opening": (
        "Crowds dance as the music festival opens",
        "Brass bands opened the festival on the harbour stage.",
        ("Thousands of fans danced on the harbour as brass bands opened the music festival. The main "
         "stage hosted folk singers until midnight and the festival tickets were sold out."),
    ),
    "festival-review": (
        "Festival review: the best bands of the weekend",
        "Our critic picks the finest sets of the music festival.",
        ("Our critic reviews the festival weekend: the jazz bands on the harbour stage were the "
         "highlight, the folk singers charmed the crowd and the brass finale closed the music festival."),
    ),
    "exams-start": (
        "Students sit final school exams",
        "The national exams began on Tuesday.",
        ("Students across the country sat their final school exams on Tuesday. Teachers said pupils "
         "had prepared for the mathematics and history papers for months."),
    ),
    "exams-results": (
        "School exam results published",
        "More pupils passed the final exams this year.",
        ("The education ministry published the school exam results: more pupils passed mathematics "
         "and history, and teachers praised the students who prepared with revision classes."),
    ),
    "exams-cheating": (
        "Exam papers leaked before the test",
        "The mathematics paper was shared online.",
        ("The mathematics exam paper leaked online the night before the test, and the education "
         "ministry ordered schools to set new papers so that pupils and teachers can trust the exams."),
    ),
    "ceasefire-signed": (
        "Ceasefire signed after long negotiations",
        "Both sides agreed to stop fighting at midnight.",
        ("Negotiators signed a ceasefire after weeks of talks. Both armies agreed to stop fighting at "
         "midnight and to let monitors patrol the front line."),
    ),
    "ceasefire-monitors": (
        "Monitors report the ceasefire is holding",
        "No fighting was reported on the front line.",
        ("International monitors patrolling the front line reported that the ceasefire is holding. "
         "Negotiators will meet again for talks about prisoners and the armies' withdrawal."),
    ),
    "ceasefire-talks": (
        "Peace talks resume as ceasefire holds",
        "Negotiators return to the table.",
        ("Peace talks resumed while the ceasefire held along the front line. Negotiators discussed "
         "prisoner exchanges and monitors for the withdrawal of both armies."),
    ),
}
GROUPS = {slug: slug.split("-")[0] for slug in TEXTS}
TEXT_ONLY = RelatedWeights(text=1.0, tags=0.0, topic=0.0, author=0.0, recency=0.0)


def doc(slug: str, day: int = 0, **changes: object) -> RelatedDoc:
    title, summary, text = TEXTS[slug]
    made = RelatedDoc(slug=slug, title=title, summary=summary, text=text, topic="", tags=(), authors=(),
                      date=BASE + timedelta(days=day))
    return replace(made, **changes)  # type: ignore[arg-type]


def corpus() -> list[RelatedDoc]:
    return [doc(slug, day=i) for i, slug in enumerate(TEXTS)]


def check_lists(relations: Relations, docs: list[RelatedDoc], count: int) -> None:
    """Every list: exactly COUNT known slugs (when possible), never itself, no repeats."""
    known = {d.slug for d in docs}
    assert set(relations.lists) == known
    for slug, items in relations.lists.items():
        assert slug not in items
        assert len(items) == len(set(items))
        assert set(items) <= known
        assert len(items) == min(count, len(docs) - 1)


def test_the_obvious_neighbours_come_first() -> None:
    docs = corpus()
    relations = relate(docs, count=5, weights=TEXT_ONLY)
    check_lists(relations, docs, 5)
    for slug, items in relations.lists.items():
        assert {GROUPS[s] for s in items[:2]} == {GROUPS[slug]}, (slug, items)


def test_default_weights_keep_the_obvious_neighbours() -> None:
    relations = relate(corpus(), count=4)
    for slug, items in relations.lists.items():
        assert [GROUPS[s] for s in items[:2]] == [GROUPS[slug]] * 2, (slug, items)


def test_pins_come_first_in_the_given_order_and_unknown_pins_are_ignored() -> None:
    docs = [d if d.slug != "wells-north" else
            replace(d, pins=("exams-results", "no-such-article", "wells-north", "festival-review", "exams-results"))
            for d in corpus()]
    relations = relate(docs, count=4)
    items = relations.lists["wells-north"]
    assert items[:2] == ("exams-results", "festival-review")
    assert {GROUPS[s] for s in items[2:]} == {"wells"}
    check_lists(relations, docs, 4)
    pinned = [e.pinned for e in relations.explain("wells-north")]
    assert pinned == [True, True, False, False]


def test_more_pins_than_count_are_cut_to_count() -> None:
    docs = [replace(d, pins=("exams-start", "exams-results", "festival-lineup")) if d.slug == "wells-north" else d
            for d in corpus()]
    assert relate(docs, count=2).lists["wells-north"] == ("exams-start", "exams-results")


def test_excludes_are_removed_even_the_best_match_and_pins() -> None:
    plain = relate(corpus(), count=5, weights=TEXT_ONLY).lists["festival-lineup"]
    best = plain[0]
    docs = [replace(d, excludes=(best, "unknown-slug"), pins=(best,)) if d.slug == "festival-lineup" else d
            for d in corpus()]
    relations = relate(docs, count=5, weights=TEXT_ONLY)
    items = relations.lists["festival-lineup"]
    assert best not in items
    assert len(items) == 5
    assert GROUPS[items[0]] == "festival"


def test_full_lists_even_when_texts_share_nothing() -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
    docs = [RelatedDoc(slug=f"lonely-{i}", title=w, summary="", text=f"{w}{w} {w}ish", topic="", tags=(),
                       authors=(), date=BASE + timedelta(days=i)) for i, w in enumerate(words)]
    docs.append(RelatedDoc(slug="empty", title="", summary="", text="", topic="", tags=(), authors=(), date=BASE))
    relations = relate(docs, count=5)
    check_lists(relations, docs, 5)
    # with nothing else to go on, the nearest in time come first
    assert relations.lists["lonely-5"][:2] in (("lonely-4", "lonely-6"), ("lonely-6", "lonely-4"))


def test_fallback_prefers_the_same_topic() -> None:
    docs = [RelatedDoc(slug=f"note-{i}", title=f"word{i}", summary="", text="", topic="peace" if i % 2 else "arts",
                       tags=(), authors=(), date=BASE + timedelta(days=i)) for i in range(12)]
    relations = relate(docs, count=3)
    check_lists(relations, docs, 3)
    for d in docs:
        assert all(int(s.split("-")[1]) % 2 == int(d.slug.split("-")[1]) % 2 for s in relations.lists[d.slug])


def test_small_corpora_give_every_other_article() -> None:
    docs = corpus()[:3]
    relations = relate(docs, count=5)
    check_lists(relations, docs, 5)
    assert relate(docs[:1], count=5).lists == {docs[0].slug: ()}
    assert relate([], count=5).lists == {}
    assert all(items == () for items in relate(docs, count=0).lists.values())


def test_shuffled_input_gives_identical_lists_and_explanations() -> None:
    docs = corpus()
    expected = relate(docs, count=5)
    for seed in range(3):
        shuffled = docs[:]
        random.Random(seed).shuffle(shuffled)
        again = relate(shuffled, count=5)
        assert again.lists == expected.lists
        assert all(again.explain(s) == expected.explain(s) for s in expected.lists)


def test_warm_and_cold_analyses_give_identical_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = corpus()
    cache: dict[str, object] = {}
    cold = relate(docs, count=5, analyses=cache)
    assert set(cache) == {analysis_key(d) for d in docs}
    restored = pickle.loads(pickle.dumps(cache))  # the cache must survive a trip to disk

    calls: list[str] = []
    real = Analyzer.analyze

    def counting(self: Analyzer, d: RelatedDoc) -> dict[str, object]:
        calls.append(d.slug)
        return real(self, d)

    monkeypatch.setattr(Analyzer, "analyze", counting)
    warm = relate(docs, count=5, analyses=restored)
    assert calls == []
    assert warm.lists == cold.lists
    assert [warm.explain(s) for s in warm.lists] == [cold.explain(s) for s in cold.lists]

    # one edited article is the only one analysed again
    edited = [replace(d, text=d.text + " Drilling resumed today.") if d.slug == "wells-repair" else d for d in docs]
    relate(edited, count=5, analyses=restored)
    assert calls == ["wells-repair"]
    assert cold.lists == relate(docs, count=5).lists


def test_analysis_key_depends_on_the_analysed_fields_only() -> None:
    d = doc("wells-north")
    assert analysis_key(d) == analysis_key(replace(d, tags=("water",), topic="x", pins=("a",)))
    assert analysis_key(d) != analysis_key(replace(d, title=d.title + "!"))
    assert analysis_key(d) != analysis_key(replace(d, summary="other"))
    assert analysis_key(d) != analysis_key(replace(d, text=d.text + "."))
    # a caller-supplied source digest stands in for the fields (the build passes text="" then)
    keyed = replace(d, key="digest-1")
    assert analysis_key(keyed) == analysis_key(replace(keyed, text="", title="other"))
    assert analysis_key(keyed) != analysis_key(replace(keyed, key="digest-2"))


def test_a_republished_story_appears_at_most_once_in_any_list() -> None:
    docs = corpus()
    original = doc("wells-drought")
    copy = replace(original, slug="wells-drought-reprint", title=original.title + " (reprint)",
                   date=original.date + timedelta(days=3))
    docs.append(copy)
    relations = relate(docs, count=5)
    check_lists(relations, docs, 5)
    twins = {"wells-drought", "wells-drought-reprint"}
    for slug, items in relations.lists.items():
        assert len(twins & set(items)) <= 1, (slug, items)
    # the other wells stories still list one version of it among their first items
    assert twins & set(relations.lists["wells-north"][:2])


def test_explain_matches_the_lists() -> None:
    docs = [replace(d, topic="development" if GROUPS[d.slug] == "wells" else "culture",
                    tags=("water", "villages") if GROUPS[d.slug] == "wells" else ("news",),
                    authors=("amina",) if d.slug.startswith("wells") else ("ben",))
            for d in corpus()]
    weights = RelatedWeights()
    relations = relate(docs, count=4, weights=weights)
    for slug, items in relations.lists.items():
        explained = relations.explain(slug)
        assert tuple(e.slug for e in explained) == items
        for e in explained:
            assert isinstance(e, Explanation)
            assert set(e.parts) == {"text", "tags", "topic", "author", "recency"}
            assert e.score == pytest.approx(sum(e.parts.values()))
            assert e.days_apart >= 0 and not e.pinned
        scores = [e.score for e in explained]
        assert scores == sorted(scores, reverse=True)
    first = relations.explain("wells-north")[0]
    assert GROUPS[first.slug] == "wells"
    assert first.parts["text"] > 0.1
    assert first.parts["topic"] == pytest.approx(weights.topic) and first.same_topic
    assert first.parts["author"] == pytest.approx(weights.author) and first.same_author
    assert set(first.shared_tags) == {"water", "villages"}
    assert first.parts["tags"] == pytest.approx(weights.tags, rel=1e-4)  # identical tag sets
    assert 0 < first.parts["recency"] <= weights.recency
    # shared terms are readable words, not stems ("villages", not "villag")
    assert {"wells", "water"} & set(first.shared_terms)
    assert all(t.isalpha() for t in first.shared_terms)
    assert "villag" not in first.shared_terms
    with pytest.raises(KeyError):
        relations.explain("no-such-article")


def test_rare_shared_tags_count_more_than_common_ones() -> None:
    def tagged(slug: str, *tags: str) -> RelatedDoc:
        return RelatedDoc(slug=slug, title="", summary="", text="", topic="", tags=tags, authors=(), date=BASE)

    docs = [tagged("query", "common", "rare"), tagged("c-shares-common", "common", "x1"),
            tagged("r-shares-rare", "rare", "x2")]
    docs += [tagged(f"filler-{i}", "common", f"y{i}") for i in range(8)]
    relations = relate(docs, count=2, weights=RelatedWeights(text=1.0, tags=1.0, topic=0, author=0, recency=0))
    # both share one tag with the query; only rarity separates them (slug order would not)
    assert relations.lists["query"] == ("r-shares-rare", "c-shares-common")


def test_tags_too_common_to_search_by_still_count_in_the_score(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "TAG_MAX_POSTINGS", 2)
    docs = [RelatedDoc(slug=f"d{i}", title="", summary="", text="", topic="",
                       tags=("broad", "rare") if i < 2 else ("broad",), authors=(), date=BASE + timedelta(days=i))
            for i in range(6)]
    relations = relate(docs, count=3, weights=RelatedWeights(text=1.0, tags=1.0, topic=0, author=0, recency=0))
    first, *rest = relations.explain("d0")
    assert (first.slug, first.shared_tags) == ("d1", ("rare", "broad"))
    assert first.parts["tags"] == pytest.approx(1.0, rel=1e-4)
    assert all(e.shared_tags == ("broad",) and e.parts["tags"] > 0 for e in rest)


def test_fallback_reaches_same_topic_articles_far_away_in_time() -> None:
    docs = [RelatedDoc(slug=f"arts-{i:02d}", title="", summary="", text="", topic="arts", tags=(), authors=(),
                       date=BASE + timedelta(days=1000 - i)) for i in range(40)]
    docs += [RelatedDoc(slug=name, title="", summary="", text="", topic="peace", tags=(), authors=(),
                        date=BASE + timedelta(days=day)) for name, day in (("peace-early", 0), ("peace-late", 1000))]
    relations = relate(docs, count=3)
    assert relations.lists["peace-late"][0] == "peace-early"
    assert relations.lists["peace-early"][0] == "peace-late"


def test_recency_prefers_articles_close_in_time() -> None:
    docs = [RelatedDoc(slug=f"d{i}", title="ceasefire talks", summary="", text="ceasefire talks monitors",
                       topic="", tags=(), authors=(), date=BASE + timedelta(days=100 * i)) for i in range(6)]
    relations = relate(docs, count=2, weights=RelatedWeights(recency=0.5, recency_half_life_days=100))
    assert relations.lists["d0"] == ("d1", "d2")
    assert set(relations.lists["d3"]) == {"d2", "d4"}


def test_duplicate_slugs_are_refused() -> None:
    with pytest.raises(ValueError, match="wells-north"):
        relate([doc("wells-north"), doc("wells-north", day=2)])


def test_languages_stemming_and_unknown_languages() -> None:
    assert snowball_name("en") == "english"
    assert snowball_name("pt-BR") == "portuguese"
    assert snowball_name("fr_CA") == "french"
    assert snowball_name("xx") == ""
    french = [
        RelatedDoc("puits-1", "Nouveaux puits au village", "", "Les villageois ont creusé des puits profonds "
                   "pour l'eau potable.", "", (), (), BASE),
        RelatedDoc("puits-2", "Le puits du village est réparé", "", "Un comité répare les pompes des puits "
                   "et l'eau revient au village.", "", (), (), BASE),
        RelatedDoc("festival-1", "Le festival de musique commence", "", "Des orchestres jouent sur la scène "
                   "du port pendant le festival.", "", (), (), BASE),
        RelatedDoc("festival-2", "Musiques et danses au festival", "", "La foule danse devant la scène; les "
                   "orchestres du festival jouent toute la nuit.", "", (), (), BASE),
    ]
    for language in ("fr", "xx"):
        relations = relate(french, count=1, language=language, weights=TEXT_ONLY)
        assert relations.lists["puits-1"] == ("puits-2",)
        assert relations.lists["festival-2"] == ("festival-1",)


def test_changed_lists_names_exactly_the_lists_that_differ() -> None:
    from builder.related import changed_lists

    before = {"a": ("b", "c"), "b": ("a", "c"), "c": ("a", "b")}
    after = {"a": ("b", "c"), "b": ("c", "a"), "d": ("a", "b")}
    assert changed_lists(before, after) == {"b", "c", "d"}
    assert changed_lists(before, before) == set()


def test_near_copies_are_pairs_not_chains() -> None:
    """A~B and B~C (but not A~C): a list may hold A and C together, never A and B."""
    import numpy as np

    from builder.related.assemble import _Row

    copies = {0: frozenset({1}), 1: frozenset({0, 2}), 2: frozenset({1})}
    parts = np.zeros(5)
    row = _Row(doc=9, count=3, excluded=frozenset())
    row.offer(0, parts, copies)
    row.offer(1, parts, copies)  # a near-copy of 0: skipped
    row.offer(2, parts, copies)  # only a copy of 1, which is not listed: taken
    row.offer(3, parts, copies)
    assert row.items == [0, 2, 3]
    pinned = _Row(doc=9, count=3, excluded=frozenset())
    pinned.offer(0, parts, copies)
    pinned.offer(1, parts, copies, pinned=True)  # an editor's pin is taken as given
    assert pinned.items == [0, 1]


def test_a_doc_survives_its_row_with_the_same_moment() -> None:
    from zoneinfo import ZoneInfo

    doc = RelatedDoc(slug="a", title="A", summary="s", text="", topic="peace", tags=("t",), authors=("x",),
                     date=datetime(2025, 10, 26, 1, 30, 15, 123456, tzinfo=UTC), pins=("b",), excludes=("c",),
                     key="k")
    assert RelatedDoc.from_row(pickle.loads(pickle.dumps(doc.as_row()))) == doc
    # a moment in Berlin's repeated hour: the zone is not kept (rows pickle as plain values), the moment is
    berlin = replace(doc, date=datetime(2025, 10, 26, 2, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"), fold=1))
    assert b"zoneinfo" not in pickle.dumps(berlin.as_row())
    assert RelatedDoc.from_row(berlin.as_row()).date.timestamp() == berlin.date.timestamp()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(["peace-building", "coast's", "l'eau", "U.N.", "snake_case",
                                                                 "x²", "٣٤", "naïve", "\u00a0", " ", "\n", "—", "(talks)",
                                                                 "“peace”", "end.", "_x_", "-x-", "*", "…", "x/y", "’s", "²."])),
                max_size=30).map("".join))
def test_word_counts_match_the_expression_over_the_whole_text(text: str) -> None:
    from collections import Counter

    from builder.related.analyze import _WORD, _word_counts

    assert _word_counts(text) == Counter(_WORD.findall(text))


def test_reading_analyses_and_analysing_an_article_need_no_numpy(tmp_path: pathlib.Path) -> None:
    """An edit rebuild reads the cached analyses and analyses the edited article before anything
    else needs NumPy (importing it cost 0.03 s of the wait before the related helper could start)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import pickle, sys
        from datetime import datetime, UTC
        from builder.related import RelatedDoc, analyzer
        doc = RelatedDoc(slug="s", title="Peace talks", summary="Water", text="The committee met.", topic="",
                         tags=(), authors=(), date=datetime.now(UTC))
        analysis = analyzer("en")(doc)
        pickle.loads(pickle.dumps(analysis))
        assert "numpy" not in sys.modules, "NumPy was imported"
        import numpy
        counts = numpy.frombuffer(analysis["counts"], dtype="<u2").reshape(-1, 3)
        assert dict(zip(analysis["terms"], counts.tolist()))["peac"] == [1, 0, 0]
    """)
    result = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_counts_beyond_what_two_bytes_hold_are_clipped() -> None:
    import array
    import sys

    from builder.related.analyze import Analyzer

    d = replace(doc("wells-north"), title="Wells", summary="Wells and pumps", text="wells " * 70_000 + "pumps")
    analysis = Analyzer("en").analyze(d)
    counts = array.array("H", analysis["counts"])  # per term: title, summary, text, little-endian
    if sys.byteorder == "big":
        counts.byteswap()
    rows = dict(zip(analysis["terms"], zip(counts[0::3], counts[1::3], counts[2::3])))
    assert rows["well"] == (1, 1, 65_535) and rows["pump"] == (0, 1, 1)
    assert analysis["surface"] == ("pumps", "wells")


_IMPORT_SPARSE = """
import sys
from builder.related.numeric import import_sparse
import_sparse()
import numpy
import scipy.sparse as sp
unused = sorted(name for name in ("f2py", "testing", "ma", "polynomial") if f"numpy.{name}" in sys.modules)
product = (sp.csr_matrix(numpy.eye(3)) @ sp.csr_matrix(numpy.eye(3))).nnz
print(unused, "polynomial" in numpy.__all__, "f2py" in dir(numpy), product, numpy.polynomial.Polynomial([1, 2])(2))
"""


def test_the_engine_loads_scipy_without_numpys_unused_submodules_which_still_load_when_used() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _IMPORT_SPARSE], capture_output=True, text=True, check=True)
    # none imported; NumPy's listing as it was; sparse products work; numpy.polynomial loads when used
    assert done.stdout.split() == ["[]", "True", "True", "3", "5.0"]
