"""Markdown rendering: extensions, heading levels, link resolution, plain text."""

import markdown
import pytest

from builder.content.markup import REF_SCHEME, MarkdownRenderer, plain_text


def test_extensions_and_typography() -> None:
    out = MarkdownRenderer().render(
        'It\'s "quoted".\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nNote[^1].\n\n[^1]: The note.\n\n'
        '*[UN]: United Nations\n\nThe UN met.\n\n```\ncode\n```\n', "")
    assert "It’s “quoted”." in out.html
    assert "<table>" in out.html
    assert 'class="footnote"' in out.html
    assert '<abbr title="United Nations">UN</abbr>' in out.html
    assert "<pre><code>code" in out.html


def test_instances_are_made_without_searching_installed_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Extensions named by string are looked up among every installed package's entry points
    # (0.02 s): a one-article rebuild paid it once for its one Markdown instance.
    def searched() -> None:
        raise AssertionError("Python-Markdown looked up an extension by name")

    monkeypatch.setattr(markdown.util, "get_installed_extensions", searched)
    for body in ("plain words", "| a |\n|---|\n| b |\n\n[^1]\n\n[^1]: note", "*x* `y` <b>z</b> [TOC]\n\n## H"):
        assert MarkdownRenderer().render(body, "").html


def test_headings_start_at_h2_whatever_the_author_used() -> None:
    renderer = MarkdownRenderer()
    assert "<h2" in renderer.render("# Top\n\n## Sub", "").html
    assert "<h1" not in renderer.render("# Top\n\n## Sub", "").html
    out = renderer.render("## Top\n\n### Sub", "")
    assert [(h.level, h.anchor) for h in out.headings] == [(2, "top"), (3, "sub")]


def test_instance_is_reset_between_documents() -> None:
    renderer = MarkdownRenderer()
    renderer.render("Text[^1]\n\n[^1]: first note", "")
    second = renderer.render("## Only heading", "")
    assert "first note" not in second.html
    assert [h.text for h in second.headings] == ["Only heading"]


def test_relative_links_and_images_resolve_against_the_article_folder() -> None:
    out = MarkdownRenderer(asset_prefix="/news/").render(
        "[other](../culture/other.md#part) ![map](map.svg) [ext](https://x.org) [abs](/a/)", "peace")
    assert f'href="{REF_SCHEME}culture/other.md#part"' in out.html
    assert 'src="/news/peace/map.svg"' in out.html and 'loading="lazy"' in out.html
    assert 'href="https://x.org"' in out.html and 'href="/a/"' in out.html
    assert out.links == ("culture/other.md", "peace/map.svg")


def test_lone_titled_image_becomes_a_figure() -> None:
    out = MarkdownRenderer().render('![A dove](dove.svg "Drawn by our desk")', "")
    assert "<figure>" in out.html and "<figcaption>Drawn by our desk</figcaption>" in out.html


def test_plain_text_and_first_paragraph() -> None:
    out = MarkdownRenderer().render("First *one*, with &amp; sign.\n\nSecond.", "")
    assert out.first_paragraph == "First one, with & sign."
    assert out.text.split() == ["First", "one,", "with", "&", "sign.", "Second."]  # words, as readers split them
    assert plain_text("<p>a</p><p>b<br>c</p>") == "a b c"
    # every kind of space collapses to one, entities included; stash markers vanish
    assert plain_text(" <p>a\u00a0\u2003 b</p>\n\t<p>&nbsp;c&#x3000;d\x02e\x03</p> ") == "a b c de"


def test_smart_typography_skips_code_and_attributes() -> None:
    from builder.content.typography import smarten

    assert smarten('<p>It\'s "quoted" -- and --- ...</p>') == "<p>It’s “quoted” – and — …</p>"
    assert smarten('<p>"<em>Emphasised</em>," she said.</p>') == "<p>“<em>Emphasised</em>,” she said.</p>"
    assert smarten('<pre><code>x = "a" -- b</code></pre>') == '<pre><code>x = "a" -- b</code></pre>'
    assert smarten('<a href="a--b" title="it\'s">it\'s</a>') == '<a href="a--b" title="it\'s">it’s</a>'
    assert smarten("<p>the '90s ('x')</p>") == "<p>the ’90s (‘x’)</p>"


# --- Inline patterns are left out only where they cannot match --------------------------------

import os  # noqa: E402

import markdown.extensions.toc  # noqa: E402
from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from builder.content import markup, quicker  # noqa: E402


def _with_every_pattern(body: str, links: list[str] | None = None) -> str:
    """What one Python-Markdown instance with all its inline patterns and processors makes of
    `body`; LINKS, if given, receives the link targets found."""
    md = markdown.Markdown(extensions=[*markup.EXTENSIONS, markup._LinkExtension()],
                           extension_configs=markup.EXTENSION_CONFIGS, output_format="html")
    md.treeprocessors["builder_links"].folder = "news"
    md.treeprocessors["builder_links"].found = []
    html = md.convert(body)
    if links is not None:
        links.extend(dict.fromkeys(md.treeprocessors["builder_links"].found))
    return html


def _html_of(renderer: MarkdownRenderer, body: str) -> str:
    return renderer.render(body, "news").html


ONE_CONSTRUCT_EACH = [
    "A `code span` here.", "An escaped \\*star\\*.", "Noted[^1].\n\n[^1]: The note.", "A [link](other.md).",
    "See [the report][r].\n\n[r]: https://example.org", "An ![image](dove.svg) inline.",
    "![dove][d]\n\n[d]: dove.svg", "Short [r].\n\n[r]: https://example.org", "Short image ![d].\n\n[d]: d.svg",
    "Mail <desk@example.org> or <https://example.org>.", "Line one  \nline two.", "Tabbed\t\nbreak.",
    "Raw <b>bold</b> and <!-- a comment -->.", "Fish &amp; chips", "Copyright &#169; 2026", "&copy; desk",
    "Fish &#38 chips", "A &#x26 B",
    "An *emphasis* and **strong**.",
    "An _emphasis_ and __strong__.", "Plain words with nothing special at all.",
    "Ceasefire\n: An agreement to stop fighting.", "| a | b |\n|---|---|\n| 1 | 2 |", "a|b\n-|-\n1|2",
    "## Talks {: #talks .big }", "## Talks {#talks}",
    "```python\nprint('x')\n```", "~~~\ncode\n~~~", "*[UN]: United Nations\n\nThe UN met.",
    '<div markdown="1">*inside*</div>', '<section markdown="1">*inside*</section>',
    "*[NGO]: Non-governmental organisation\n\nAn NGO.", "Text.\n\n///Footnotes Go Here///\n\nMore[^1].\n\n[^1]: Note.",
    "[TOC]\n\n## One\n\n### Two &amp; three\n\n## One", "## One\n\n## One\n\nNo marker.",
    "[r]: https://example.org\n\nDefined first: [r] and [the report][r].", "Short [r] here.\n\n[r]:https://example.org",
    "Ceasefire\n:\tTabbed definition.",
    "A colon: then words, and [brackets] with no definition.", "> Quoted\n> # heading\n\nAfter.",
]


@pytest.mark.parametrize("body", ONE_CONSTRUCT_EACH)
def test_leaving_out_absent_inline_patterns_changes_nothing(body: str) -> None:
    renderer = MarkdownRenderer()
    assert _html_of(renderer, body) == markup.smarten(_with_every_pattern(body))


_PIECES = st.sampled_from([
    "word", " ", "  ", "\t", "\n", "\n\n", "*", "**", "_", "__", "`", "\\", "[", "]", "(", ")", "![", "[^1]",
    "\n\n[^1]: a note", "\n\n[r]: https://example.org", "[r]", "<", ">", "<b>", "</b>", "&", "&amp;", "&#169;", "&copy", ";",
    "https://example.org", "a@example.org", "\n- ", "\n1. ", "\n> ", "\n# ", "|", "{: .c}", "\n*[UN]: United",
    "UN", "\n```\n", "\n~~~\n", ":", "\n: ", "\"", "'", "--", "...", "{", "}", "{: #x }", '<div markdown="1">',
    "</div>", "\n|---|---|\n", "///Footnotes Go Here///", "[TOC]", "\n\n## Talks\n\n", "\n### Talks *again*\n",
    "\x02", "\x0292\x03", "\\*", "<https://example.org/a>", "<other.md>", "]:", "[r]:", ": ", ":\t", "#", ">",
    "\n:\t", "\n==\n", "\n--\n", "\n- - -\n", "\n* * *", "___", "\n  ---", "-", "=", "\n=", "\r", "\r\n", "\x03",
])


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")), deadline=None)
@given(st.lists(_PIECES, max_size=40).map("".join))
@example("word \x02 \n```\n")  # Python-Markdown drops STX first: two spaces, a line break (found by this test)
@example("a\x03\x02*b*")
@example("\t\x02")  # not blank to Python-Markdown, though blank without STX: an empty code block
@example("\n==\n ")  # a last line of spaces: emptied by Python-Markdown's whitespace normaliser
@example("Ceasefire\r\n==")  # CR LF line ends
@example("Fish &#38 chips, &#x26 more")  # references without ';': the raw HTML parser completes them
@example("&#\x0292\x03")  # (the same, once STX and ETX are stripped; found by this test)
@example("[ the report](https://example.org), ![ a map](map.png), [*the* talks][r]\n\n[r]: https://example.org")
def test_leaving_out_absent_inline_patterns_changes_nothing_for_any_body(body: str) -> None:
    links: list[str] = []
    out = MarkdownRenderer().render(body, "news")
    assert out.html == markup.smarten(_with_every_pattern(body, links))
    assert list(out.links) == links


_HEADING_PIECES = st.sampled_from([
    "\n\n## ", "\n\n# ", "\n\n#### ", "\n\n###### ", "\nTalks\n==\n", "Talks", "talks", "Peace  talks", " ", "*a*",
    "**b**", "&amp;", "&", "<b>x</b>", "<!-- c -->", "\\*", "`code`", "[link](a.md)", "[^1]", "\n\n[^1]: A note.\n\n",
    " {: #talks }", " {#x}", ' {: data-toc-label="Short *label*" }', "\n\n[TOC]\n\n", "_1", "é", "\x02", "\"q\"",
])


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 2, deadline=None)
@given(st.lists(_HEADING_PIECES, max_size=25).map("".join))
@example("## Talks\n\n## Talks {: #talks_1 }\n\n## Talks")  # an id the attribute list took first
@example('## Talks {: data-toc-label="Short" }\n\n[TOC]')
def test_heading_ids_and_tokens_are_the_toc_extensions(body: str) -> None:
    """_HeadingIds makes the toc extension's ids, tokens and table of contents by other means."""
    config = {**markup.EXTENSION_CONFIGS["toc"], "marker": "[TOC]"}
    stock = markdown.Markdown(extensions=["extra", markdown.extensions.toc.TocExtension(**config)])
    ours = markdown.Markdown(extensions=["extra", quicker.QuickerToc(**config)])
    assert ours.convert(body) == stock.convert(body)
    assert (ours.toc_tokens, ours.toc) == (stock.toc_tokens, stock.toc)


def test_a_link_urllib_refuses_is_left_as_written() -> None:
    out = MarkdownRenderer().render("See [the report][r].\n\n[r]: https://example.org[", "news")
    assert '<a href="https://example.org[">the report</a>' in out.html


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")), deadline=None)
@given(st.text(st.sampled_from("aZ9+-.:/#?[]@ \t\n\x00é"), max_size=12))
@example("http://e.org")
@example("a+b.c-d:x")
@example("\thttp:x")
@example("h\ttp:x")
@example("9a:b")  # (no scheme to urlsplit: it must start with a letter)
def test_links_left_alone_by_their_scheme_are_those_urlsplit_finds_a_scheme_in(url: str) -> None:
    """The link rewriter leaves a URL that starts with a scheme without splitting it: only where
    splitting it would find one (or refuse it), so such links were left alone before too."""
    if markup._SCHEME.match(url):
        parts = markup.split_url(url)
        assert parts is None or parts.scheme


def test_a_renderer_keeps_one_instance_per_set_of_absent_patterns() -> None:
    renderer = MarkdownRenderer()
    first = _html_of(renderer, "Text[^1].\n\n[^1]: A note.")
    _html_of(renderer, "Plain text.")
    assert _html_of(renderer, "Text[^1].\n\n[^1]: A note.") == first  # reused instance reset, same output


def test_a_table_of_contents_only_where_the_body_asks_for_one() -> None:
    renderer = MarkdownRenderer()
    asked = renderer.render("[TOC]\n\n## Talks\n\n## Talks", "news")
    assert '<div class="toc">' in asked.html and 'href="#talks_1"' in asked.html
    plain = renderer.render("## Talks\n\n## Talks", "news")
    assert '<div class="toc">' not in plain.html and 'id="talks_1"' in plain.html
    assert [(h.level, h.anchor, h.text) for h in plain.headings] == [(2, "talks", "Talks"), (2, "talks_1", "Talks")]


def test_quicker_processors_keep_python_markdowns_order() -> None:
    """The '#', '>', underline, rule and definition-list processors and the whitespace normaliser are replaced by
    subclasses asking for their characters first, the link patterns by the same classes with the quicker link-start
    expression; they must sit where Python-Markdown's own do, or run in another order."""
    stock, quick = markdown.Markdown(extensions=["def_list"]), markdown.Markdown(
        extensions=["def_list", quicker.QuickerProcessors()])
    assert [type(p).__name__.lstrip("_") for p in quick.parser.blockprocessors] == [
        {"HashHeaderProcessor": "HashHeaders", "BlockQuoteProcessor": "Quotes", "SetextHeaderProcessor": "SetextHeaders",
         "HRProcessor": "Rules", "DefListProcessor": "DefinitionLists"}.get(type(p).__name__, type(p).__name__)
        for p in stock.parser.blockprocessors]
    assert "DefinitionLists" in [type(p).__name__.lstrip("_") for p in quick.parser.blockprocessors]
    assert [type(p).__name__ for p in quick.preprocessors] == [
        {"NormalizeWhitespace": "_Whitespace"}.get(type(p).__name__, type(p).__name__) for p in stock.preprocessors]
    ours_inline = [(type(p).__name__, p.pattern) for p in quick.inlinePatterns]
    assert ours_inline == [({"DelimiterProcessor": "_Emphasis", "LinkInlineProcessor": "_Links",
                             "ImageInlineProcessor": "_Images"}.get(type(p).__name__, type(p).__name__),
                            quicker._QUICK_LINK_START if p.pattern == quicker._LINK_START else p.pattern)
                           for p in stock.inlinePatterns]
    assert sum(pattern == quicker._QUICK_LINK_START for _name, pattern in ours_inline) == 3  # reference, link, short
    assert [type(p).__name__ for p in quick.treeprocessors] == [
        {"InlineProcessor": "QuickerInline"}.get(type(p).__name__, type(p).__name__) for p in stock.treeprocessors]


_EMPHASIS_PIECES = st.sampled_from([
    "*", "**", "***", "****", "_", "__", "word", "a b", " ", "  ", "\t", "\u00a0", "\n", "\n\n", ".", ",", "(", ")",
    "[x](y)", "`", "\\", "<b>", "</b>", "\x02", "\n- ", "# ", "&amp;", '"', "a_", "_b", "a*",
])


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 5, deadline=None)
@given(st.lists(_EMPHASIS_PIECES, max_size=30).map("".join))
@example("*a* **b** *c**d* **e*")
@example("**a*b*c**")  # runs between the stars: the general algorithm's
@example("*a_b* *c *d* e*")
@example("*a _b_ c*")  # an underscore span inside: the general algorithm's
@example("a**b* (*c*) x*y*")  # opening runs after a word or a star
def test_quicker_emphasis_makes_what_python_markdown_makes(body: str) -> None:
    """The spans _Emphasis makes itself must come out as Python-Markdown's pairing algorithm makes
    them, and everything else must still reach that algorithm."""
    quick, stock = markdown.Markdown(extensions=[quicker.QuickerProcessors()]), markdown.Markdown()
    assert type(quick.inlinePatterns["em_strong"]) is quicker._Emphasis and quick.delimiters is quick.inlinePatterns[
        "em_strong"]
    expected = stock.convert(body)
    assert quick.convert(body) == expected
    assert quick.convert(body) == expected  # (instances are reused: nothing may linger from the last body)


_LINK_PIECES = st.sampled_from([
    "[", "]", "![", "](", "(", ")", "<", ">", "(<", ">)", '"', "'", " ", "  ", "\n", "\t", "\\", "\\)", "\\]", "a",
    "b c", "http://e.org/x?y=1&z=2", "p.md#f", "*", "`", "&amp;", "\x02", "\n\n", "[a](b)", "![i](j.png)", '"t"', "'t'",
    " 't')", ' "t")', "(x)",
])


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 5, deadline=None)
@given(st.lists(_LINK_PIECES, max_size=30).map("".join))
@example('[a](b "t") [c](d) ![e](f) [g[h]](i) [j](k(l)) [m](<n o>) [p](q\'r) [s]( t ) [w](x \'y\') [u](v')
@example("[a]( <b> c) [d](e\\) f) [`g]`](h) [i](j \"k) l\")")  # an unclosed title: Python-Markdown backtracks
def test_quicker_links_read_what_python_markdown_reads(body: str) -> None:
    """_Links and _Images take the commonest texts and destinations without Python-Markdown's
    character loops: the same links and images for any body, and everything else still theirs."""
    quick, stock = markdown.Markdown(extensions=[quicker.QuickerProcessors()]), markdown.Markdown()
    assert type(quick.inlinePatterns["link"]) is quicker._Links
    assert type(quick.inlinePatterns["image_link"]) is quicker._Images
    expected = stock.convert(body)
    assert quick.convert(body) == expected
    assert quick.reset().convert(body) == expected


def test_quicker_links_read_the_common_links_themselves(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []  # Python-Markdown's own loops, as _Links and _Images called them
    for name in ("getText", "getLink"):
        general = getattr(markdown.inlinepatterns.LinkInlineProcessor, name)
        monkeypatch.setattr(markdown.inlinepatterns.LinkInlineProcessor, name,
                            lambda self, data, index, name=name, general=general: (
                                isinstance(self, quicker._Links) and calls.append(name)) or general(self, data, index))
    md = markdown.Markdown(extensions=[quicker.QuickerProcessors()])
    assert md.convert("A [link](https://e.org/a?b=1) and ![an image]( c.png ).") == (
        '<p>A <a href="https://e.org/a?b=1">link</a> and <img alt="an image" src="c.png" />.</p>')
    assert calls == []
    assert md.convert('[a [b]](c "d")') == '<p><a href="c" title="d">a [b]</a></p>'
    assert calls == ["getText", "getLink"]  # (a nested bracket and a title: Python-Markdown's loops)


_RULE_PIECES = st.sampled_from(["-", "*", "_", "---", "* * *", "_ _ _", " ", "  ", "    ", "\t", "\n", "\n\n", "a",
                                "- a", "* b", "1. c", "> ", "#", "=", "**d**", "\\"])


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 5, deadline=None)
@given(st.lists(_RULE_PIECES, max_size=25).map("".join))
@example("a\n***\nb\n\n- - -\n\n  _ _ _  \n\n* * * x\n\n--\n\n**a** *b*\n\n\t---")
def test_quicker_rules_are_found_where_python_markdown_finds_them(body: str) -> None:
    quick, stock = markdown.Markdown(extensions=[quicker.QuickerProcessors()]), markdown.Markdown()
    assert type(quick.parser.blockprocessors["hr"]) is quicker._Rules
    assert quick.convert(body) == stock.convert(body)


def test_block_level_tags_are_python_markdowns() -> None:
    md = markdown.Markdown(extensions=[*markup.EXTENSIONS], extension_configs=markup.EXTENSION_CONFIGS)
    quick = quicker.BlockLevel(md.block_level_elements)
    tags = [*md.block_level_elements, *(t.upper() for t in md.block_level_elements), "p/", "DIV/", "em", "a", "span",
            "", "/", "pre ", None, 3, markup.etree.Comment]
    assert [quick(tag) for tag in tags] == [md.is_block_level(tag) for tag in tags]
    assert [quick(tag) for tag in tags] == [md.is_block_level(tag) for tag in tags]  # (now remembered)
    assert quick("p/") and quick("Table") and not quick("strong")
    for number in range(1000):  # (raw HTML read as Markdown can hold any tag)
        assert quick(f"x-{number}") is False
    assert len(quick._known) <= quicker.KNOWN_TAGS


def test_a_frozen_order_is_the_registrys_and_follows_its_changes() -> None:
    registry = markdown.util.Registry()
    for name, priority in (("b", 20), ("a", 30), ("c", 10)):
        registry.register(name.upper(), name, priority)
    frozen = quicker.FrozenOrder(registry)
    assert list(frozen) == list(registry) == ["A", "B", "C"] and len(frozen) == 3
    assert frozen["a"] == "A" and frozen[1] == "B" and "b" in frozen and "z" not in frozen
    frozen.deregister("b")
    frozen.register("D", "d", 40)
    assert list(frozen) == list(registry) == ["D", "A", "C"]
    assert frozen.get_index_for_name("c") == 2  # (anything else is the registry's)


def test_quicker_emphasis_stays_out_where_the_emphasis_is_not_python_markdowns_own() -> None:
    """legacy_em makes '_' emphasis "dumb": _Emphasis, written for the smart one, must leave it alone."""
    md = markdown.Markdown(extensions=["legacy_em", quicker.QuickerProcessors()])
    assert type(md.inlinePatterns["em_strong"]) is markdown.inlinepatterns.DelimiterProcessor
    assert md.delimiters is md.inlinePatterns["em_strong"]
    body = "snake_case_name and *a* _b_"
    assert md.convert(body) == markdown.Markdown(extensions=["legacy_em"]).convert(body)


def test_quicker_emphasis_makes_the_common_spans_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    general = markdown.inlinepatterns.DelimiterProcessor.handleMatch
    monkeypatch.setattr(markdown.inlinepatterns.DelimiterProcessor, "handleMatch",
                        lambda self, m, data: calls.append(data[m.start(0):]) or general(self, m, data))
    md = markdown.Markdown(extensions=[quicker.QuickerProcessors()])
    assert md.convert("An *emphasis*, a **strong** one.") == "<p>An <em>emphasis</em>, a <strong>strong</strong> one.</p>"
    assert calls == []
    assert md.convert("Nested **a *b* c**.") == "<p>Nested <strong>a <em>b</em> c</strong>.</p>"
    assert calls  # (a star run inside: the general algorithm)


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")), deadline=None)
@given(st.lists(st.one_of(_PIECES, st.text(max_size=3)), max_size=30).map("".join))
def test_triggers_are_found_as_plain_substring_tests_find_them(body: str) -> None:
    assert markup._triggers_in(body) == tuple(trigger in body for trigger in markup._ALL_TRIGGERS)


# --- The inline processor ---------------------------------------------------------------------

class _Marked(markdown.inlinepatterns.InlineProcessor):
    """A test pattern for what Python-Markdown's own patterns seldom do: ==text== is a <mark> kept
    out of links, unless it starts with '!' (turned down: the pattern's next match is tried);
    '==-==' makes nothing and is skipped."""

    ANCESTOR_EXCLUDES = ("A",)

    def handleMatch(self, m, data):  # type: ignore[no-untyped-def]
        if m.group(1).startswith("!"):
            return None, None, None
        if m.group(1) == "-":
            return None, m.start(0), m.end(0)
        element = markup.etree.Element("mark")
        element.text = m.group(1)
        return element, m.start(0), m.end(0)


class _MarkedExtension(markdown.extensions.Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.inlinePatterns.register(_Marked(r"==(.+?)==", md), "marked", 65)


_INLINE_PIECE_LIST = [
    "word", " ", "  \n", "\n", "\n\n", "*", "**", "_", "`", "``", "\\", "\\*", "[", "]", "(", ")", "[a](b.md)",
    "[*a*](b)", "[`c`](d)", "![i](j.png)", "[r]", "[x][r]", "\n\n[r]: https://example.org", "<", ">", "<b>", "</b>",
    "<https://example.org>", "<a@example.org>", "&", "&amp;", "&#169;", "==", "==m==", "==!no== ==yes==", "==-==",
    "[==in link==](u)", "*==e==*", "[^1]", "\n\n[^1]: a *note*", "\x02", "\x02klzzwxh:0000\x03", "\x02klzzwxh:12",
    "\n- ", "\n> ", "\n# ", "|", "\n|---|\n", "*[UN]: United", "UN", "{: .c}", ":", "\n: ",
]
_INLINE_PIECES = st.sampled_from(_INLINE_PIECE_LIST)
# Texts of trees handed to the inline step itself hold no placeholder of that step's own form: a
# conversion strips the source's STX and ETX before it, and a text holding the placeholder the
# step then gives its own element (such as "*\x02klzzwxh:0000\x03*") makes Python-Markdown's own
# processor put the element inside itself and loop until memory runs out.
_TREE_PIECES = st.sampled_from([piece for piece in _INLINE_PIECE_LIST if "\x03" not in piece])


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 2, deadline=None)
@given(st.lists(_INLINE_PIECES, max_size=30).map("".join))
@example("[*a* ==b== `c`](u) ==d *e*== ==!f== ==g== tail *h*")
@example("a \x02klzzwxh:0000\x03 b *c*")  # a placeholder the source wrote: not one of the stash's
def test_quicker_inline_processor_makes_python_markdowns_tree(body: str) -> None:
    """QuickerInline takes Python-Markdown's inline steps in the same order: the same HTML for any
    body, with every extension and a pattern that is kept out of links and turns matches down."""
    extensions = ["extra", "toc", "sane_lists", _MarkedExtension()]
    stock = markdown.Markdown(extensions=extensions)
    quick = markdown.Markdown(extensions=extensions)
    quick.treeprocessors.register(quicker.QuickerInline(quick), "inline", 20)
    expected = stock.convert(body)
    assert quick.convert(body) == expected
    assert quick.reset().convert(body) == expected  # (instances are reused)


def test_the_renderer_uses_the_quicker_inline_processor() -> None:
    md, _links = MarkdownRenderer()._instance_for("A *b* [c](d).")
    assert type(md.treeprocessors["inline"]) is quicker.QuickerInline


def test_legacy_patterns_are_left_to_python_markdowns_inline_steps() -> None:
    class Shout(markdown.inlinepatterns.Pattern):  # the old kind: handleMatch(m) only
        def handleMatch(self, m):  # type: ignore[no-untyped-def]
            element = markup.etree.Element("strong")
            element.text = m.group(2).upper()
            return element

    class ShoutExtension(markdown.extensions.Extension):
        def extendMarkdown(self, md: markdown.Markdown) -> None:
            md.inlinePatterns.register(Shout(r"!!(\w+)!!", md), "shout", 5)

    quick = markdown.Markdown(extensions=[ShoutExtension()])
    quick.treeprocessors.register(quicker.QuickerInline(quick), "inline", 20)
    assert quick.convert("say !!peace!! *now*") == "<p>say <strong>PEACE</strong> <em>now</em></p>"


_TAGS = st.sampled_from(["p", "li", "div", "span", "a", "em", "h2"])


def _trees(depth: int = 3) -> st.SearchStrategy[markup.etree.Element]:
    """Element trees as a tree processor may meet them: texts and tails with inline Markdown,
    some atomic (left alone), children nested a few levels."""
    texts = st.one_of(st.none(), st.lists(_TREE_PIECES, max_size=8).map("".join),
                      st.lists(_TREE_PIECES, max_size=4).map(lambda p: markdown.util.AtomicString("".join(p))))

    def build(tag: str, text: str | None, tail: str | None, children: list[markup.etree.Element]
              ) -> markup.etree.Element:
        element = markup.etree.Element(tag)
        element.text, element.tail = text, tail
        element.extend(children)
        return element

    leaf = st.builds(build, _TAGS, texts, texts, st.just([]))
    return st.recursive(leaf, lambda inner: st.builds(build, _TAGS, texts, texts, st.lists(inner, max_size=4)),
                        max_leaves=12)


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")), deadline=None)
@given(st.lists(_trees(), max_size=4))
def test_quicker_inline_processor_treats_any_tree_as_python_markdown_does(children: list[markup.etree.Element]) -> None:
    """Trees Markdown's block parser seldom makes (tails beside block elements, atomic texts, links
    holding further elements) go through the same steps."""
    import copy

    extensions = ["extra", "toc", _MarkedExtension()]
    stock, quick = markdown.Markdown(extensions=extensions), markdown.Markdown(extensions=extensions)
    root = markup.etree.Element("div")
    root.extend(children)
    mine = copy.deepcopy(root)
    quick.treeprocessors.register(quicker.QuickerInline(quick), "inline", 20)  # (patterns read its stash)
    ours = quick.treeprocessors["inline"].run(mine, ["section"])
    theirs = stock.treeprocessors["inline"].run(root, ["section"])
    assert markup.etree.tostring(ours) == markup.etree.tostring(theirs)


# --- The serializer ---------------------------------------------------------------------------

_SERIAL_TAGS = st.sampled_from(["p", "div", "pre", "code", "li", "br", "img", "hr", "script", "style", "Style", "BR", "a",
                                "em", "x-y", "",
                                markup.etree.Comment, markup.etree.ProcessingInstruction, None,
                                markup.etree.QName("q"), markup.etree.QName("{http://example.org/ns}svg")])
_SERIAL_TEXTS = st.one_of(st.none(), st.text(st.sampled_from("a &<>\"'\n;#x1"), max_size=8),
                          st.sampled_from(["&amp;", "&#169;", "&copy;", "&#x1F;", "a & b"]).map(markdown.util.AtomicString))
_SERIAL_ATTRIBUTES = st.dictionaries(
    st.sampled_from(["href", "id", "checked", "hidden", "download", "data-x", markup.etree.QName("k")]),
    st.one_of(st.none(), st.sampled_from(["checked", "hidden", "download", "id", "a&b", "&amp;", 'say "hi"', "<x>", "l\nm", "",
                                          markup.etree.QName("v")])),
    max_size=3)


def _serial_trees() -> st.SearchStrategy[markup.etree.Element]:
    def build(tag: object, attributes: dict[object, object], text: str | None, tail: str | None,
              children: list[markup.etree.Element]) -> markup.etree.Element:
        element = markup.etree.Element(tag)  # type: ignore[arg-type]
        element.attrib.update(attributes)  # type: ignore[arg-type]
        element.text, element.tail = text, tail
        element.extend(children)
        return element

    leaf = st.builds(build, _SERIAL_TAGS, _SERIAL_ATTRIBUTES, _SERIAL_TEXTS, _SERIAL_TEXTS, st.just([]))
    return st.recursive(leaf, lambda inner: st.builds(build, _SERIAL_TAGS, _SERIAL_ATTRIBUTES, _SERIAL_TEXTS,
                                                      _SERIAL_TEXTS, st.lists(inner, max_size=4)), max_leaves=16)


@settings(max_examples=int(os.environ.get("BUILDER_FUZZ_EXAMPLES", "400")) * 2, deadline=None)
@given(_serial_trees())
def test_the_quicker_serializer_writes_what_python_markdowns_writes(root: markup.etree.Element) -> None:
    """Any tree: tags of every kind (comments, processing instructions, none, qualified names, empty
    and raw-text elements), attributes with and without values, texts to escape or not."""
    from builder.content.serialize import to_html_string

    try:
        expected = markdown.serializers.to_html_string(root)
    except (TypeError, ValueError) as exc:  # (mixed key kinds cannot be sorted; a QName needs a tag)
        with pytest.raises(type(exc)):
            to_html_string(root)
        return
    assert to_html_string(root) == expected


def test_markdown_instances_write_html_with_the_quicker_serializer() -> None:
    from builder.content.serialize import to_html_string

    md, _links = MarkdownRenderer()._instance_for("A *b*.")
    assert md.serializer is to_html_string
    xhtml = markdown.Markdown(extensions=[quicker.QuickerProcessors()])  # (another format: Python-Markdown's own)
    assert xhtml.serializer is markdown.serializers.to_xhtml_string


def test_the_quicker_serializer_writes_trees_of_any_depth() -> None:
    from builder.content.serialize import to_html_string

    root = parent = markup.etree.Element("div")
    for depth in range(5000):  # (deeper than Python's recursion limit)
        parent = markup.etree.SubElement(parent, "blockquote" if depth % 2 else "p")
        parent.text, parent.tail = f"{depth} &", "<"
    assert to_html_string(root) == markdown.serializers.to_html_string(root)


def test_the_quicker_serializer_keeps_few_tags_however_many_a_body_holds() -> None:
    from builder.content import serialize

    root = markup.etree.Element("div")
    for number in range(1000):  # (raw HTML read as Markdown can hold any tag)
        markup.etree.SubElement(root, f"x-{number}").text = "a"
    assert serialize.to_html_string(root) == markdown.serializers.to_html_string(root)
    assert len(serialize._TAGS) <= serialize.KNOWN_TAGS
