"""Python-Markdown's HTML serializer, made by the same steps at less cost.

Its serializer (markdown.serializers.to_html_string) asks each element whether its tag is a
comment, a processing instruction, nothing or a qualified name, lowercases the tag up to three
times, lists and sorts the attributes even where there are none, and calls a function to escape
every text; about 3 us an element, 8 % of converting one of the benchmark's articles. This one
learns each tag's opening, closing and kind once, looks at attributes only where there are some,
escapes only texts holding '&', '<' or '>', and writes each element in one call (a third less
time). An element with another kind of tag, or deeper than _DEEPEST, is written with its children
and tail by Python-Markdown's own steps, so the output is always theirs (tests/test_markup.py
compares the two on any tree).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from collections.abc import Callable
from xml.etree.ElementTree import HTML_EMPTY, QName

from markdown.serializers import BOOLEAN_ATTRIBUTES, _escape_attrib_html, _escape_cdata, _serialize_html

_BOOLEAN = BOOLEAN_ATTRIBUTES["html"]
_DEEPEST = 200  # levels written by this module's calls; deeper ones by Python-Markdown's loop
# tag -> ("<tag", "<tag>", "</tag>" or "" for an empty element, whether its text is written raw):
# what each tag always gives, kept for the few tags a body has (at most KNOWN_TAGS of them, since
# raw HTML read as Markdown can hold any)
_TAGS: dict[str, tuple[str, str, str, bool]] = {}
KNOWN_TAGS = 256  # (also BlockLevel's, builder.content.quicker)


def to_html_string(root: etree.Element) -> str:
    """The same string as markdown.serializers.to_html_string(root)."""
    out: list[str] = []
    _write(out.append, root, 0)
    return "".join(out)


def _write(write: Callable[[str], None], element: etree.Element, depth: int) -> None:
    """ELEMENT, its children and its tail. A call per element is cheaper than Python-Markdown's
    stack of elements, closing tags and tails; deeper than _DEEPEST levels, its steps take over
    (they meet no recursion limit)."""
    tag = element.tag
    if type(tag) is not str or depth > _DEEPEST:  # (a comment, a processing instruction, no tag, a QName)
        _serialize_html(write, element, "html")
        return
    known = _TAGS.get(tag)
    if known is None:
        lower = tag.lower()
        known = (f"<{tag}", f"<{tag}>", "" if lower in HTML_EMPTY else f"</{tag}>", lower in ("script", "style"))
        if len(_TAGS) < KNOWN_TAGS:
            _TAGS[tag] = known
    opening, opened, closing, raw = known
    if element.attrib:
        write(opening)
        _write_attributes(write, element)
        write(">")
    else:
        write(opened)
    text = element.text
    if text:
        write(text if raw or not ("&" in text or "<" in text or ">" in text) else _escape_cdata(text))
    depth += 1
    for child in element:
        _write(write, child, depth)
    if closing:
        write(closing)
    tail = element.tail
    if tail:
        write(tail if not ("&" in tail or "<" in tail or ">" in tail) else _escape_cdata(tail))


def _write_attributes(write: Callable[[str], None], element: etree.Element) -> None:
    for key, value in sorted(element.items()):  # (in lexical order, as Python-Markdown writes them)
        if isinstance(key, QName):
            key = key.text
        if isinstance(value, QName):
            value = value.text
        if value is None:  # a valueless attribute, written as its bare name
            write(f" {key}")
            continue
        value = _escape_attrib_html(value)
        if key == value and key in _BOOLEAN:
            write(f" {value}")
        else:
            write(f' {key}="{value}"')
