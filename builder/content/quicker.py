"""Parts of Python-Markdown replaced by quicker ones that make the same output: block tests that
look for their characters before their expressions, expressions that start with a character
instead of a look-behind, the commonest emphasis made without the general pairing algorithm,
heading ids without serializing plain headings, and lookups made once that Python-Markdown makes
by searching or building a list every time. Each is checked against Python-Markdown's own
(tests/test_markup.py); each says what it saves."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from typing import Any

import markdown
from markdown import inlinepatterns, serializers
from markdown.blockprocessors import BlockQuoteProcessor, HashHeaderProcessor, HRProcessor, SetextHeaderProcessor
from markdown.extensions import Extension
from markdown.extensions.def_list import DefListProcessor
from markdown.extensions.toc import (
    TocExtension,
    TocTreeprocessor,
    escape_cdata,
    nest_toc_tokens,
    remove_fnrefs,
    render_inner_html,
    run_postprocessors,
    strip_tags,
    unescape,
    unique,
)
from markdown.preprocessors import NormalizeWhitespace
from markdown.treeprocessors import InlineProcessor

from builder.content.inline import QuickerInline
from builder.content.serialize import KNOWN_TAGS, to_html_string


class _HeadingIds(TocTreeprocessor):
    """The toc extension's heading ids and tokens, made by the same steps with two shortcuts: a
    heading of plain text (no element, nothing the serializer escapes, no placeholder) is its own
    inner HTML and name, where the extension serializes it and strips its tags again (a third of
    its time on the benchmark's articles); and the table of contents itself is made only where the
    body asks for one with the marker '[TOC]'."""

    def run(self, doc: etree.Element) -> None:
        used = {element.attrib["id"] for element in doc.iter() if "id" in element.attrib}
        counters: dict[str, int] = {}
        tokens = []
        for heading in doc.iter():
            if not (isinstance(heading.tag, str) and self.header_rgx.match(heading.tag)):
                continue
            self.set_level(heading)
            inner, name = self._inner_html_and_name(heading)
            if "id" not in heading.attrib:
                heading.attrib["id"] = unique(self.slugify(html.unescape(name), self.sep), used, counters)
            label = ""
            if "data-toc-label" in heading.attrib:
                label = run_postprocessors(unescape(heading.attrib.pop("data-toc-label")), self.md)
                name = escape_cdata(strip_tags(label))
            level = int(heading.tag[-1])
            if self.toc_top <= level <= self.toc_bottom:
                tokens.append({"level": level, "id": unescape(heading.attrib["id"]), "name": name, "html": inner,
                               "data-toc-label": label})
            if self.use_anchors:
                self.add_anchor(heading, heading.attrib["id"])
            if self.use_permalinks not in (False, None):
                self.add_permalink(heading, heading.attrib["id"])
        self.md.toc_tokens = nest_toc_tokens(tokens)
        self.md.toc = ""
        if self.marker:
            contents = self.build_toc_div(self.md.toc_tokens)
            self.replace_marker(doc, contents)
            toc = self.md.serializer(contents)
            for processor in self.md.postprocessors:
                toc = processor.run(toc)
            self.md.toc = toc

    def _inner_html_and_name(self, heading: etree.Element) -> tuple[str, str]:
        text = heading.text
        if len(heading) == 0 and text and not any(char in text for char in "&<>\x02\x03"):
            inner = run_postprocessors(text.strip(), self.md)  # (what serializing gives back)
            if "<" not in inner:
                return inner, " ".join(inner.split())  # (what strip_tags gives back)
        else:
            inner = render_inner_html(remove_fnrefs(heading), self.md)
        return inner, strip_tags(inner)


class QuickerToc(TocExtension):
    """The toc extension with _HeadingIds."""

    TreeProcessorClass = _HeadingIds


class _HashHeaders(HashHeaderProcessor):
    """Python-Markdown's '#' headings, asking its expression only about blocks with a '#': it tries
    `(?:^|\n)` at every position of every block (about 2 % of a build's CPU, for a few headings)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return "#" in block and super().test(parent, block)


class _Quotes(BlockQuoteProcessor):
    """Python-Markdown's '>' block quotes, asking its expression only about blocks with a '>'."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return ">" in block and super().test(parent, block)


class _SetextHeaders(SetextHeaderProcessor):
    """Python-Markdown's underlined headings, asking its expression only about blocks whose second
    line starts with '=' or '-': its lazy `^.*?\n` tries every character of the first line."""

    def test(self, parent: etree.Element, block: str) -> bool:
        newline = block.find("\n")
        return newline >= 0 and block[newline + 1:newline + 2] in ("=", "-") and super().test(parent, block)


class _Rules(HRProcessor):
    """Python-Markdown's horizontal rules, asking its expression only about blocks with a line of
    nothing but '-', '*', '_' and spaces (what a rule is made of): it tries every position of
    every block (3 % of converting one of the benchmark's articles, whose emphasis puts three
    stars in most blocks, which is what this asked before)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        # (strip() stops at the first other character at either end: at once, for a line of words)
        if "\n" in block:
            if all(line.strip(" -*_") for line in block.split("\n")):
                return False
        elif block.strip(" -*_"):
            return False
        found: bool = super().test(parent, block)
        return found


class _DefinitionLists(DefListProcessor):
    """The `def_list` extension's processor, asking its expression only about blocks with ': ' (a
    definition line is a colon and a space after at most three spaces): the expression starts
    with a choice of the text's start or a newline, so it is tried at every position of every
    block of a body that holds a ': ' anywhere, as most news articles do (6 % of converting one
    of the sample portal's articles)."""

    def test(self, parent: etree.Element, block: str) -> bool:
        return ": " in block and super().test(parent, block)


class _Whitespace(NormalizeWhitespace):
    """Python-Markdown's whitespace normaliser, left out where it would change nothing: it removes
    STX/ETX, turns CR into LF and tabs into spaces, and empties lines of spaces, the last with an
    expression tried at every position of the body (4 % of converting a news article). A body
    with none of those gets the same lines without it."""

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines) + "\n\n"  # (as the original ends every body)
        if " \n" in source or any(char in source for char in "\x02\x03\r\t"):
            normalised: list[str] = super().run(lines)
            return normalised
        return source.split("\n")


# Python-Markdown's expression for where a link starts ('[' not after '!') begins with its look-behind,
# so it is tried at every position of every text; written '[' first, it is tried only where a '['
# is: the same matches, 4 % less time converting a news article.
_LINK_START = r"(?<!\!)\["
_QUICK_LINK_START = r"\[(?<!\!\[)"
_LINK_PATTERNS = {"reference": 170, "link": 160, "short_reference": 130}  # Python-Markdown's names, priorities


class _Links(inlinepatterns.LinkInlineProcessor):
    """Python-Markdown's `[text](url)` links, reading the commonest text and destination without
    its character loops: text with no '[' before its first ']', and a destination with no '(' or
    quote before its first ')' (so no nested brackets and no title), for which the loops stop at
    exactly those brackets. Anything else goes to Python-Markdown's own (9 us a link, 3 % of
    converting one of the benchmark's articles)."""

    def getText(self, data: str, index: int) -> tuple[str, int, bool]:
        close = data.find("]", index)
        if close >= 0 and data.find("[", index, close) < 0:
            return data[index:close], close + 1, True
        text: tuple[str, int, bool] = super().getText(data, index)
        return text

    def getLink(self, data: str, index: int) -> tuple[str, str | None, int, bool]:
        opened = self.RE_LINK.match(data, pos=index)
        if opened is not None and not opened.group(1):  # ('(' and spaces, but not "(<url>")
            start = opened.end()
            close = data.find(")", start)
            if close >= 0 and not any(char in data[start:close] for char in "(\"'"):
                return self.unescape(data[start:close]).strip(), None, close + 1, True
        link: tuple[str, str | None, int, bool] = super().getLink(data, index)
        return link


class _Images(_Links, inlinepatterns.ImageInlineProcessor):
    """Python-Markdown's `![alt](src)` images, read as _Links reads links."""


class _Emphasis(inlinepatterns.DelimiterProcessor):
    """Python-Markdown's '*' and '_' emphasis, making the commonest span directly: `*text*` or
    `**text**`, opened by a run of one or two stars before a non-space and closed by a run of as
    many after a non-space, with no '*' or '_' between. Whether the opening run could also close
    (after a word) matters to the general pairing algorithm only for runs of unequal length, so
    for these it makes exactly this element, which the algorithm takes about 8 us a span to make
    (a sixth of converting one of the benchmark's emphasis-heavy articles). Anything else, or a
    call while that algorithm holds runs from an earlier call, goes to it."""

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[etree.Element | None, int | None, int | None]:
        start = m.start(0)
        size = 2 if data.startswith("**", start) else 1
        inner = start + size
        close = data.find("*", inner)
        after = close + size
        if (data[start] == "*" and inner < close and not data[inner].isspace() and not data[close - 1].isspace()
                and data.startswith("*" * size, close) and data[after:after + 1] != "*"
                and "_" not in data[inner:close]
                and not (self.regions or self.stack or any(d.stack for d in self.delimiters.values()))):
            element = etree.Element(self.delimiters["*"].tags[0 if size == 2 else 1])
            element.text = data[inner:close]
            return element, start, after
        general: tuple[etree.Element | None, int | None, int | None] = super().handleMatch(m, data)
        return general


def _quicker_emphasis(md: markdown.Markdown) -> None:
    """Put _Emphasis in place of Python-Markdown's emphasis if that is the one it was written for
    (the delimiter processor with '*' for strong and em and a "smart" '_', as Python-Markdown 3.11
    registers it)."""
    if "em_strong" not in md.inlinePatterns:  # (a Registry, which has no get())
        return
    stock = md.inlinePatterns["em_strong"]
    if type(stock) is not inlinepatterns.DelimiterProcessor:
        return
    quick = _Emphasis("*", "strong,em", md)  # (which makes itself md.delimiters)
    quick.add("_", "strong,em", smart=True)
    described = [(token, d.tags, d.smart, d.double) for token, d in stock.delimiters.items()]
    if described != [(token, d.tags, d.smart, d.double) for token, d in quick.delimiters.items()]:
        md.delimiters = stock
        return
    md.inlinePatterns.register(quick, "em_strong", 60)


class QuickerProcessors(Extension):
    """Python-Markdown's own processors, with quicker tests that find the same things."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # the same names and priorities as Python-Markdown's own (markdown.preprocessors, .blockprocessors,
        # .inlinepatterns)
        md.preprocessors.register(_Whitespace(md), "normalize_whitespace", 30)
        if md.output_formats.get("html") is serializers.to_html_string:  # (Markdown sets its serializer after this)
            md.output_formats = {**md.output_formats, "html": to_html_string}
        for name, priority in _LINK_PATTERNS.items():
            if name not in md.inlinePatterns:  # (a Registry, which has no get())
                continue
            pattern = md.inlinePatterns[name]
            if isinstance(pattern, inlinepatterns.InlineProcessor) and pattern.pattern == _LINK_START:
                kind = _Links if type(pattern) is inlinepatterns.LinkInlineProcessor else type(pattern)
                md.inlinePatterns.register(kind(_QUICK_LINK_START, md), name, priority)
        if "image_link" in md.inlinePatterns and type(md.inlinePatterns["image_link"]) is inlinepatterns.ImageInlineProcessor:
            md.inlinePatterns.register(_Images(md.inlinePatterns["image_link"].pattern, md), "image_link", 150)  # (its own)
        md.parser.blockprocessors.register(_HashHeaders(md.parser), "hashheader", 70)
        md.parser.blockprocessors.register(_SetextHeaders(md.parser), "setextheader", 60)
        md.parser.blockprocessors.register(_Rules(md.parser), "hr", 50)
        md.parser.blockprocessors.register(_Quotes(md.parser), "quote", 20)
        if "deflist" in md.parser.blockprocessors and type(md.parser.blockprocessors["deflist"]) is DefListProcessor:
            md.parser.blockprocessors.register(_DefinitionLists(md.parser), "deflist", 25)  # (def_list's own)
        _quicker_emphasis(md)
        if type(md.treeprocessors["inline"]) is InlineProcessor:
            md.treeprocessors.register(QuickerInline(md), "inline", 20)  # (Python-Markdown's priority)


class BlockLevel:
    """Markdown.is_block_level for an instance whose extensions are all loaded: the same answer,
    with the block-level tag names in a set instead of the list Python-Markdown searches, and each
    tag's answer remembered (tens of calls a body, two or three an element from the line breaks
    put between blocks: half of that step's time)."""

    __slots__ = ("_known", "_names")

    def __init__(self, names: list[str]) -> None:
        self._names = frozenset(names)
        self._known: dict[Any, bool] = {}  # (at most KNOWN_TAGS: raw HTML read as Markdown can hold any tag)

    def __call__(self, tag: Any) -> bool:
        known = self._known.get(tag)
        if known is None:
            known = isinstance(tag, str) and tag.lower().rstrip("/") in self._names
            if len(self._known) < KNOWN_TAGS:
                self._known[tag] = known
        return known



class FrozenOrder:
    """A registry's items in their order, listed once: Python-Markdown's Registry makes a new list
    each time it is iterated, and its block parser iterates the block processors once a block (5 %
    of converting one of the sample portal's articles). Registering or deregistering through it
    lists them again; everything else is asked of the registry itself."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry
        self._items = tuple(registry)

    def __iter__(self) -> Any:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: Any) -> bool:
        return item in self._registry

    def __getitem__(self, key: Any) -> Any:
        return self._registry[key]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._registry, name)

    def register(self, item: Any, name: str, priority: float) -> None:
        self._registry.register(item, name, priority)
        self._items = tuple(self._registry)

    def deregister(self, name: str, strict: bool = True) -> None:
        self._registry.deregister(name, strict)
        self._items = tuple(self._registry)
