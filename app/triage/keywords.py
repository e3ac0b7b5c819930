"""Fuzzy-ish keyword matching for wanted signalementen ("geel hesje" ~ "gele hesjes")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from app.triage.lexicon import normalise

_SUFFIXES = ("tjes", "jes", "tje", "je", "en", "es", "s", "e")


def stem(word: str) -> str:
    """A crude Dutch stem: strips diminutive/plural/adjective endings, undoubles letters."""
    w = word.replace("'", "")
    for suffix in _SUFFIXES:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            break
    if len(w) >= 4 and w[-1] == w[-2] and w[-1] not in "aeiou":
        w = w[:-1]
    if len(w) >= 3 and w[-2] == w[-3] and w[-2] in "aeou" and w[-1] not in "aeiou":
        w = w[:-2] + w[-1]
    if w.endswith("z"):
        w = w[:-1] + "s"
    elif w.endswith("v"):
        w = w[:-1] + "f"
    return w


@dataclass(frozen=True)
class KeywordPattern:
    """One keyword of a signalement and its spelling alternatives, as (raw, stem) token tuples."""

    keyword: str
    alternatives: tuple[tuple[tuple[str, str], ...], ...]

    @property
    def multiword(self) -> bool:
        return len(self.alternatives[0]) > 1


def compile_keyword(keyword: str, synonyms: Mapping[str, Sequence[str]]) -> KeywordPattern:
    key = normalise(keyword)
    variants = [key, *synonyms.get(key, ())]
    alternatives = tuple(
        tuple((tok, stem(tok)) for tok in variant.split()) for variant in variants
    )
    return KeywordPattern(keyword, tuple(a for a in alternatives if a))


def token_matches(token: tuple[str, str], key: tuple[str, str]) -> bool:
    t_raw, t_stem = token
    k_raw, k_stem = key
    if t_raw == k_raw or t_stem == k_stem:
        return True
    compound_head = t_raw.endswith(k_raw) or t_stem.endswith(k_stem)
    if len(k_raw) >= 3 and compound_head and len(t_raw) - len(k_raw) <= 9:
        return True
    if len(k_stem) >= 6 and k_stem in t_raw:
        return True
    return len(k_raw) >= 5 and len(t_raw) >= 5 and abs(len(k_raw) - len(t_raw)) <= 2 \
        and fuzz.ratio(k_raw, t_raw) >= 85


def _may_occur(key: tuple[str, str], text: str, long_tokens: Sequence[str]) -> bool:
    """Cheap necessary condition for token_matches() on some token of the text."""
    k_raw, k_stem = key
    if k_stem in text or k_raw in text:
        return True
    if len(k_raw) < 5:
        return False
    return process.extractOne(k_raw, long_tokens, scorer=fuzz.ratio, score_cutoff=85) is not None


def find_keyword(tokens: Sequence[tuple[str, str]], sentences: Sequence[int],
                 pattern: KeywordPattern, text: str | None = None,
                 long_tokens: Sequence[str] | None = None) -> bool:
    """Does any alternative of the keyword occur (all its words close together, in one sentence)?"""
    haystack = text if text is not None else " ".join(t for t, _ in tokens)
    if long_tokens is None:
        long_tokens = [t for t, _ in tokens if len(t) >= 5]
    for alternative in pattern.alternatives:
        if not all(_may_occur(key, haystack, long_tokens) for key in alternative):
            continue
        positions = [[i for i, tok in enumerate(tokens) if token_matches(tok, key)] for key in alternative]
        if any(not p for p in positions):
            continue
        if len(alternative) == 1:
            return True
        span = len(alternative) + 2
        for first in positions[0]:
            if all(any(abs(p - first) <= span and sentences[p] == sentences[first] for p in plist)
                   for plist in positions[1:]):
                return True
    return False
