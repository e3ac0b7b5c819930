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

The regex patterns (word classes, offence rules, most signals) get the same layer through the lemma view
(`lemma_view`): the report written once more with every token as the one form the lexicon is most likely to
name, token for token, so that a pattern matches the text or its view. "trapte" is written "trappen",
"tuinschuren" "schuren", "inbrekrs" "inbrekers", and "sloegen" in "sloegen de ruit in" "inslaan".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import simplemma
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from app.triage.lexicon.document import Doc, Span
from app.triage.lexicon.match import Matcher

_CLAUSE_WORDS = frozenset({"maar", "but", "toen", "then", "daarna", "omdat", "because"})
_VIEW_TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
_MIN_NAMED_CHANGE = 6  # a word the lexicon names is written as its lemma only from this length ("loopt" stays)
_MIN_PART = 3  # a compound's head and the part in front of it have at least this many letters


@lru_cache(maxsize=65536)
def lemma_forms(token: str) -> frozenset[str]:
    """The token and its Dutch and English lemmas."""
    return frozenset((token, simplemma.lemmatize(token, lang="nl"), simplemma.lemmatize(token, lang="en")))


@lru_cache(maxsize=65536)
def main_lemma(token: str) -> str:
    """The one lemma of a token: Dutch when simplemma knows one, else English, else the token itself."""
    for lang in ("nl", "en"):
        lemma = simplemma.lemmatize(token, lang=lang).lower()
        if lemma != token and _VIEW_TOKEN.fullmatch(lemma):
            return lemma
    return token


@lru_cache(maxsize=65536)
def _is_modifier(part: str) -> bool:
    """The front part of a compound (a Dutch way of making words): a Dutch word, with or without a linking
    -s-, -e- or -en- ("fietsenschuur")."""
    return any(is_dutch_word(part[: len(part) - len(link)]) for link in ("", "s", "e", "en") if part.endswith(link))


@lru_cache(maxsize=65536)
def _is_double_modifier(part: str) -> bool:
    """Two Dutch words of four letters or more ("garage|deur" in "garagedeurslot")."""
    return any(is_dutch_word(part[:cut]) and _is_modifier(part[cut:]) for cut in range(4, len(part) - 3))


@lru_cache(maxsize=65536)
def is_dutch_word(token: str) -> bool:
    return simplemma.is_known(token, lang="nl")


@lru_cache(maxsize=65536)
def is_known_word(token: str) -> bool:
    """simplemma has the token in its Dutch or English word list (so it is no misspelling)."""
    return is_dutch_word(token) or simplemma.is_known(token, lang="en")


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


@dataclass(frozen=True)
class MorphologySettings:
    """`morphology:` of config/triage.yaml (defaults in lexicon/schema.py, MorphologyModel)."""

    extra_lemmas: Mapping[str, str]
    compound_blocked_prefixes: frozenset[str]
    fuzzy_min_length: int
    particle_window: int
    particles: frozenset[str]
    determiners: frozenset[str]


class Morphology:
    """The entry words of a lexicon and, per token, which of them it matches (cached: tokens recur).

    `vocabulary` holds the words of the lemma entries; `view_words` every word the lexicon names (those and
    the words of its patterns), towards which the lemma view writes compounds and misspellings.
    """

    def __init__(self, vocabulary: Iterable[str], settings: MorphologySettings,
                 view_words: Iterable[str] = ()) -> None:
        self.vocabulary = frozenset(vocabulary)
        self.settings = settings
        self.extra_lemmas = dict(settings.extra_lemmas)
        self.blocked_prefixes = settings.compound_blocked_prefixes
        self.fuzzy_min_length = settings.fuzzy_min_length
        self.particle_window = settings.particle_window
        self.view_words = frozenset(view_words) | self.vocabulary
        self._long = sorted(w for w in self.vocabulary if len(w) >= self.fuzzy_min_length)
        self._heads = sorted(w for w in self.vocabulary if len(w) >= _MIN_PART)
        self._view_long = sorted(w for w in self.view_words if len(w) >= self.fuzzy_min_length - 1)
        self._cache: dict[str, frozenset[str]] = {}
        self._view_cache: dict[str, str] = {}

    def forms(self, token: str) -> frozenset[str]:
        extra = self.extra_lemmas.get(token)
        found = lemma_forms(token)
        return found | {extra} if extra else found

    def is_head(self, form: str, word: str) -> bool:
        """`word` is the last part of the compound `form` ("tuinschuur" / "schuur"; not "flames" / "mes")."""
        if len(form) - len(word) < _MIN_PART or not form.endswith(word):
            return False
        modifier = form[: -len(word)]
        return modifier not in self.blocked_prefixes and (_is_modifier(modifier) or _is_double_modifier(modifier))

    def lemma(self, token: str) -> str:
        return self.extra_lemmas.get(token) or main_lemma(token)

    def view_form(self, token: str) -> str:
        """How the lemma view writes the token. A word the lexicon names stays as it is (the patterns see it
        already); any other is written as the lexicon word it stands for, where there is one: its lemma, the
        word a long misspelling is near, or the head of a compound; else as it is (a form no pattern names
        cannot make one match)."""
        found = self._view_cache.get(token)
        if found is None:
            found = self._view_form(token)
            if len(self._view_cache) < 100_000:
                self._view_cache[token] = found
        return found

    def _view_form(self, token: str) -> str:
        lemma = self.lemma(token)
        words = self.view_words
        if lemma in words and (token not in words or len(token) >= _MIN_NAMED_CHANGE):
            return lemma
        if token in words:
            return token
        if len(token) >= self.fuzzy_min_length and not is_known_word(token):
            near = self._view_near(token)
            if near is not None:
                return near
        return self._view_head(lemma) or self._view_head(token) or token

    def _view_head(self, form: str) -> str | None:
        """The longest lexicon word the compound `form` ends in, after a part that is a word of its own and
        no verb prefix ("etalage|ruit", not "etalag|eruit")."""
        cuts = [cut for cut in range(_MIN_PART, len(form) - _MIN_PART + 1)
                if form[cut:] in self.view_words and form[:cut] not in self.blocked_prefixes]
        for modifier in (_is_modifier, _is_double_modifier):
            for cut in cuts:
                if modifier(form[:cut]):
                    return form[cut:]
        return None

    def _view_near(self, token: str) -> str | None:
        allowed = 2 if len(token) >= 11 else 1
        best = process.extractOne(token, self._view_long, scorer=Levenshtein.distance, score_cutoff=allowed)
        return best[0] if best is not None else None

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
    """A Doc's tokens with the vocabulary words each matches and clause numbers, for lemma entries; and its
    lemma view, for patterns."""

    def __init__(self, doc: Doc, morphology: Morphology) -> None:
        self.doc = doc
        self.morphology = morphology
        self.tokens = doc.tokens
        self.keys = [morphology.matches(t) for t in doc.tokens]
        self.all_keys: frozenset[str] = frozenset().union(*self.keys)
        self.clause = _clauses(doc)
        self.view = lemma_view(doc, self.clause, morphology)
        self.view_starts = self.view.start_keys if self.view is not None else frozenset()

    def spans(self, matcher: Matcher) -> list[Span]:
        """Where the matcher matches the text or its lemma view (a view span named by the text's words).

        In the view only rules that can begin at a word the view changed are run: a match that begins at an
        unchanged word and reaches a changed one further on is not looked for (that keeps the layer cheap)."""
        found = matcher.spans(self.doc)
        view = self.view
        if view is None or (matcher.any_gate is not None and matcher.any_gate.isdisjoint(self.view_starts)):
            return found
        in_view = matcher.spans_starting_in(view, self.view_starts)
        if not in_view:
            return found
        extra = view_only_spans(self.doc, found, in_view)
        return found + extra if extra else found

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


def view_only_spans(doc: Doc, found: Sequence[Span], in_view: Sequence[Span]) -> list[Span]:
    """The view's spans that the text's own did not cover, with the text's words."""
    seen = {(s.start, s.end) for s in found}
    text = doc.text
    return [Span(s.start, s.end, s.sentence, text[doc.token_starts[s.start]:doc.token_ends[s.end]])
            for s in in_view if (s.start, s.end) not in seen]


def lemma_view(doc: Doc, clause: Sequence[int], morphology: Morphology) -> Doc | None:
    """The text once more with every token in its view form (None when that changes nothing): the same
    tokens at the same indexes, with the same punctuation between them."""
    tokens = doc.tokens
    forms = [morphology.view_form(t) for t in tokens]
    _join_separable_verbs(tokens, clause, forms, morphology)
    return None if forms == tokens else doc.view(forms)


def _join_separable_verbs(tokens: Sequence[str], clause: Sequence[int], forms: list[str],
                          morphology: Morphology) -> None:
    """"sloegen de ruit in": the verb is written as particle + lemma ("inslaan") when the lexicon names that
    and the particle ends a phrase (not "in de tuin", "in elkaar"), within the window, in one clause."""
    settings = morphology.settings
    n = len(tokens)
    for j, particle in enumerate(tokens):
        if particle not in settings.particles or j == 0:
            continue
        if j + 1 < n and clause[j + 1] == clause[j] and tokens[j + 1] in settings.determiners:
            continue
        for i in range(j - 1, max(-1, j - 1 - settings.particle_window), -1):
            if clause[i] != clause[j]:
                break
            joined = particle + morphology.lemma(tokens[i])
            if joined in morphology.view_words:
                forms[i] = joined
                break


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
