"""Text analysis: offence, behaviour, description, appearance, time, noise and category of one report.

Pure functions over a compiled lexicon (config/triage.yaml); the words live there, the rules of
domain.md ("How to decide") live here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.triage.geo import AMSTERDAM, minus_minutes, to_utc_minutes
from app.triage.lexicon import CompiledLexicon, Doc, Matcher, Span
from app.triage.lexicon.morphology import LemmaDoc

Category = str  # signalement | delict | verdachte_situatie | informatie | vermissing | overig


@dataclass(frozen=True)
class OffenceHit:
    offence: str
    level: str  # "crime" | "behaviour"
    phrase: str


@dataclass(frozen=True)
class TimeInfo:
    now: str | None            # the now-word that was found ("nu", "zojuist", ...)
    minutes_ago: float | None  # from "10 min geleden", "om 21:30" (relative to received_at)
    past: str | None           # "gisteren", "vorige week", "vannacht" received in the morning, ...
    habitual: str | None       # "regelmatig", "de laatste tijd"
    completed: bool            # "is gestolen", "zijn opengebroken" (done, time unknown)
    event_time: datetime       # best estimate of when it happened (Europe/Amsterdam)
    discovered: bool = False   # "kom net thuis", "zojuist ontdekt": found now, the event's time unknown
    from_range: bool = False   # minutes_ago is the later end of "tussen 2 en 3"


@dataclass(frozen=True)
class TextAnalysis:
    doc: Doc
    offence: str | None
    offence_level: str | None
    offence_phrase: str | None
    candidates: tuple[OffenceHit, ...]
    negated: tuple[str, ...]
    behaviour: tuple[str, ...]
    suspicion: bool
    description: tuple[str, ...]
    appearance: tuple[str, ...]
    appearance_only: bool
    missing_person: bool
    missing_child: bool
    missing_vulnerable: bool
    actor: bool
    pronoun: bool
    no_suspect: bool
    called_112: bool
    police_info: bool
    general_info: bool
    calloff: str | None
    noise: str | None  # why it is not a police matter, None when it is
    time: TimeInfo
    in_progress: bool
    recent: bool
    category: Category
    floors: tuple[tuple[str, str], ...] = ()  # (reason code, the words) of each P1 safety floor found
    unrecognised: bool = False  # non-empty text the engine cannot place: a human judges it
    assumed_now: bool = False  # no time named: taken as happening now (the higher urgency when unsure)
    assumed_recent: bool = False  # a crime found done, no time named: taken as recent (the higher urgency)

    @property
    def crime(self) -> bool:
        return self.offence_level == "crime"


def _first(spans: Sequence[Span]) -> str | None:
    return min(spans, key=lambda s: s.start).text if spans else None


def _negated(doc: Doc, clause: Sequence[int], span: Span, negators: frozenset[str], window: int) -> bool:
    """A negator shortly before the span in the same clause ("niets gestolen"; not "niet normaal, inbrekers")."""
    for i in range(max(0, span.start - window), span.start):
        if clause[i] == clause[span.start] and doc.tokens[i] in negators:
            return True
    return False


def _live(lemmas: LemmaDoc, matcher: Matcher, negators: frozenset[str],
          window: int) -> tuple[list[Span], list[Span]]:
    """Where the matcher matches the text or its lemma view, split into (kept, negated)."""
    kept: list[Span] = []
    dropped: list[Span] = []
    for span in lemmas.spans(matcher):
        (dropped if _negated(lemmas.doc, lemmas.clause, span, negators, window) else kept).append(span)
    return kept, dropped


# ----------------------------------------------------------------------------------------------------
# Time


_SPACE_RUN = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")


_COMPOUND_NUMBER = re.compile(r"^(?P<unit>[a-z]+?)(?:en|n)(?P<tens>[a-z]+ig)$")


def _number_word(word: str, words: Mapping[str, float]) -> float | None:
    """One number word: listed ("veertig"), Dutch unit+en+tens ("vijfendertig") or English "forty-five"."""
    if word in words:
        return words[word]
    compound = _COMPOUND_NUMBER.match(word)
    if compound is not None:
        unit, tens = words.get(compound.group("unit")), words.get(compound.group("tens"))
        if unit is not None and tens is not None and 1 <= unit <= 9 and tens % 10 == 0:
            return unit + tens
    parts = word.split("-")
    if len(parts) == 2 and all(p in words for p in parts) and words[parts[0]] % 10 == 0 \
            and 1 <= words[parts[1]] <= 9:
        return words[parts[0]] + words[parts[1]]
    return None


def _number(text: str | None, words: Mapping[str, float]) -> float | None:
    """The number in front of a time unit; the longest tail of the words that reads as a number, None when
    no tail does (an unknown number is not taken as one)."""
    if not text:
        return 1.0
    try:
        return float(text.replace(",", "."))
    except ValueError:
        pass
    parts = _SPACE_RUN.sub(" ", text).split(" ")
    for start in range(len(parts)):
        value = _number_word(" ".join(parts[start:]), words)
        if value is not None:
            return value
    return None


def _clock_minutes_ago(received_local: datetime, hour: int, minute: int, suffix: str | None,
                       daypart: tuple[int, int] | None, tolerance: float) -> float:
    """Minutes between "om 21:30" / "rond 1 uur" and the received time; the most recent such moment.

    A 12-hour reading ("1 uur") takes the candidate inside a named day part ("vanmiddag"), else the latest.
    """
    if suffix == "pm":
        hours = [hour % 12 + 12]
    elif suffix == "am":
        hours = [hour % 12]
    elif 1 <= hour <= 12:
        hours = [hour % 12, hour % 12 + 12]
    else:
        hours = [hour % 24]
    options: list[tuple[int, float]] = []
    for h in hours:
        candidate = received_local.replace(hour=h, minute=minute, second=0, microsecond=0)
        ago = to_utc_minutes(received_local, candidate)
        if ago < -tolerance:
            ago = to_utc_minutes(received_local, candidate - timedelta(days=1))
        in_part = daypart is not None and daypart[0] <= h * 60 + minute < daypart[1]
        options.append((0 if in_part else 1, max(ago, 0.0)))
    return min(options)[1]


def _word_clock(m: re.Match[str], lex: CompiledLexicon) -> tuple[int, int] | None:
    """Hour (1-12) and minute of "half drie" (2:30), "kwart over vier", "tien voor half acht", "om drie uur";
    None for a bare number ("om twee mannen") or words that are no time."""
    words = lex.lexicon.time.clock_words
    hour = _clock_number(m.group("h"), lex)
    if hour is None or not 1 <= hour <= 12:
        return None
    total = hour * 60 - (30 if m.group("half") else 0)
    if m.group("dir"):
        said = m.group("m")
        minutes = 15 if said in words["quarter"] else 30 if said in words["half"] else _clock_number(said, lex)
        if minutes is None or not 1 <= minutes <= 30:
            return None
        total += minutes if m.group("dir") in words["after"] else -minutes
    elif not m.group("half") and not m.group("full"):
        return None
    hour, minute = divmod(total % (12 * 60), 60)
    return hour or 12, minute


def _clock_number(said: str, lex: CompiledLexicon) -> int | None:
    value = float(said) if said.isdigit() else lex.number_words.get(said)
    return int(value) if value is not None and value == int(value) else None


def analyse_time(doc: Doc, received_at: datetime, lex: CompiledLexicon) -> TimeInfo:
    local = received_at.astimezone(AMSTERDAM)
    minute_of_day = local.hour * 60 + local.minute
    settings = lex.lexicon.settings
    grace = float(settings["daypart_grace_minutes"])
    tolerance = float(settings["clock_future_tolerance_minutes"])
    text = doc.text

    daypart_past: tuple[str, int] | None = None
    daypart_window: tuple[int, int] | None = None
    if lex.daypart_regex is not None:
        for found in lex.daypart_regex.finditer(text):
            phrase = _SPACE_RUN.sub(" ", found.group())
            start, end = lex.dayparts[phrase]
            daypart_window = (start, end)
            if minute_of_day > end + grace:
                daypart_past = (phrase, doc.span(found.start(), found.end()).start)

    minutes: list[float] = []
    clock_minutes: list[float] = []
    clocks: list[re.Match[str]] = []
    if any(word in text for word in lex.lexicon.time.ago_words):
        for m in lex.ago.finditer(text):
            unit = _SPACE_RUN.sub(" ", m.group("unit"))
            number = _number(m.group("num"), lex.number_words)
            if number is not None:
                minutes.append(number * lex.units.get(unit, 1))
    if _DIGIT.search(text):
        clocks = list(lex.clock.finditer(text))
        for m in clocks:
            suffix = m.group("suf") or m.group("suf2")
            clock_minutes.append(_clock_minutes_ago(local, int(m.group("h")) % 24, int(m.group("m") or 0),
                                                    suffix, daypart_window, tolerance))
    for m in lex.word_clock.finditer(text):  # "om half drie", "rond kwart over 4"
        at = _word_clock(m, lex)
        if at is not None and not any(c.start() <= m.start() < c.end() for c in clocks):
            clock_minutes.append(_clock_minutes_ago(local, at[0], at[1], None, daypart_window, tolerance))
    range_minutes: list[float] = []
    for m in lex.range_clock.finditer(text):  # "tussen 2 en 3": the later end, the more recent reading
        hour = _clock_number(m.group("h"), lex)
        if hour is not None and 0 <= hour <= 24:
            range_minutes.append(_clock_minutes_ago(local, hour % 24, int(m.group("m") or 0), None,
                                                    daypart_window, tolerance))
    clock_minutes.extend(range_minutes)
    if ":" in text:
        for m in lex.bare_clock.finditer(text):
            if any(c.start() <= m.start() < c.end() for c in clocks):
                continue
            clock_minutes.append(_clock_minutes_ago(local, int(m.group("h")), int(m.group("m")), "24h",
                                                    daypart_window, tolerance))
    habitual = _first(lex.habitual.spans(doc))
    if habitual is None:  # "elke avond om 22:00" is a habit, not the time of this event
        minutes.extend(clock_minutes)
    minutes_ago = min(minutes) if minutes else None

    discovery = lex.discovery.spans(doc) + lex.gone.spans(doc)
    now_spans = [n for n in lex.now.spans(doc) if not any(d.start <= n.start <= d.end for d in discovery)]
    past_spans = lex.past.spans(doc)
    past_word = _first(past_spans) or (daypart_past[0] if daypart_past else None)
    last_past = max([s.start for s in past_spans] + ([daypart_past[1]] if daypart_past else []), default=-1)
    now_word = None
    if now_spans:
        last_now = max(now_spans, key=lambda s: s.start)
        if last_now.start > last_past:
            now_word, past_word = last_now.text, None
    completed = bool(lex.completed.spans(doc))
    event_time = minus_minutes(received_at, minutes_ago) if minutes_ago is not None else local
    return TimeInfo(now_word, minutes_ago, past_word, habitual, completed, event_time,
                    discovered=bool(lex.discovery.spans(doc)),
                    from_range=minutes_ago is not None and minutes_ago in range_minutes)


# ----------------------------------------------------------------------------------------------------
# The analysis


def _yield_offence(best: OffenceHit | None, candidates: Sequence[OffenceHit], lex: CompiledLexicon,
                   lemmas: LemmaDoc) -> OffenceHit | None:
    """An offence found only through words another offence shares ("window smashed" of a car) gives way to
    that offence when it is found at the same level and nothing specific to the first one is named
    (settings.offence_yield: offence -> [other offence, signal of words specific to the offence])."""
    if best is None:
        return None
    rule = lex.lexicon.setting("offence_yield").get(best.offence)
    if not rule:
        return best
    other, specific = str(rule[0]), str(rule[1])
    alternative = next((c for c in candidates if c.offence == other and c.level == best.level), None)
    if alternative is None or (specific in lex.signals and lemmas.spans(lex.signals[specific])):
        return best
    return alternative


def analyse_text(text: str, received_at: datetime, lex: CompiledLexicon,
                 doc: Doc | None = None) -> TextAnalysis:
    doc = doc or Doc.from_text(text)
    lexicon = lex.lexicon
    negators = lexicon.negators
    neg_window = int(lexicon.setting("negation_window"))

    lemmas = LemmaDoc(doc, lex.morphology)

    def spans(name: str) -> list[Span]:
        matcher = lex.signal(name)
        return matcher.spans(doc) if name in lex.surface_only else lemmas.spans(matcher)

    # offences, in priority order; a crime beats behaviour, then the priority decides
    candidates: list[OffenceHit] = []
    negated: list[str] = []
    for om in lex.offences:
        crime_spans, crime_neg = _live(lemmas, om.crime, negators, neg_window)
        beh, beh_neg = ([], []) if crime_spans else _live(lemmas, om.behaviour, negators, neg_window)
        negated.extend(s.text for s in crime_neg + beh_neg)
        if crime_spans:
            candidates.append(OffenceHit(om.name, "crime", _first(crime_spans) or ""))
        elif beh:
            candidates.append(OffenceHit(om.name, "behaviour", _first(beh) or ""))
    candidates.extend(_lemma_offences(lemmas, lex, {c.offence for c in candidates if c.level == "crime"},
                                      negators, neg_window))
    best = next((c for c in candidates if c.level == "crime"), None) or next(iter(candidates), None)
    best = _yield_offence(best, candidates, lex, lemmas)

    behaviour_spans = spans("behaviour")
    behaviour = tuple(s.text for s in behaviour_spans) + tuple(
        c.phrase for c in candidates if c.level == "behaviour")
    suspicion = bool(spans("suspicion"))
    description = tuple(s.text for s in spans("description"))
    appearance = tuple(s.text for s in spans("appearance"))
    actor = bool(spans("actor"))
    pronoun = bool(spans("pronoun"))
    missing_person = bool(spans("missing_person"))
    missing_child = missing_person and bool(spans("child"))
    missing_vulnerable = missing_person and bool(spans("vulnerable"))
    pet = _first(spans("pet_noise"))
    calloff = _first(spans("calloff"))
    no_concern = _first(spans("no_concern"))
    police_info = bool(spans("police_info"))
    general_info = bool(spans("general_info"))
    called_112 = police_info or any(
        not any(doc.tokens[i] in negators and doc.token_sentence[i] == sp.sentence
                for i in range(max(0, sp.start - neg_window), sp.end + 1))
        for sp in spans("called_112"))
    no_suspect = "no_suspect" in lex.signals and bool(spans("no_suspect"))
    time = analyse_time(doc, received_at, lex)

    crime = best is not None and best.level == "crime"
    serious_crime = crime and best is not None and best.offence not in lexicon.minor_offences
    any_behaviour = bool(behaviour) or any(c.level == "behaviour" for c in candidates)
    complaint = any(spans(name) for name in ("parking", "traffic") if name in lex.signals)
    substantive = (bool(candidates) or any_behaviour or suspicion or missing_person or bool(appearance)
                   or police_info or general_info or (bool(description) and (actor or pronoun) and not complaint))

    noise: str | None = None
    if calloff:
        noise = "afmelding"
    elif pet and not crime and not (missing_child or missing_vulnerable):
        noise = "huisdier"
    elif no_concern and not serious_crime:
        noise = "niets_aan_de_hand"
    elif not substantive:
        noise = _noise_kind(lex, spans, doc)
    floors = () if noise == "afmelding" or police_info else _floors(lemmas, lex, negators, neg_window,
                                                                      missing_child or missing_vulnerable)
    unrecognised = False
    if floors and noise is not None and noise != "afmelding":
        noise = None  # harm, a weapon or fire outweighs a word of thanks or a question mark
    if noise == _UNPLACED:
        noise, unrecognised = None, True

    appearance_only = (bool(appearance) and noise is None and not any_behaviour and not candidates
                       and not police_info and not missing_person)

    # in progress: about the reported event itself
    t = time
    in_progress_minutes = float(lexicon.setting("in_progress_minutes"))
    assumed_now = False
    # a warning ("oplichters bellen aan, vraag altijd om een pasje"), not a scene happening now
    warning_only = general_info and t.now is None and t.minutes_ago is None and not description
    if noise is not None:
        in_progress = noise == "niets_aan_de_hand" and actor and t.past is None and t.habitual is None \
            and (t.minutes_ago is None or t.minutes_ago <= in_progress_minutes)
    elif police_info:
        in_progress = False
    elif missing_person:
        in_progress = True  # missing now; a found person is a call-off (noise)
    elif t.now is not None:
        in_progress = True
    elif t.minutes_ago is not None:
        in_progress = t.minutes_ago <= in_progress_minutes
    elif t.past is not None or t.habitual is not None or t.completed or warning_only:
        in_progress = False
    else:
        in_progress = True  # no time named: unsure between now and earlier, so the more urgent reading
        assumed_now = True
    recent = in_progress or (t.minutes_ago is not None and t.minutes_ago <= float(
        lexicon.setting("recent_minutes")))
    # just found done ("kom net thuis, de deur is opengebroken"), no time named, the police not yet involved:
    # it may have happened minutes or hours ago, so the more urgent reading
    assumed_recent = not recent and t.completed and t.discovered and t.past is None and t.habitual is None \
        and t.minutes_ago is None and not warning_only and noise is None and not called_112
    recent = recent or assumed_recent

    # category: first that applies (domain.md), police information is always informatie
    if noise is not None:
        category = "overig"
    elif missing_person:
        category = "vermissing"
    elif police_info:
        category = "informatie"
    elif appearance_only:
        category = "signalement" if description else "verdachte_situatie"
    elif description and (candidates or any_behaviour or suspicion or appearance or actor or pronoun):
        category = "signalement"
    elif general_info and not in_progress:
        category = "informatie"
    elif crime:
        category = "delict"
    elif any_behaviour or suspicion or candidates or appearance:
        category = "verdachte_situatie"
    elif general_info:
        category = "informatie"
    elif floors:
        category = "delict"
    elif unrecognised and (actor or pronoun or description):
        category = "verdachte_situatie"
    else:
        category = "overig"

    chosen = best if best is not None and noise is None and category != "vermissing" else None
    offence = chosen.offence if chosen is not None else None
    if offence is None and floors and category != "vermissing":
        offence = lex.lexicon.setting("floor_offences").get(floors[0][0])
    if floors and time.past is None and time.habitual is None and (
            time.minutes_ago is None or time.minutes_ago <= in_progress_minutes):
        in_progress = True
    return TextAnalysis(
        doc=doc, offence=offence, offence_level=chosen.level if chosen else None,
        offence_phrase=chosen.phrase if chosen else None, candidates=tuple(candidates),
        negated=tuple(negated), behaviour=behaviour, suspicion=suspicion, description=description,
        appearance=appearance, appearance_only=appearance_only, missing_person=missing_person,
        missing_child=missing_child, missing_vulnerable=missing_vulnerable, actor=actor, pronoun=pronoun,
        no_suspect=no_suspect,
        called_112=called_112, police_info=police_info, general_info=general_info, calloff=calloff,
        noise=noise, time=time, in_progress=in_progress and category != "informatie", recent=recent,
        category=category, floors=floors, assumed_now=assumed_now and in_progress,
        assumed_recent=assumed_recent and not in_progress,
        unrecognised=unrecognised and category in _UNRECOGNISED_CATEGORIES,
    )


_UNRECOGNISED_CATEGORIES = ("overig", "verdachte_situatie")


def _lemma_offences(lemmas: LemmaDoc, lex: CompiledLexicon, found: set[str], negators: frozenset[str],
                    window: int) -> list[OffenceHit]:
    """Crimes named in words the patterns do not list, found by lemma ("brak ... in", "tuinschuur")."""
    hits = []
    for name, entries in lex.offence_lemmas:
        if name in found:
            continue
        live = lemmas.first_live(entries, negators, window)
        if live is not None:
            hits.append(OffenceHit(name, "crime", lemmas.tokens[live[1]]))
    return hits


def _floors(lemmas: LemmaDoc, lex: CompiledLexicon, negators: frozenset[str], window: int,
            missing_at_risk: bool) -> tuple[tuple[str, str], ...]:
    """The P1 safety floors, independent of the offence patterns (domain.md: harm to a person now)."""
    floors = lex.floors

    def live(name: str) -> tuple[str, int] | None:
        group = floors.get(name)
        hit = lemmas.first_live(group, negators, window) if group is not None else None
        return (hit[0].source, hit[1]) if hit is not None else None

    found: list[tuple[str, str]] = []
    harm, collision = live("harm"), live("collision")
    if collision and harm:
        found.append(("floor_hit_and_run", f"{collision[0]}, {harm[0]}"))
    for name, code in (("harm", "floor_harm"), ("ambulance", "floor_ambulance"), ("weapon", "floor_weapon"),
                       ("fire", "floor_fire"), ("robbery", "floor_robbery")):
        hit = live(name)
        if hit is not None:
            found.append((code, hit[0]))
    snatch, grabbed = live("snatch"), live("snatched_from")
    if snatch and grabbed and lemmas.clause[snatch[1]] == lemmas.clause[grabbed[1]] \
            or snatch and grabbed and abs(snatch[1] - grabbed[1]) <= 6:
        found.append(("floor_snatch", f"{snatch[0]} ({grabbed[0]})"))
    if missing_at_risk:
        found.append(("floor_missing", "vermist kind of kwetsbare persoon"))
    return tuple(found)



_NOISE_ORDER = ("parking", "traffic", "pet_complaint", "argument", "lost_found", "notice", "complaint",
                "question", "thanks", "chatter", "follow_up")
NOISE_LABELS = {
    "parking": "parkeren", "traffic": "verkeer", "argument": "discussie", "question": "vraag",
    "thanks": "bedankje", "chatter": "groet", "pet_complaint": "huisdier", "follow_up": "update zonder nieuwe feiten",
    "lost_found": "gevonden of verloren voorwerp", "notice": "mededeling", "complaint": "klacht",
}


def _noise_kind(lex: CompiledLexicon, spans: Callable[[str], list[Span]], doc: Doc) -> str:
    for name in _NOISE_ORDER:
        if name in lex.signals and spans(name):
            return NOISE_LABELS[name]
    if "?" in doc.text:  # a question that names nothing the engine knows
        return "vraag"
    return "geen_inhoud" if not doc.tokens else _UNPLACED


_UNPLACED = "niet_herkend"
