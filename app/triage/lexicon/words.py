"""The words the lexicon's patterns name, read out of the patterns themselves.

The morphology layer writes an unknown compound as its head and a misspelt word as the word it is near
(`morphology.lemma_view`); it can only do that towards words the lexicon knows. Those are the words a pattern
piece can match when its language is a short finite list: `'(in|open)?breek(t|en)?'` names "breek",
"breekt", "breken", "inbreek", ... Pieces with a class, a gap or an open-ended part (`\\w*`) name nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from app.triage.lexicon.fastpath import Branch, Chars, Group, Node, Repeat, ZeroWidth, parse_regex

_WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
_MAX_STRINGS = 256
_MIN_LENGTH = 3


def _strings(items: tuple[Node, ...]) -> set[str] | None:
    """Every string the node sequence matches, or None when it is open-ended or too many."""
    out = {""}
    for item in items:
        tail = _node_strings(item)
        if tail is None:
            return None
        out = {a + b for a in out for b in tail}
        if len(out) > _MAX_STRINGS:
            return None
    return out


def _node_strings(node: Node) -> set[str] | None:
    match node:
        case Chars(chars):
            return set(chars)
        case Group(items):
            return _strings(items)
        case Branch(alternatives):
            out: set[str] = set()
            for alternative in alternatives:
                found = _strings(alternative)
                if found is None:
                    return None
                out |= found
            return out
        case Repeat(low, high, items) if high <= 1:
            once = _strings(items)
            if once is None:
                return None
            return once | {""} if low == 0 else once
        case ZeroWidth():
            return {""}
    return None


def piece_words(piece: str) -> frozenset[str]:
    """The words one space-free pattern piece names (empty when it is not a short finite list)."""
    if "<" in piece or "~" in piece:
        return frozenset()
    try:
        regex = re.compile(piece)
    except re.error:
        return frozenset()
    tree = parse_regex(regex)
    strings = _strings(tree) if tree is not None else None
    if not strings:
        return frozenset()
    return frozenset(s for s in strings if len(s) >= _MIN_LENGTH and _WORD.fullmatch(s))


def pattern_words(patterns: Iterable[str]) -> frozenset[str]:
    """The words named by any piece of any of the patterns (a pattern's pieces are split at its spaces)."""
    found: set[str] = set()
    for pattern in patterns:
        for piece in pattern.split():
            found |= piece_words(piece)
    return frozenset(found)
