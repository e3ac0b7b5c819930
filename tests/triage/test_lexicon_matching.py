"""The shortcuts in lexicon matching (prefix gates, matching at word starts only, regexes without capturing
groups) must give exactly the spans a plain finditer() over the whole text gives."""

from __future__ import annotations

import random
import re

import pytest

from app.triage.evaluation import read_items
from app.triage.knowledge import KnowledgeBase
from app.triage.lexicon import CompiledLexicon, Doc, Element, Matcher, compile_lexicon, fastpath
from app.triage.lexicon.fastpath import _uncapture, prefix_gate, without_groups
from app.triage.location import _COMPACT, _compacts
from tests.triage.helpers import DATA


def _elements(lex: CompiledLexicon) -> list[Element]:
    matchers: list[Matcher] = [*lex.signals.values(), lex.now, lex.past, lex.habitual, lex.completed,
                               lex.discovery, lex.gone]
    matchers += [m for om in lex.offences for m in (om.crime, om.behaviour)]
    found: dict[int, Element] = {}
    for matcher in matchers:
        for element in matcher.combined:
            found[element.key] = element
        for frame in matcher.frames:
            for element in (*frame.elements, *frame.unless):
                found[element.key] = element
    return list(found.values())


def _texts() -> list[str]:
    texts = [item.report.text for name in ("triage-dev.jsonl", "triage-holdout.jsonl", "triage-holdout-2.jsonl")
             for item in read_items(DATA / name)]
    words = " ".join(texts).split()
    rnd = random.Random(1)
    for _ in range(300):  # word salads, with words glued by - and ' and trailing punctuation
        salad = rnd.sample(words, rnd.randint(3, 20))
        for i, word in enumerate(salad):
            roll = rnd.random()
            if roll < 0.08:
                salad[i] = word + rnd.choice("-'") + rnd.choice(words)
            elif roll < 0.12:
                salad[i] = word + rnd.choice(".,!?;:")
        texts.append(" ".join(salad))
    return texts


def _assert_spans_equal_a_full_scan(elements: list[Element], texts: list[str]) -> None:
    for text in texts:
        doc = Doc.from_text(text)
        for element in elements:
            expected = [doc.span(m.start(), m.end()) for m in element.regex.finditer(doc.text)]
            assert element.spans(doc) == expected, (element.source, doc.text)


def test_element_spans_equal_a_full_scan(kb: KnowledgeBase) -> None:
    elements = _elements(kb.compiled)
    assert sum(element.gate is not None for element in elements) > len(elements) / 2  # the fast path is used
    _assert_spans_equal_a_full_scan(elements, _texts())


def test_without_the_private_regex_parser_every_element_scans_and_finds_the_same(
        kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    class ChangedParser:  # as if a later Python had changed the internals of `re`
        @staticmethod
        def parse(pattern: str, flags: int) -> object:
            raise AttributeError("no such internal")

    monkeypatch.setattr(fastpath, "sre_parser", ChangedParser)
    elements = _elements(compile_lexicon(kb.lexicon))
    assert all(element.gate is None for element in elements)
    _assert_spans_equal_a_full_scan(elements, _texts()[:100])


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"(?<!\w)(?:auto|fiets(?:en)?)(?!\w)", {"aut", "fie"}),
    (r"(?<!\w)(?:(?:in)?bre[kc]en|ab?)(?!\w)", {"in", "bre", "a", "ab"}),  # an optional part ends the start
    (r"(?<!\w)(?:x?)(?!\w)", None),  # may match the empty string
    (r"(?<!\w)(?:\w+ man)(?!\w)", None),  # any word
    (r"(?<!\w)(?:[^ ]ij)(?!\w)", None),  # any first character
])
def test_prefix_gate(pattern: str, expected: set[str] | None) -> None:
    assert prefix_gate(re.compile(pattern)) == expected


def test_word_starts_of_a_doc() -> None:
    doc = Doc.from_text("Een t-shirt, auto's  en\nnu")
    assert doc.tokens == ["een", "t-shirt", "auto's", "en", "nu"]
    assert doc.prefixes == {"e", "ee", "een", "t", "t-", "t-s", "s", "sh", "shi", "a", "au", "aut", "en", "n",
                            "nu"}
    assert doc.starts_at["t-s"] == [4] and doc.starts_at["sh"] == [6] and doc.starts_at["s"] == [6, 18]
    assert doc.starts_at["en\n"] == [20] and doc.starts_at["nu"] == [23]
    assert doc.start_keys == frozenset(doc.starts_at)


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"(a|b)c", r"(?:a|b)c"),
    (r"\(a\)[(](b)", r"\(a\)[(](?:b)"),
    (r"[]()](x)[^]()]", r"[]()](?:x)[^]()]"),
    (r"\\(a)", r"\\(?:a)"),
    (r"(?<!\w)(?:(t|n))(?!\w)", r"(?<!\w)(?:(?:t|n))(?!\w)"),
])
def test_uncapture(pattern: str, expected: str) -> None:
    assert _uncapture(pattern) == expected


def test_without_groups_keeps_references_and_names() -> None:
    for pattern in (r"(a)\1", r"(?P<x>a)(?P=x)", r"(?P<x>a)b"):
        regex = re.compile(pattern)
        assert without_groups(regex) is regex
    assert without_groups(re.compile(r"(a|b)+c")).pattern == r"(?:a|b)+c"


def test_compacts_equal_compact_of_each_token() -> None:
    for tokens in (["t-shirt", "auto's", "12a"], [], ["Ab", "c d"], ["é-x"]):
        assert _compacts(tokens) == [_COMPACT.sub("", t) for t in tokens]
