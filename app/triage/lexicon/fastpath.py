"""What makes lexicon matching fast, worked out once per compiled regex: the prefix gate (the word starts a
match must begin with) and the same regex without capturing groups.

Both are shortcuts only: tests/triage/test_lexicon_matching.py checks that matching with them gives exactly
the spans a plain `finditer()` over the whole text gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

_GATE_LENGTH = 3


# ----------------------------------------------------------------------------------------------------
# A regex's parse tree, in the few shapes the prefix gate looks at


@dataclass(frozen=True)
class Chars:
    """One character out of `chars` (a literal, or a class of a few listed characters)."""

    chars: frozenset[str]


@dataclass(frozen=True)
class Group:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Branch:
    alternatives: tuple[tuple[Node, ...], ...]


@dataclass(frozen=True)
class Repeat:
    low: int
    high: int
    items: tuple[Node, ...]


@dataclass(frozen=True)
class ZeroWidth:
    """An anchor or a lookaround: consumes no character."""


@dataclass(frozen=True)
class Opaque:
    """Anything else (`.`, `\\s`, a negated class, a back reference ...): its first character is unknown."""


Node = Chars | Group | Branch | Repeat | ZeroWidth | Opaque

_LARGEST_LISTED_RANGE = 40  # a wider character range (such as a-z) counts as unknown


def parse_regex(regex: re.Pattern[str]) -> tuple[Node, ...] | None:
    """The parse tree of `regex`, or None when it cannot be read.

    The one place that uses private internals of `re` (`re._parser`, `re._constants`, as in Python 3.11 to
    3.13): the standard library has no public parser. Should they change, this returns None and every
    regex is then matched by a plain scan of the whole text: slower, never different.
    """

    def sequence(parsed: Any) -> tuple[Node, ...]:
        return tuple(node(op, av) for op, av in parsed)

    def node(op: Any, av: Any) -> Node:
        if op is sre_constants.LITERAL:
            return Chars(frozenset(chr(av)))
        if op is sre_constants.IN:
            chars: set[str] = set()
            for item_op, item_av in av:
                if item_op is sre_constants.LITERAL:
                    chars.add(chr(item_av))
                elif item_op is sre_constants.RANGE and item_av[1] - item_av[0] < _LARGEST_LISTED_RANGE:
                    chars.update(chr(c) for c in range(item_av[0], item_av[1] + 1))
                else:
                    return Opaque()
            return Chars(frozenset(chars))
        if op is sre_constants.SUBPATTERN:
            return Group(sequence(av[-1]))
        if op is sre_constants.BRANCH:
            return Branch(tuple(sequence(alternative) for alternative in av[1]))
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT,
                  getattr(sre_constants, "POSSESSIVE_REPEAT", None)):
            low, high, items = av
            return Repeat(low, high, sequence(items))
        if op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            return ZeroWidth()
        return Opaque()

    try:
        return sequence(sre_parser.parse(regex.pattern, regex.flags))
    except Exception:
        return None


# ----------------------------------------------------------------------------------------------------
# Prefix gate


def _node_prefixes(node: Node, k: int) -> set[tuple[str, bool]] | None:
    """Possible starts (up to k chars) of one node, each with "node fully consumed"."""
    match node:
        case Chars(chars):
            return {(c, True) for c in chars}
        case Group(items):
            return _sequence_prefixes(items, k)
        case Branch(alternatives):
            out: set[tuple[str, bool]] = set()
            for alternative in alternatives:
                out |= _sequence_prefixes(alternative, k)
            return out
        case Repeat(low, high, items):
            exact_once = low == 1 and high == 1
            starts = {(s, done and exact_once) for s, done in _sequence_prefixes(items, k)}
            return starts | {("", True)} if low == 0 else starts
        case ZeroWidth():
            return {("", True)}
    return None


def _sequence_prefixes(items: tuple[Node, ...], k: int) -> set[tuple[str, bool]]:
    partial: set[str] = {""}
    closed: set[str] = set()
    for item in items:
        if not partial:
            break
        ext = _node_prefixes(item, k)
        if ext is None:
            closed |= partial
            partial = set()
            break
        grown: set[str] = set()
        for p in partial:
            for s, done in ext:
                value = (p + s)[:k]
                if len(value) >= k or not done:
                    closed.add(value)
                else:
                    grown.add(value)
        partial = grown
    return {(s, False) for s in closed} | {(s, True) for s in partial}


def prefix_gate(regex: re.Pattern[str], k: int = _GATE_LENGTH) -> frozenset[str] | None:
    """Word starts (up to k letters) every match must begin with, or None when that cannot be told."""
    tree = parse_regex(regex)
    if tree is None:
        return None
    found = _sequence_prefixes(tree, k)
    if not found:
        return None
    starts = {s for s, _ in found}
    if "" in starts or any(not s[0].isalnum() for s in starts) or len(starts) > 5000:
        return None
    return frozenset(starts)


# ----------------------------------------------------------------------------------------------------
# Without capturing groups


def _uncapture(pattern: str) -> str:
    """`(` of every capturing group turned into `(?:`, escapes and character classes left alone."""
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            end = i + 1 + pattern.startswith("^", i + 1)
            end += pattern.startswith("]", end)  # a leading ] is a literal one
            out.append(pattern[i:end])
            i = end
            continue
        elif char == "(" and not pattern.startswith("?", i + 1):
            char = "(?:"
        out.append(char)
        i += 1
    return "".join(out)


_GROUP_REFERENCE = re.compile(r"\\[1-9]|\\g<|\(\?P=|\(\?\(")


def without_groups(regex: re.Pattern[str]) -> re.Pattern[str]:
    """The same regex without capturing groups: same matches, but the regex engine can reject an
    alternative on its first character (a capturing group in front hides that character from it)."""
    if not regex.groups or _GROUP_REFERENCE.search(regex.pattern):
        return regex
    try:
        fast = re.compile(_uncapture(regex.pattern), regex.flags)
    except re.error:
        return regex
    return fast if fast.groups == 0 else regex
