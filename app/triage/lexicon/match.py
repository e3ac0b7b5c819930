"""Runtime matching of compiled lexicon patterns against a Doc: elements, frames and matchers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import product

from app.triage.lexicon.document import Doc, Span
from app.triage.lexicon.fastpath import prefix_gate, without_groups


class Element:
    r"""One compiled regular expression over the normalised text, matched on whole words.

    `gate` lists the word starts a match must begin with; when no word of the text starts like that the
    regex is not run at all (a sound pre-filter, it never drops a match). As the regex starts with
    `(?<!\w)`, a match can only begin at a word (part) start followed by a gate entry, so the regex is
    tried at those starts only (`Doc.starts_at`) instead of scanning the whole text.
    """

    __slots__ = ("key", "regex", "source", "gate", "positional", "plain_gate", "_fast")

    def __init__(self, key: int, regex: re.Pattern[str], source: str) -> None:
        self.key = key
        self.regex = regex
        self.source = source
        self._fast = without_groups(regex)  # used for matching; `regex` for the gate and as written
        self.gate = prefix_gate(regex)
        self.positional = regex.pattern.startswith(r"(?<!\w)")
        # only letters and digits: then the gate meets `Doc.start_keys` exactly when it meets `Doc.prefixes`
        self.plain_gate = self.gate is not None and all(s.isascii() and s.isalnum() for s in self.gate)

    def spans(self, doc: Doc) -> list[Span]:
        cached = doc.cache.get(self.key)
        if cached is None:
            cached = self._spans(doc)
            if doc.surface is not None:  # a lemma view: its own matches and the text's
                cached = _union(cached, self.spans(doc.surface))
            doc.cache[self.key] = cached
        return cached

    def _spans(self, doc: Doc) -> list[Span]:
        gate = self.gate
        if gate is None:
            return self._scan(doc)
        if not self.plain_gate and gate.isdisjoint(doc.prefixes):
            return []
        if self.positional:
            common = gate.intersection(doc.start_keys)
            return self._match_at(doc, common) if common else []
        return [] if gate.isdisjoint(doc.prefixes) else self._scan(doc)

    def _scan(self, doc: Doc) -> list[Span]:
        return [doc.span(m.start(), m.end()) for m in self._fast.finditer(doc.text)]

    def _match_at(self, doc: Doc, prefixes: frozenset[str]) -> list[Span]:
        """The matches finditer() gives (leftmost first, each next one from the end of the last), tried only
        at the word starts followed by one of `prefixes`."""
        starts_at = doc.starts_at
        if len(prefixes) == 1:
            positions: Iterable[int] = starts_at[next(iter(prefixes))]
        else:
            positions = sorted({p for prefix in prefixes for p in starts_at[prefix]})
        found: list[Span] = []
        match = self._fast.match
        text = doc.text
        end = 0
        for p in positions:
            if p >= end:
                m = match(text, p)
                if m is not None:
                    end = m.end()
                    found.append(doc.span(p, end))
        return found


def _any_gate(elements: Iterable[Element]) -> frozenset[str] | None:
    """The word starts at least one of the elements must begin with (None when one of them has no gate)."""
    found: set[str] = set()
    for element in elements:
        if element.gate is None:
            return None
        found |= element.gate
    return frozenset(found)


def _union(own: list[Span], other: list[Span]) -> list[Span]:
    """`own` and the spans of `other` that cover other tokens, in the order of their first token."""
    if not other:
        return own
    if not own:
        return other
    seen = {(s.start, s.end) for s in own}
    return sorted(own + [s for s in other if (s.start, s.end) not in seen], key=lambda s: s.start)


class Frame:
    __slots__ = ("elements", "window", "unless", "unless_window", "gates", "any_gate")

    def __init__(self, elements: tuple[Element, ...], window: int, unless: tuple[Element, ...],
                 unless_window: int | None = None) -> None:
        self.elements = elements
        self.window = window
        self.unless = unless
        self.unless_window = window if unless_window is None else unless_window
        self.gates = tuple(e.gate for e in elements if e.gate is not None)
        self.any_gate = _any_gate(elements)

    def spans(self, doc: Doc) -> list[Span]:
        prefixes = doc.prefixes
        for gate in self.gates:  # an element whose gate fails has no spans: skip the frame cheaply
            if gate.isdisjoint(prefixes):
                return []
        lists: list[list[Span]] = []
        for element in self.elements:  # stop at the first element that does not occur
            spans = element.spans(doc)
            if not spans:
                return []
            lists.append(spans)
        found: list[Span] = []
        for combo in product(*lists):
            sentence = combo[0].sentence
            if any(s.sentence != sentence for s in combo):
                continue
            lo = min(s.start for s in combo)
            hi = max(s.end for s in combo)
            if hi - lo > self.window:
                continue
            if self._blocked(doc, sentence, lo - self.unless_window, hi + self.unless_window):
                continue
            text = " ... ".join(s.text for s in sorted(combo, key=lambda s: s.start))
            found.append(Span(lo, hi, sentence, text))
        return found

    def _blocked(self, doc: Doc, sentence: int, lo: int, hi: int) -> bool:
        for element in self.unless:
            for s in element.spans(doc):
                if s.sentence == sentence and s.end >= lo and s.start <= hi:
                    return True
        return False


class Matcher:
    """A list of rules (one combined regex for the plain patterns, plus frames)."""

    __slots__ = ("name", "combined", "frames", "any_gate")

    def __init__(self, name: str, combined: tuple[Element, ...], frames: tuple[Frame, ...]) -> None:
        self.name = name
        self.combined = combined
        self.frames = frames
        self.any_gate = _any_gate(combined + tuple(e for frame in frames for e in frame.elements))

    def spans(self, doc: Doc) -> list[Span]:
        out: list[Span] = []
        for element in self.combined:
            out.extend(element.spans(doc))
        prefixes = doc.prefixes
        for frame in self.frames:
            for gate in frame.gates:  # the frame's own first test, inlined: most frames stop here
                if gate.isdisjoint(prefixes):
                    break
            else:
                out.extend(frame.spans(doc))
        return out

    def spans_starting_in(self, doc: Doc, starts: frozenset[str]) -> list[Span]:
        """Like `spans`, skipping every regex and frame none of whose elements can begin at a word that
        starts with one of `starts` (the 1- to 3-letter starts of some words of `doc`)."""
        out: list[Span] = []
        for element in self.combined:
            if element.gate is None or not element.gate.isdisjoint(starts):
                out.extend(element.spans(doc))
        for frame in self.frames:
            if frame.any_gate is None or not frame.any_gate.isdisjoint(starts):
                out.extend(frame.spans(doc))
        return out

    def __bool__(self) -> bool:
        return bool(self.combined) or bool(self.frames)
