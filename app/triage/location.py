"""Where a report happens: coordinates, a street in the text (fuzzy, chat spelling), or the group's wijk."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from rapidfuzz import fuzz, process

from app.triage.lexicon import Doc, normalise

LocationMethod = Literal["coordinates", "street", "source_wijk", "none"]
_HOUSE_NUMBER = re.compile(r"^\d{1,4}[a-z]?$")
_AFTER_HOUSE_NUMBER = frozenset({
    "en", "bij", "op", "in", "is", "staat", "stond", "zijn", "wordt", "werd", "heeft", "aan", "er",
    "ter", "te", "tegenover", "naast", "achter", "voor", "and", "at",
})
_COMPACT = re.compile(r"[^a-z0-9]")
_PLAIN_TOKENS = re.compile(r"[a-z0-9' -]*")


@dataclass(frozen=True)
class LocationMatch:
    wijk: str | None
    lat: float | None
    lon: float | None
    method: LocationMethod
    confidence: float
    street: str | None = None
    house_number: str | None = None


@dataclass(frozen=True)
class Street:
    """One gazetteer row: a street name inside one wijk, with a point on it (WGS84)."""

    name: str
    wijkcode: str
    lat: float
    lon: float


@dataclass(frozen=True)
class StreetEntry:
    key: str
    name: str
    points: tuple[Street, ...]
    generic: bool


@dataclass(frozen=True, eq=False)
class StreetIndex:
    entries: Mapping[str, StreetEntry]
    by_initial: Mapping[str, tuple[str, ...]]
    max_tokens: int
    stopwords: frozenset[str]
    direction_words: frozenset[str]
    context_words: frozenset[str]
    wijk_gemeente: Mapping[str, str]
    gemeente_by_name: Mapping[str, str]
    place_tokens: Mapping[str, str]
    known_place_words: frozenset[str]
    unknown_street: re.Pattern[str] | None
    generic_place_nouns: frozenset[str]
    by_initial_length: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    outside_places: re.Pattern[str] | None = None  # well-known places outside every pilot wijk

    @cached_property
    def initials(self) -> frozenset[str]:
        """The first two letters of every street key."""
        return frozenset(key[:2] for key in self.entries)

    @cached_property
    def longest_key(self) -> int:
        """No key longer than this is found, exactly or fuzzily."""
        return max([len(key) for key in self.entries] + [n for _, n in self.by_initial_length], default=0)

    def candidates(self, key: str) -> tuple[str, ...]:
        """Non-generic street keys that start with the same two letters (chat typos rarely hit the first
        letters) and whose length could still reach the cutoff."""
        return self.by_initial_length.get((key[:2], len(key)), ())


def compact(text: str) -> str:
    return _COMPACT.sub("", normalise(text))


def build_street_index(
    streets: Iterable[Street],
    wijken: Iterable[tuple[str, str, str, str]],
    settings: Mapping[str, object],
) -> StreetIndex:
    """`wijken` are (code, name, gemeentecode, gemeentenaam) tuples."""

    def words(name: str) -> list[str]:
        value = settings.get(name) or []
        return [normalise(str(w)) for w in value] if isinstance(value, list) else []

    generic_names = set(words("generic_street_names"))
    grouped: dict[str, list[Street]] = {}
    names: dict[str, str] = {}
    max_tokens = 1
    for street in streets:
        key = compact(street.name)
        if not key:
            continue
        grouped.setdefault(key, []).append(street)
        names.setdefault(key, street.name)
        max_tokens = max(max_tokens, len(normalise(street.name).split()))
    entries = {key: StreetEntry(key, names[key], tuple(points), key in generic_names)
               for key, points in grouped.items()}
    by_initial: dict[str, list[str]] = {}
    by_initial_length: dict[tuple[str, int], list[str]] = {}
    for key, entry in entries.items():
        if not entry.generic:
            by_initial.setdefault(key[0], []).append(key)
            by_initial_length.setdefault((key[:2], len(key)), []).append(key)
    wijk_list = list(wijken)
    wijk_gemeente = {code: gm for code, _, gm, _ in wijk_list}
    gemeente_by_name = {normalise(gname): gm for _, _, gm, gname in wijk_list}
    token_owner: dict[str, set[str]] = {}
    for code, name, _, _ in wijk_list:
        for token in re.split(r"[^a-z0-9-]+", normalise(name)):
            if len(token) >= 5 and token not in generic_names:
                token_owner.setdefault(token, set()).add(code)
    place_tokens = {tok: next(iter(codes)) for tok, codes in token_owner.items() if len(codes) == 1}
    known = set(token_owner) | set(gemeente_by_name) | set(words("unknown_place_ignore"))
    known |= {w for key in gemeente_by_name for w in key.split()}
    known |= {normalise(e.name) for e in entries.values()} | set(entries)
    suffixes = words("street_suffixes")
    unknown_street = None
    if suffixes:
        unknown_street = re.compile(
            r"(?<!\w)(?:op|in|aan|bij|naar|richting|on|at|near|langs|vanaf|via|hoek)\s+(?:de\s+|het\s+|the\s+)?"
            r"(?P<name>[a-z][a-z'-]{2,}(?:" + "|".join(map(re.escape, suffixes)) + r"))(?!\w)"
        )
    outside = words("outside_places")
    outside_places = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(outside, key=len, reverse=True))
        + r")(?!\w)") if outside else None
    return StreetIndex(
        outside_places=outside_places,
        entries=entries,
        by_initial={k: tuple(v) for k, v in by_initial.items()},
        max_tokens=max_tokens + 1,
        stopwords=frozenset(words("street_stopwords")),
        direction_words=frozenset(words("direction_words")),
        context_words=frozenset(words("street_context_words")),
        wijk_gemeente=wijk_gemeente,
        gemeente_by_name=gemeente_by_name,
        place_tokens=place_tokens,
        known_place_words=frozenset(known),
        unknown_street=unknown_street,
        generic_place_nouns=frozenset(words("generic_place_nouns")),
        by_initial_length=_length_windows(by_initial_length),
    )


def _length_windows(exact: Mapping[tuple[str, int], list[str]]) -> dict[tuple[str, int], tuple[str, ...]]:
    """(first two letters, n-gram length) -> street keys whose length could still reach a ratio of 85."""
    out: dict[tuple[str, int], tuple[str, ...]] = {}
    longest = max((length for _, length in exact), default=0)
    for initial in {ini for ini, _ in exact}:
        for n in range(6, int(longest / 0.74) + 2):
            low, high = int(n * 0.74), int(n / 0.74) + 1
            keys = tuple(k for length in range(low, high + 1) for k in exact.get((initial, length), ()))
            if keys:
                out[(initial, n)] = keys
    return out


@dataclass(frozen=True)
class StreetHit:
    entry: StreetEntry
    score: float
    start: int
    end: int
    direction: bool
    house_number: str | None


def _threshold(length: int) -> float:
    if length <= 7:
        return 90.0
    if length <= 10:
        return 88.0
    return 85.0


def _house_number(doc: Doc, start: int, end: int) -> str | None:
    """"kievitlaan 8", "kievitlaan 8a," or "nr 8" near the street; not "meergouw 2 schuren"."""
    tokens = doc.tokens
    nxt = end + 1
    same_sentence = nxt < len(tokens) and doc.token_sentence[nxt] == doc.token_sentence[end]
    if same_sentence and _HOUSE_NUMBER.match(tokens[nxt]):
        after = doc.text[doc.token_ends[nxt]:].lstrip(" ")[:1]
        following = tokens[nxt + 1] if nxt + 1 < len(tokens) else ""
        if after in ("", ",", ".", "!", "?", ":", ";", ")") or following in _AFTER_HOUSE_NUMBER:
            return tokens[nxt]
    sentence = doc.token_sentence[start]
    for i in range(max(0, start - 5), min(len(tokens) - 1, end + 8)):
        if tokens[i] in ("nr", "nummer", "no", "huisnummer", "number") and doc.token_sentence[i] == sentence \
                and _HOUSE_NUMBER.match(tokens[i + 1]):
            return tokens[i + 1]
    return None


def _compacts(tokens: list[str]) -> list[str]:
    """compact() of every token; tokens of a normalised text only need their ' and - removed."""
    joined = " ".join(tokens)
    if tokens and joined.count(" ") == len(tokens) - 1 and _PLAIN_TOKENS.fullmatch(joined):
        return joined.replace("-", "").replace("'", "").split(" ")
    return [_COMPACT.sub("", t) for t in tokens]


def find_streets(doc: Doc, index: StreetIndex, source_gemeente: str | None) -> list[StreetHit]:
    """All gazetteer streets named in the text, best non-overlapping matches in text order."""
    tokens = doc.tokens
    compacts = _compacts(tokens)
    hits: list[StreetHit] = []
    n_tokens = len(tokens)
    stop = index.stopwords
    sentences = doc.token_sentence
    initials = index.initials
    longest = index.longest_key
    for i in range(n_tokens):
        if tokens[i] in stop:
            continue
        key = ""
        for j in range(i, min(n_tokens, i + index.max_tokens)):
            if sentences[j] != sentences[i]:
                break
            key += compacts[j]
            if len(key) > longest or (len(key) >= 2 and key[:2] not in initials):
                break  # longer keys cannot be found either
            if j > i and tokens[j] in stop:
                continue
            if not key or key.isdigit():
                continue
            entry = index.entries.get(key)
            score = 100.0
            if entry is None:
                if len(key) < 6:
                    continue
                candidates = index.candidates(key)
                if not candidates:
                    continue
                cutoff = _threshold(len(key))
                best = process.extractOne(key, candidates, scorer=fuzz.ratio, score_cutoff=cutoff)
                if best is None:
                    continue
                entry = index.entries[best[0]]
                score = float(best[1])
            elif entry.generic and not _generic_ok(doc, i, j, entry, index, source_gemeente):
                continue
            direction = i > 0 and tokens[i - 1] in index.direction_words
            hits.append(StreetHit(entry, score, i, j, direction, _house_number(doc, i, j)))
    hits.sort(key=lambda h: (-h.score, -(h.end - h.start), h.start))
    chosen: list[StreetHit] = []
    for hit in hits:
        if all(hit.end < c.start or hit.start > c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def _generic_ok(doc: Doc, i: int, j: int, entry: StreetEntry, index: StreetIndex,
                source_gemeente: str | None) -> bool:
    """Everyday words that are also street names ("markt") count only as a place and only nearby."""
    in_context = i == 0 or doc.tokens[i - 1] in index.context_words or doc.text[doc.token_ends[j]:][:1] == ":"
    if not in_context:
        return False
    if source_gemeente is None:
        return True
    return any(index.wijk_gemeente.get(p.wijkcode) == source_gemeente for p in entry.points)


def _pick_point(entry: StreetEntry, index: StreetIndex, source_wijk: str | None,
                gemeente: str | None) -> tuple[Street | None, float]:
    points = entry.points
    if len(points) == 1:
        return points[0], 1.0
    for p in points:
        if source_wijk is not None and p.wijkcode == source_wijk:
            return p, 0.95
    if gemeente is not None:
        same = [p for p in points if index.wijk_gemeente.get(p.wijkcode) == gemeente]
        if same:
            return same[0], 0.85 if len(same) == 1 else 0.6
    return None, 0.3


def resolve_location(
    doc: Doc,
    index: StreetIndex,
    wijk_at: Callable[[float, float], str | None],
    *,
    source_wijk: str | None,
    lat: float | None,
    lon: float | None,
    street: str | None = None,
    house_number: str | None = None,
    place: str | None = None,
    raw_text: str = "",
) -> LocationMatch:
    """Coordinates > a street (given or in the text) > a wijk name > an unknown place > the group's wijk."""
    if lat is not None and lon is not None:
        return LocationMatch(wijk_at(lat, lon), lat, lon, "coordinates", 1.0)
    source_gemeente = index.wijk_gemeente.get(source_wijk) if source_wijk else None
    gemeente = source_gemeente
    if place:
        place_key = normalise(place)
        gm = index.gemeente_by_name.get(place_key) or next(
            (g for name, g in index.gemeente_by_name.items() if name in place_key or place_key in name), None)
        place_wijk = index.place_tokens.get(place_key)
        if place_wijk is not None:
            gemeente = index.wijk_gemeente.get(place_wijk)
        elif gm is not None:
            gemeente = gm
        else:
            return LocationMatch(None, None, None, "none", 0.6, street)

    if street:
        match = _resolve_given_street(street, index, source_wijk, gemeente, house_number)
        if match is not None:
            return match

    hits = find_streets(doc, index, gemeente)
    if hits:
        primary = next((h for h in hits if not h.direction), hits[0])
        point, certainty = _pick_point(primary.entry, index, source_wijk, gemeente)
        confidence = round(certainty * primary.score / 100.0, 3)
        number = house_number or primary.house_number
        if point is None:
            return LocationMatch(None, None, None, "street", confidence, primary.entry.name, number)
        return LocationMatch(point.wijkcode, point.lat, point.lon, "street", confidence, point.name, number)

    for token in doc.tokens:
        wijk = index.place_tokens.get(token)
        if wijk is not None:
            return LocationMatch(wijk, None, None, "street", 0.7)

    unknown = _unknown_place(doc, raw_text, index)
    if unknown is not None:
        return LocationMatch(None, None, None, "none", 0.5, unknown)

    if source_wijk:
        return LocationMatch(source_wijk, None, None, "source_wijk", 0.5)
    return LocationMatch(None, None, None, "none", 0.0)


def _resolve_given_street(street: str, index: StreetIndex, source_wijk: str | None, gemeente: str | None,
                          house_number: str | None) -> LocationMatch | None:
    key = compact(street)
    if not key:
        return None
    entry = index.entries.get(key)
    score = 100.0
    if entry is None:
        best = process.extractOne(key, list(index.entries), scorer=fuzz.ratio, score_cutoff=80)
        if best is None:
            return LocationMatch(None, None, None, "none", 0.5, street, house_number)
        entry = index.entries[best[0]]
        score = float(best[1])
    point, certainty = _pick_point(entry, index, source_wijk, gemeente)
    confidence = round(certainty * score / 100.0, 3)
    if point is None:
        return LocationMatch(None, None, None, "street", confidence, entry.name, house_number)
    return LocationMatch(point.wijkcode, point.lat, point.lon, "street", confidence, point.name, house_number)


_CAPITALISED_PLACE = re.compile(r"(?<![.!?:]\s)(?<=\s)(?:in|te|uit)\s+(?P<place>[A-Z][a-zA-Z'-]{3,})")


def _unknown_place(doc: Doc, raw_text: str, index: StreetIndex) -> str | None:
    """A street-like name not in the gazetteer, a well-known place outside the pilot wijken, or "in <Town>"
    for a town we do not know."""
    if index.outside_places is not None:
        found = index.outside_places.search(doc.text)
        if found is not None:
            return found.group().title()
    if index.unknown_street is not None:
        for m in index.unknown_street.finditer(doc.text):
            name = m.group("name")
            if len(name) < 7 or name in index.generic_place_nouns:
                continue
            if any(name.endswith(g) for g in index.generic_place_nouns if len(g) >= 8):
                continue
            key = _COMPACT.sub("", name)
            near_known = process.extractOne(key, list(index.entries), scorer=fuzz.ratio,
                                            score_cutoff=_threshold(len(key)) - 4)
            if near_known is not None:  # a misspelling of a known street, not an unknown one
                continue
            return name.title()
    for m in _CAPITALISED_PLACE.finditer(raw_text):
        place = normalise(m.group("place"))
        parts = [p for p in re.split(r"[-\s]+", place) if p]
        if not parts or any(p in index.known_place_words for p in parts):
            continue
        return m.group("place")
    return None


def street_points_from_rows(rows: Sequence[Mapping[str, object]]) -> list[Street]:
    """Rows with street, wijkcode, lat, lon (CSV or database)."""
    out = []
    for row in rows:
        lat, lon = row["lat"], row["lon"]
        out.append(Street(str(row["street"]).strip(), str(row["wijkcode"]).strip(),
                               float(lat) if isinstance(lat, int | float | str) else 0.0,
                               float(lon) if isinstance(lon, int | float | str) else 0.0))
    return out
