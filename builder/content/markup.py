"""Markdown to HTML with one reused Python-Markdown instance, plus the plain text derived from it."""

from __future__ import annotations

import html
import importlib
import posixpath
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from urllib.parse import unquote

import markdown
from markdown.extensions import Extension
from markdown.extensions.extra import extensions as extra_extensions
from markdown.extensions.toc import slugify_unicode
from markdown.treeprocessors import Treeprocessor

from builder.content.model import Heading
from builder.content.quicker import BlockLevel, FrozenOrder, QuickerProcessors, QuickerToc
from builder.content.typography import smarten
from builder.urls import split_url

# Internal references stay symbolic until every article's URL is known (see builder.render.links).
REF_SCHEME = "builder-ref:"

# Smart quotes and dashes come from builder.content.typography, not the much slower "smarty".
EXTENSIONS = ["extra", "toc", "sane_lists"]
EXTENSION_CONFIGS = {
    "toc": {"slugify": slugify_unicode, "toc_depth": "2-4"},
}

# What a body must contain for a part of Python-Markdown to do anything. Every inline pattern is
# tried on every text node and every extension's processors run on every body, so a body is
# converted by an instance without the parts it cannot use: the same HTML in about three quarters
# of the time on news articles (benchmarks/README.md). Tabs become spaces before inline patterns
# run, so they count as "  ". Parts not named here are always kept.
INLINE_TRIGGERS: dict[str, tuple[str, ...]] = {
    "backtick": ("`",),
    "escape": ("\\",),
    "footnote": ("[^",),
    "link": ("[",),
    "image_link": ("![",),
    # [text][id], [id] and their images stand for links only where the body defines an id
    # ("[id]: url", which Python-Markdown's pattern spells with "]:" adjacent)
    "reference": ("]:",),
    "short_reference": ("]:",),
    "image_reference": ("]:",),
    "short_image_ref": ("]:",),
    "autolink": ("<",),
    "automail": ("<",),
    "linebreak": ("  ", "\t"),
    "html": ("<",),
    "entity": ("&",),
    "em_strong": ("*", "_"),
}
# Block and tree processors, by the same rule. The raw HTML preprocessor runs an HTML parser over
# the whole body, which also completes a numeric character reference lacking its ';' ("&#38"
# becomes "&#38;", not "&amp;#38"). The unescaper walks the whole tree for placeholders that only
# a backslash escape makes (the source's own STX/ETX characters are stripped first). The link
# rewriter rewrites relative links and images, which only Markdown's brackets make (autolinks are
# absolute; raw HTML is stashed, not in the tree).
PROCESSOR_TRIGGERS: dict[str, tuple[str, ...]] = {
    "html_block": ("<", "&#"),
    "unescape": ("\\",),
    "builder_links": ("[",),
}
# Block processors, by the same rule: the one that reads "[id]: url" definitions tries its
# expression on every block.
BLOCK_TRIGGERS: dict[str, tuple[str, ...]] = {
    "reference": ("]:",),
}
# The parts of "extra" (markdown.extensions.extra.extensions), by the same rule.
EXTRA_TRIGGERS: dict[str, tuple[str, ...]] = {
    "fenced_code": ("```", "~~~"),
    "footnotes": ("[^", "///Footnotes Go Here///"),
    "attr_list": ("{",),
    "def_list": (": ", ":\t"),  # a definition line starts ": " (a tab becomes spaces)
    "tables": ("|",),
    "abbr": ("*[",),
    "md_in_html": ("<",),
}
_TOC_MARKER = "[TOC]"  # the toc extension's marker for a table of contents
_ALL_TRIGGERS = tuple(sorted({trigger for triggers_of in (INLINE_TRIGGERS, PROCESSOR_TRIGGERS, BLOCK_TRIGGERS, EXTRA_TRIGGERS)
                              for triggers in triggers_of.values() for trigger in triggers} | {_TOC_MARKER}))
# A single character is found by a vectorised scan; a longer string costs a scan of its own (4-8 us
# in a news article), so it is looked for only when each of its characters occurs.
_TRIGGER_CHARS = tuple(sorted({char for trigger in _ALL_TRIGGERS for char in trigger}))
_LONGER_TRIGGERS = tuple((index, trigger, tuple(set(trigger)))
                         for index, trigger in enumerate(_ALL_TRIGGERS) if len(trigger) > 1)

_BLOCK_TAG = re.compile(
    r"</?(?:p|div|h[1-6]|li|ul|ol|br|td|th|tr|table|blockquote|pre|hr|figure|figcaption|dl|dd|dt|section)\b[^>]*>",
    re.I,
)
_TAG = re.compile(r"<[^>]+>")
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)
_STASHED = re.compile("[\x02\x03]")
# A URL starting with a scheme, as urlsplit reads one (a letter, then letters, digits, '+', '-' or
# '.', then ':'): absolute, so the link rewriter leaves it without splitting it (4 us a link).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    text: str  # the body's words: tags dropped, entities decoded, spacing as the HTML has it
    first_paragraph: str
    headings: tuple[Heading, ...]
    links: tuple[str, ...]


class _LinkRewriter(Treeprocessor):
    """Resolves relative links and images against the article's folder; turns lone images into figures."""

    folder = ""  # content-relative folder of the article being converted
    asset_prefix = "/"
    found: list[str]

    def run(self, root: etree.Element) -> None:
        self.found = []
        if next(root.iter("img"), None) is None:  # most bodies: no figure to make, only links to rewrite
            for element in root.iter("a"):  # (the tag filtered by ElementTree, not in Python)
                self._rewrite(element, "href", is_image=False)
            return
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "p" and len(child) == 1 and child[0].tag == "img" and not (child.text or "").strip() \
                        and not (child[0].tail or "").strip() and child[0].get("title"):
                    parent[index] = self._figure(child[0])
        for element in root.iter():
            if element.tag == "img":
                self._rewrite(element, "src", is_image=True)
                element.set("loading", "lazy")
                element.set("decoding", "async")
            elif element.tag == "a":
                self._rewrite(element, "href", is_image=False)

    @staticmethod
    def _figure(image: etree.Element) -> etree.Element:
        figure = etree.Element("figure")
        caption = image.attrib.pop("title")
        image.tail = None
        figure.append(image)
        etree.SubElement(figure, "figcaption").text = caption
        return figure

    def _rewrite(self, element: etree.Element, attribute: str, *, is_image: bool) -> None:
        url = element.get(attribute)
        if not url or url.startswith(("#", "/")) or _SCHEME.match(url):
            return
        parts = split_url(url)
        if parts is None or parts.scheme or parts.netloc:
            return
        target = posixpath.normpath(posixpath.join(self.folder, unquote(parts.path)))
        if target.startswith("../") or target == "..":
            return  # points outside content/; `builder check` reports it
        if any(ord(char) < 32 for char in target):
            return  # '%00' and friends name no file anywhere; left as written, `builder check` reports it
        self.found.append(target)
        fragment = f"#{parts.fragment}" if parts.fragment else ""
        if target.endswith(".md") and not is_image:
            element.set(attribute, f"{REF_SCHEME}{target}{fragment}")
        else:
            element.set(attribute, f"{self.asset_prefix}{target}{fragment}")


class _HeadingLeveller(Treeprocessor):
    """Shifts headings so the body's top level is <h2>: the page's only <h1> is the headline,
    whether the author started with '#' or '##' (and no level is skipped below it)."""

    def run(self, root: etree.Element) -> None:
        headings = [e for e in root.iter() if e.tag in _HEADING_TAGS]
        if not headings:
            return
        shift = 2 - min(int(e.tag[1]) for e in headings)
        if shift:
            for element in headings:
                element.tag = f"h{min(6, int(element.tag[1]) + shift)}"


_HEADING_TAGS = frozenset(f"h{n}" for n in range(1, 7))


class _LinkExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # After 'inline' (priority 20) so links exist; before 'toc' (5) so anchors see final levels.
        md.treeprocessors.register(_LinkRewriter(md), "builder_links", 15)
        md.treeprocessors.register(_HeadingLeveller(md), "builder_heading_levels", 14)


def _builtin_extension(name: str) -> Extension:
    """One of Python-Markdown's own extensions, made from its module: given by name, Python-Markdown
    looks it up among every installed package's entry points first (0.02 s, once per process)."""
    extension: Extension = importlib.import_module(f"markdown.extensions.{name}").makeExtension()
    return extension


def _triggers_in(body: str) -> tuple[bool, ...]:
    """For each of _ALL_TRIGGERS, whether BODY contains it."""
    has = dict(zip(_TRIGGER_CHARS, map(body.__contains__, _TRIGGER_CHARS)))
    found = [len(trigger) == 1 and has[trigger] for trigger in _ALL_TRIGGERS]
    for index, trigger, chars in _LONGER_TRIGGERS:
        if all(map(has.__getitem__, chars)):
            found[index] = trigger in body
    return tuple(found)


class MarkdownRenderer:
    """Converts article bodies; not thread-safe, so each worker process holds its own."""

    def __init__(self, asset_prefix: str = "/", *, sanitize: bool = False) -> None:
        self._sanitize = sanitize
        self._asset_prefix = asset_prefix
        # by which trigger strings a body holds, and by the parts those leave in
        self._by_triggers: dict[tuple[bool, ...], tuple[markdown.Markdown, _LinkRewriter]] = {}
        self._by_parts: dict[tuple[frozenset[str], frozenset[str], tuple[str, ...], bool],
                             tuple[markdown.Markdown, _LinkRewriter]] = {}

    def _instance_for(self, body: str) -> tuple[markdown.Markdown, _LinkRewriter]:
        """A Markdown instance without the parts that can do nothing for `body` (few distinct sets
        occur, so each instance is built once). Each trigger string is looked for once: asking
        part by part looked for the shared ones ('[', '<') again and again, 55 us a body.
        `found` is the same tuple as map(body.__contains__, _ALL_TRIGGERS), in 30 us instead of 47."""
        found = _triggers_in(body)
        instance = self._by_triggers.get(found)
        if instance is None:
            present = {trigger for trigger, there in zip(_ALL_TRIGGERS, found) if there}
            instance = self._by_triggers[found] = self._instance_with(present)
        return instance

    def _instance_with(self, present: set[str]) -> tuple[markdown.Markdown, _LinkRewriter]:
        """The instance for a body holding the trigger strings PRESENT (and no others)."""
        absent = frozenset(name for triggers_of in (INLINE_TRIGGERS, PROCESSOR_TRIGGERS)
                           for name, triggers in triggers_of.items() if present.isdisjoint(triggers))
        absent_blocks = frozenset(name for name, triggers in BLOCK_TRIGGERS.items() if present.isdisjoint(triggers))
        extra = tuple(name for name in extra_extensions
                      if name not in EXTRA_TRIGGERS or not present.isdisjoint(EXTRA_TRIGGERS[name]))
        contents = _TOC_MARKER in present
        instance = self._by_parts.get((absent, absent_blocks, extra, contents))
        if instance is None:
            md = markdown.Markdown(
                extensions=[*map(_builtin_extension, extra),
                            QuickerToc(**EXTENSION_CONFIGS["toc"], marker=_TOC_MARKER if contents else ""),
                            *(_builtin_extension(e) for e in EXTENSIONS if e not in ("extra", "toc")),
                            _LinkExtension(), QuickerProcessors()],
                output_format="html",
            )
            links: _LinkRewriter = md.treeprocessors["builder_links"]
            links.asset_prefix = self._asset_prefix
            for name in absent:
                for registry in (md.inlinePatterns, md.preprocessors, md.treeprocessors):
                    if name in registry:
                        registry.deregister(name)
            for name in absent_blocks:
                md.parser.blockprocessors.deregister(name)
            md.is_block_level = BlockLevel(md.block_level_elements)
            md.parser.blockprocessors = FrozenOrder(md.parser.blockprocessors)
            instance = self._by_parts[(absent, absent_blocks, extra, contents)] = (md, links)
        return instance

    def render(self, body: str, folder: str) -> Rendered:
        """`folder` is the article's content-relative folder, for resolving relative links."""
        # Python-Markdown strips these (its placeholder markers) before parsing, which can make a
        # trigger ("a \x02 \n" ends in two spaces, a line break), so the instance is chosen by the
        # text without them; it still converts the body as written ("\t\x02" is not blank to it).
        seen = _STASHED.sub("", body) if "\x02" in body or "\x03" in body else body
        md, links = self._instance_for(seen)
        md.reset()
        links.folder = folder
        links.found = []  # an empty body skips the tree processors: no links, not the last body's
        body_html = smarten(md.convert(body))
        if self._sanitize:
            body_html = sanitize_html(body_html)
        headings = tuple(_flatten(md.toc_tokens))
        text = _words_of(body_html)  # its readers split it into words: collapsing spaces is wasted
        first = _FIRST_PARAGRAPH.search(body_html)
        return Rendered(
            html=body_html,
            text=text,
            first_paragraph=plain_text(first.group(1)) if first else "",
            headings=headings,
            links=tuple(dict.fromkeys(links.found)),
        )


# What `sanitize = true` keeps: the tags and attributes Markdown itself produces, nothing that runs.
_SAFE_ATTRIBUTES = {
    "*": {"id", "class", "title", "lang", "dir"},
    "a": {"href", "hreflang", "rel"},
    "img": {"src", "alt", "width", "height", "loading", "decoding"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan", "scope"},
    "ol": {"start"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "time": {"datetime"},
}


def sanitize_html(fragment: str) -> str:
    """Raw HTML an author typed, cleaned of scripts, event handlers, styles and frames (nh3/ammonia)."""
    import nh3

    return nh3.clean(fragment, attributes=_SAFE_ATTRIBUTES, link_rel=None,
                     url_schemes=nh3.ALLOWED_URL_SCHEMES | {REF_SCHEME.rstrip(":")})


def plain_text(fragment: str) -> str:
    """Readable text of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    # split() and \s agree on what is a space (str.isspace); joining the words is 3x faster than a
    # regular expression replacing every space between them.
    return " ".join(_words_of(fragment).split())


def _words_of(fragment: str) -> str:
    """The text of an HTML fragment with tags dropped (block tags part words) and entities decoded;
    spaces are left as they are (collapsing them is most of plain_text's time)."""
    without_tags = _TAG.sub("", _BLOCK_TAG.sub(" ", fragment))
    if "\x02" in without_tags or "\x03" in without_tags:
        without_tags = _STASHED.sub("", without_tags)
    return html.unescape(without_tags)


def _flatten(tokens: list[dict[str, object]]) -> list[Heading]:
    out: list[Heading] = []
    for token in tokens:
        out.append(Heading(int(token["level"]), str(token["id"]), plain_text(str(token["name"]))))  # type: ignore[call-overload]
        out.extend(_flatten(token.get("children", [])))  # type: ignore[arg-type]
    return out
