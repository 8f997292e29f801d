"""Smart punctuation for rendered HTML: curly quotes, dashes and ellipses, outside code.

Python-Markdown's "smarty" extension does this too, but as a dozen inline patterns tried on every
text node it tripled the cost of converting an article (measured: benchmarks/README.md). One pass
of a few regular expressions over the finished HTML gives the same typography at a fraction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Tags are skipped; so is everything inside elements where punctuation must stay as typed.
_PROTECTED_OPEN = re.compile(r"<(pre|code|kbd|samp|script|style|tt|math)\b", re.I)
_CLOSE = {name: re.compile(rf"</{name}\s*>", re.I) for name in ("pre", "code", "kbd", "samp", "script", "style",
                                                                "tt", "math")}
_TAG_SPLIT = re.compile(r"(<[^>]*>)")
_DASHES = (("---", "\u2014"), ("--", "\u2013"), ("...", "\u2026"))
_OPENING_CONTEXT = " \t\n\r([{\u2014\u2013-/\u00a0"
_DECADE = re.compile(r"'(?=\d\ds\b)")
# Each starts with its quote and looks behind it from there: an expression starting with a
# look-behind is tried at every position of the text, one starting with a character only where
# that character is (a third of smarten's time on news articles).
_APOSTROPHE = re.compile(r"'(?<=\w')(?=\w)")
_OPENS_DOUBLE = re.compile("\"(?<=[" + re.escape(_OPENING_CONTEXT) + "]\")")
_OPENS_SINGLE = re.compile("'(?<=[" + re.escape(_OPENING_CONTEXT) + "]')")
_CURLY = {('"', True): "\u201c", ('"', False): "\u201d", ("'", True): "\u2018", ("'", False): "\u2019"}


def smarten(html: str) -> str:
    if "<!--" not in html and _PROTECTED_OPEN.search(html) is None:
        return _smarten_between_tags(html)
    out: list[str] = []
    previous = " "  # the last character of text seen, across tag boundaries
    position = 0
    for start, end, code_like in _untouchable(html):
        if start > position:
            text = _smarten_text(html[position:start], previous)
            out.append(text)
            previous = text[-1]
        out.append(html[start:end])
        if code_like:  # a code-like element counts as a word before what follows
            previous = "x"
        position = end
    if position < len(html):
        out.append(_smarten_text(html[position:], previous))
    return "".join(out)


def _smarten_between_tags(html: str) -> str:
    """smarten() for HTML with no comment or code-like element, the common case: only tags are
    skipped, so one split finds the text, and only text with something to change is looked at
    (a third of the time of the scan below)."""
    parts = _TAG_SPLIT.split(html)  # text, tag, text, ..., text
    previous = " "
    for index in range(0, len(parts), 2):
        text = parts[index]
        if text:
            if "'" in text or '"' in text or "--" in text or "..." in text:
                text = parts[index] = _smarten_text(text, previous)
            previous = text[-1]
    return "".join(parts)


def _untouchable(html: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, is a code-like element) of each tag, comment and code-like element, in order.

    A scan rather than one regular expression: with `.*?` up to a closing tag, every unclosed
    <code> or <!-- searched to the end of the text again, quadratic in a big article. Here a failed
    search is remembered, since no later opening can find what an earlier one did not.
    """
    unclosed_from: dict[str, int] = {}  # closing mark -> position after which it never occurs
    position = 0
    while (start := html.find("<", position)) >= 0:
        opening = _PROTECTED_OPEN.match(html, start)
        if opening:
            name = opening.group(1).lower()
            close = _find(_CLOSE[name], html, opening.end(), name, unclosed_from)
            if close is not None:
                yield start, close, True
                position = close
                continue
        if html.startswith("<!--", start):
            close = _find(None, html, start + 4, "-->", unclosed_from)
            if close is not None:
                yield start, close, False
                position = close
                continue
        end = html.find(">", start)
        if end < 0:
            return  # no tag can end anywhere after this
        yield start, end + 1, False
        position = end + 1


def _find(pattern: re.Pattern[str] | None, html: str, start: int, mark: str,
          unclosed_from: dict[str, int]) -> int | None:
    """End of the first closing MARK (or PATTERN) at or after START, or None."""
    if unclosed_from.get(mark, len(html) + 1) <= start:
        return None
    if pattern is None:
        found = html.find(mark, start)
        end = found + len(mark) if found >= 0 else None
    else:
        match = pattern.search(html, start)
        end = match.end() if match else None
    if end is None:
        unclosed_from[mark] = start
    return end


def _smarten_text(text: str, previous: str) -> str:
    if "--" in text or "..." in text:
        for plain, fancy in _DASHES:
            text = text.replace(plain, fancy)
    if "'" in text:
        text = _DECADE.sub("\u2019", text)
        text = _APOSTROPHE.sub("\u2019", text)
    if "'" not in text and '"' not in text:
        return text
    # A quote opens after a space, bracket or dash and closes elsewhere. The first character's
    # context is the text before this piece; a quote's own replacement never opens the next.
    head = ""
    if text[0] == '"' or text[0] == "'":
        opening = previous in _OPENING_CONTEXT
        head = _CURLY[text[0], opening]
        text = text[1:]
    text = _OPENS_DOUBLE.sub("\u201c", text).replace('"', "\u201d")
    text = _OPENS_SINGLE.sub("\u2018", text).replace("'", "\u2019")
    return head + text
