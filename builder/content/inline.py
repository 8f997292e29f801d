"""Python-Markdown's inline tree processor, made by the same steps at less cost.

Python-Markdown applies its inline patterns to every text of the tree: for each text, each pattern
in priority order, each match stashed and replaced by a placeholder, the text of each new element
processed with the patterns after the one that made it; then the placeholders are turned back into
elements. This class takes those steps in the same order, so the tree it leaves is the same
(tests/test_markup.py compares them), but it looks the patterns up once per tree instead of through
the registry on every try, tries a pattern's expression with one search before iterating its
matches, and keeps the pattern loop in one function instead of a call per pattern and text. On the
benchmark's articles the inline step takes about half of a conversion.
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from itertools import islice

from markdown import inlinepatterns, util
from markdown.treeprocessors import InlineProcessor

_PREFIX = util.INLINE_PLACEHOLDER_PREFIX
_PLACEHOLDER = util.INLINE_PLACEHOLDER
_PLACEHOLDER_RE = util.INLINE_PLACEHOLDER_RE
_Atomic: type[str] = util.AtomicString


class QuickerInline(InlineProcessor):
    """Same results as InlineProcessor for patterns of the current kind (InlineProcessor
    subclasses); a registry holding any legacy Pattern is left to the stock steps."""

    def run(self, tree: etree.Element, ancestors: list[str] | None = None) -> etree.Element:
        patterns = list(self.inlinePatterns)
        if not all(isinstance(pattern, inlinepatterns.InlineProcessor) for pattern in patterns):
            stock: etree.Element = super().run(tree, ancestors)
            return stock
        # (pattern, its expression's search and finditer, the ancestor tags that keep it out)
        self._tries = [(pattern, regex.search, regex.finditer,
                        tuple(tag.lower() for tag in pattern.ANCESTOR_EXCLUDES))
                       for pattern in patterns for regex in (pattern.getCompiledRegExp(),)]
        self.stashed_nodes: dict[str, etree.Element | str] = {}
        # (Python-Markdown also keeps a map of parents, only to find the root's, which has none)
        queue: list[tuple[etree.Element, list[str]]] = [(tree, [*(ancestors or ()), tree.tag.lower()])]
        index = 0
        while index < len(queue):  # (breadth first, as Python-Markdown's list popped from the front)
            current, parents = queue[index]
            index += 1
            self.ancestors = parents
            if current is not tree:
                parents.append(current.tag.lower())
            made_in: list[tuple[etree.Element, list[tuple[etree.Element, list[str]]]]] = []
            for child in current:
                text = child.text
                if text and not isinstance(text, _Atomic):
                    parents.append(child.tag.lower())
                    child.text = None
                    made = self._expand(self._apply(text, 0), child, True)
                    queue += made
                    made_in.append((child, made))
                    parents.pop()
                if child.tail:
                    tail = self._apply(child.tail, 0)
                    holder = etree.Element("d")
                    child.tail = None
                    made = self._expand(tail, holder, False)
                    if holder.tail:
                        child.tail = holder.tail
                    position = list(current).index(child) + 1
                    for new, _ in reversed(made):
                        current.insert(position, new)
                if len(child):
                    queue.append((child, parents[:]))
            for element, made in made_in:
                for position, (new, _) in enumerate(made):
                    element.insert(position, new)
        return tree

    def _apply(self, data: str, first: int) -> str:
        """DATA with every match of the patterns from FIRST on stashed and replaced by a placeholder."""
        if isinstance(data, _Atomic):
            return data
        tries = self._tries
        count = len(tries)
        ancestors = self.ancestors
        stashed = self.stashed_nodes
        number = first
        start = 0
        while number < count:
            pattern, search, finditer, excludes = tries[number]
            match = None if excludes and any(tag in ancestors for tag in excludes) else search(data, start)
            if match is None:
                number += 1
                start = 0
                continue
            node, begin, end = pattern.handleMatch(match, data)
            if begin is None or end is None:  # turned down: the pattern's later matches, as finditer finds them
                for match in islice(finditer(data, start), 1, None):
                    node, begin, end = pattern.handleMatch(match, data)
                    if begin is not None and end is not None:
                        break
                else:
                    number += 1
                    start = 0
                    continue
            if node is None:
                start = end
                continue
            if not isinstance(node, str) and not isinstance(node.text, _Atomic):
                for child in [node, *node]:
                    if child.text:
                        ancestors.append(child.tag.lower())
                        child.text = self._apply(child.text, number + 1)
                        ancestors.pop()
                    if child.tail:
                        child.tail = self._apply(child.tail, number)
            key = f"{len(stashed):04d}"
            stashed[key] = node
            placeholder = _PLACEHOLDER % key
            data = f"{data[:begin]}{placeholder}{data[end:]}"
            start = begin + len(placeholder)
        return data

    def _expand(self, data: str | None, parent: etree.Element, is_text: bool
                ) -> list[tuple[etree.Element, list[str]]]:
        """The elements DATA's placeholders stand for (each with the ancestors then), its text
        between them added to PARENT's text (IS_TEXT) or tail, or to the tail of the element before."""
        if not data:
            return []
        if _PREFIX not in data:  # (most texts: nothing stashed, the text as it is, where the caller emptied it)
            text = data if type(data) is str or isinstance(data, _Atomic) else str(data)
            if is_text:
                parent.text = text
            else:
                parent.tail = text
            return []
        result: list[tuple[etree.Element, list[str]]] = []

        def add_text(text: str) -> None:
            if not text:
                return
            if result:
                last = result[-1][0]
                last.tail = last.tail + text if last.tail else text
            elif not is_text:
                parent.tail = parent.tail + text if parent.tail else text
            else:
                parent.text = parent.text + text if parent.text else text

        stashed = self.stashed_nodes
        start = 0
        while data:
            index = data.find(_PREFIX, start)
            if index == -1:
                rest = data[start:]
                add_text(_Atomic(rest) if isinstance(data, _Atomic) else rest)
                break
            found = _PLACEHOLDER_RE.search(data, index)
            key, after = (found.group(1), found.end()) if found else (None, index + 1)
            if key not in stashed:  # not one of ours: keep the prefix as text
                end = index + len(_PREFIX)
                add_text(data[start:end])
                start = end
                continue
            node = stashed[key]
            if index > 0:
                add_text(data[start:index])
            if isinstance(node, str):
                add_text(node)
                start = after
                continue
            for child in [node, *node]:
                if child.tail and child.tail.strip():
                    self._expand_in(node, child, False)
                if child.text and child.text.strip():
                    self._expand_in(child, child, True)
            start = after
            result.append((node, self.ancestors[:]))
        return result

    def _expand_in(self, node: etree.Element, subnode: etree.Element, is_text: bool) -> None:
        """Turns the placeholders in SUBNODE's text (or tail) back into elements, inside NODE."""
        if is_text:
            text, subnode.text = subnode.text, None
        else:
            text, subnode.tail = subnode.tail, None
        made = self._expand(text, subnode, is_text)
        position = list(node).index(subnode) + 1 if not is_text and node is not subnode else 0
        for new, _ in reversed(made):
            node.insert(position, new)

