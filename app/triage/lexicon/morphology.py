"""The morphology layer: lexicon entries written as lemmas match their inflections.

A token is known by its forms: itself, its Dutch and English lemma (`simplemma`, whose data ships inside
the package: no download at run time) and any irregular lemma the lexicon adds. An entry matches

- a token that has it as a form ("brak" -> breken, "gestolen" -> stelen, "robbed" -> rob);
- as a separable verb, "breken + in": a form of the verb with its particle in the same clause
  ("brak ... in", "uit de hand getrokken"), or the joined lemma ("inbreken", "ingebroken");
- as the head of a compound ("tuinschuur" -> schuur, "opengebroken" -> breken), not after a verb prefix
  ("ontbreken" is no "breken");
- a long word misspelt within a small edit distance ("inbrekrs" -> inbreker);
- several words ("op de grond"): consecutive tokens, each having the word as a form.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import simplemma
from rapidfuzz.distance import Levenshtein

from app.triage.lexicon.document import Doc

_CLAUSE_WORDS = frozenset({"maar", "but", "toen", "then", "daarna", "omdat", "because"})


@lru_cache(maxsize=65536)
def lemma_forms(token: str) -> frozenset[str]:
    """The token and its Dutch and English lemmas."""
    return frozenset((token, simplemma.lemmatize(token, lang="nl"), simplemma.lemmatize(token, lang="en")))


@dataclass(frozen=True)
class LemmaEntry:
    """One entry: a lemma ("stelen"), a separable verb ("breken + in") or several words ("op de grond")."""

    words: tuple[str, ...]
    particle: str | None
    source: str
    joined: str | None  # a separable verb written as one word ("inbreken")

    @classmethod
    def parse(cls, source: str) -> LemmaEntry:
        head, _, tail = source.partition("+")
        words = tuple(head.split())
        particle = tail.strip() or None
        if not words or (particle is not None and " " in particle):
            raise ValueError(f"cannot read lemma entry {source!r}")
        joined = particle + words[0] if particle and len(words) == 1 else None
        return cls(words, particle, source, joined)

    @property
    def triggers(self) -> tuple[str, ...]:
        """The words one of which a token must match for the entry to match there."""
        return (self.words[0],) if self.joined is None else (self.words[0], self.joined)


class EntryGroup:
    """Lemma entries in their written order, indexed by trigger word so that a text is only tried against
    the entries one of its words can start."""

    def __init__(self, entries: Iterable[LemmaEntry]) -> None:
        self.entries = tuple(entries)
        index: dict[str, list[int]] = {}
        for position, entry in enumerate(self.entries):
            for word in entry.triggers:
                index.setdefault(word, []).append(position)
        self.index = {word: tuple(positions) for word, positions in index.items()}

    def candidates(self, keys: frozenset[str]) -> list[LemmaEntry]:
        if not keys:
            return []
        found = {p for key in keys for p in self.index.get(key, ())}
        return [self.entries[p] for p in sorted(found)]

    def __bool__(self) -> bool:
        return bool(self.entries)


class Morphology:
    """The entry words of a lexicon and, per token, which of them it matches (cached: tokens recur)."""

    def __init__(self, vocabulary: Iterable[str], extra_lemmas: Mapping[str, str],
                 blocked_prefixes: Iterable[str], fuzzy_min_length: int = 7, particle_window: int = 8) -> None:
        self.vocabulary = frozenset(vocabulary)
        self.extra_lemmas = dict(extra_lemmas)
        self.blocked_prefixes = frozenset(blocked_prefixes)
        self.fuzzy_min_length = fuzzy_min_length
        self.particle_window = particle_window
        self._long = sorted(w for w in self.vocabulary if len(w) >= fuzzy_min_length)
        self._heads = sorted(w for w in self.vocabulary if len(w) >= 3)
        self._cache: dict[str, frozenset[str]] = {}

    def forms(self, token: str) -> frozenset[str]:
        extra = self.extra_lemmas.get(token)
        found = lemma_forms(token)
        return found | {extra} if extra else found

    def is_head(self, form: str, word: str) -> bool:
        """`word` is the last part of the compound `form` ("tuinschuur" / "schuur")."""
        if len(form) - len(word) < 3 or not form.endswith(word):
            return False
        return form[: -len(word)] not in self.blocked_prefixes

    @staticmethod
    def _near(token: str, word: str) -> bool:
        """Within one edit of a long word, two of a very long one (a plural ending counts as the word)."""
        allowed = 2 if len(word) >= 11 else 1
        return abs(len(word) - len(token)) <= allowed and \
            Levenshtein.distance(token, word, score_cutoff=allowed) <= allowed

    def matches(self, token: str) -> frozenset[str]:
        """The vocabulary words this token is a form, a compound or a near-misspelling of."""
        found = self._cache.get(token)
        if found is None:
            found = self._matches(token)
            if len(self._cache) < 100_000:
                self._cache[token] = found
        return found

    def _matches(self, token: str) -> frozenset[str]:
        forms = self.forms(token)
        found = {f for f in forms if f in self.vocabulary}
        found.update(w for w in self._heads if any(self.is_head(f, w) for f in forms))
        if len(token) >= self.fuzzy_min_length:
            for word in self._long:
                if self._near(token, word) or any(self._near(token, word + end) for end in ("s", "en")):
                    found.add(word)
        return frozenset(found)


class LemmaDoc:
    """A Doc's tokens with the vocabulary words each matches and clause numbers, for lemma entries."""

    def __init__(self, doc: Doc, morphology: Morphology) -> None:
        self.doc = doc
        self.morphology = morphology
        self.tokens = doc.tokens
        self.keys = [morphology.matches(t) for t in doc.tokens]
        self.all_keys: frozenset[str] = frozenset().union(*self.keys)
        self.clause = _clauses(doc)

    def find(self, entry: LemmaEntry) -> list[int]:
        """Token indexes where the entry matches (its first word)."""
        words = entry.words
        joined = entry.joined
        if words[0] not in self.all_keys and (joined is None or joined not in self.all_keys):
            return []
        hits: list[int] = []
        keys = self.keys
        n = len(self.tokens)
        for i in range(n):
            if joined is not None and joined in keys[i]:
                hits.append(i)
                continue
            if i + len(words) > n or not all(w in keys[i + k] for k, w in enumerate(words)):
                continue
            if entry.particle is None or self._particle_near(i, entry.particle):
                hits.append(i)
        return hits

    def _particle_near(self, i: int, particle: str) -> bool:
        """The particle in the verb's clause: after it ("brak ... in"), or before a participle at the end
        ("uit de hand getrokken")."""
        window = self.morphology.particle_window
        return any(self.tokens[j] == particle and self.clause[j] == self.clause[i] and j != i
                   for j in range(max(0, i - window), min(len(self.tokens), i + 1 + window)))

    def negated(self, i: int, negators: frozenset[str], window: int) -> bool:
        return any(self.tokens[j] in negators and self.clause[j] == self.clause[i]
                   for j in range(max(0, i - window), i))

    def first_live(self, group: EntryGroup, negators: frozenset[str],
                   window: int) -> tuple[LemmaEntry, int] | None:
        """The first entry of the group that occurs not negated, with where."""
        for entry in group.candidates(self.all_keys):
            for i in self.find(entry):
                if not self.negated(i, negators, window):
                    return entry, i
        return None


def _clauses(doc: Doc) -> list[int]:
    """A clause number per token: a new clause at every sentence, comma, "maar" or "en toen"."""
    out: list[int] = []
    clause = 0
    text = doc.text
    for i, token in enumerate(doc.tokens):
        if i > 0:
            between = text[doc.token_ends[i - 1]:doc.token_starts[i]]
            sentence_changed = doc.token_sentence[i] != doc.token_sentence[i - 1]
            if sentence_changed or "," in between or token in _CLAUSE_WORDS:
                clause += 1
        out.append(clause)
    return out


def parse_entries(values: Sequence[str]) -> EntryGroup:
    return EntryGroup(LemmaEntry.parse(v) for v in values)
