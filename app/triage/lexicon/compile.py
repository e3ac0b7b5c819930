"""Compilation of a parsed lexicon into matchers: `<class>` references and `~N` gaps expanded, whole-word
regexes compiled, plain patterns of one rule list combined."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from app.triage.lexicon.match import Element, Frame, Matcher
from app.triage.lexicon.morphology import EntryGroup, Morphology, MorphologySettings, parse_entries
from app.triage.lexicon.spec import FrameSpec, Lexicon, LexiconError, RuleSpec
from app.triage.lexicon.words import pattern_words

_CLASS_REF = re.compile(r"<(\w+)>")
_GAP = re.compile(r"\s*~(\d+)\s*")


class PatternCompiler:
    """Expands `<class>` references and `~N` gaps and compiles with whole-word boundaries."""

    def __init__(self, classes: Mapping[str, Sequence[str]], default_window: int = 6) -> None:
        self.classes = classes
        self.default_window = default_window
        self._expanded: dict[str, str] = {}
        self._elements: dict[str, Element] = {}

    def expand(self, pattern: str, _stack: tuple[str, ...] = ()) -> str:
        def class_ref(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in _stack:
                raise LexiconError(f"class <{name}> refers to itself")
            if name not in self.classes:
                raise LexiconError(f"unknown word class <{name}> in {pattern!r}")
            if name not in self._expanded:
                alts = [self.expand(alt, (*_stack, name)) for alt in self.classes[name]]
                self._expanded[name] = "(?:" + "|".join(alts) + ")"
            return self._expanded[name]

        with_gaps = _GAP.sub(lambda m: "\x00" + m.group(1) + "\x00", pattern.strip())
        with_spaces = with_gaps.replace(" ?", r"\s*").replace(" ", r"\s+")
        with_classes = _CLASS_REF.sub(class_ref, with_spaces)
        gap = r"(?:\s+[^\s.!?;]+){0,%s}\s+"
        return re.sub("\x00(\\d+)\x00", lambda m: gap % m.group(1), with_classes)

    def element(self, pattern: str) -> Element:
        found = self._elements.get(pattern)
        if found is None:
            source = r"(?<!\w)(?:" + self.expand(pattern) + r")(?!\w)"
            try:
                regex = re.compile(source)
            except re.error as exc:
                raise LexiconError(f"bad pattern {pattern!r}: {exc}") from exc
            found = Element(len(self._elements), regex, pattern)
            self._elements[pattern] = found
        return found

    def matcher(self, name: str, rules: Iterable[RuleSpec]) -> Matcher:
        plain: list[str] = []
        frames: list[Frame] = []
        for rule in rules:
            if isinstance(rule, str):
                plain.append(rule)
            else:
                frames.append(Frame(tuple(self.element(e) for e in rule.elements),
                                    rule.window if rule.window is not None else self.default_window,
                                    tuple(self.element(e) for e in rule.unless), rule.unless_window))
        # plain patterns with a prefix gate go into one regex, the others into a second one, so that a
        # single ungated pattern does not make the whole list scan every text
        gated = [p for p in plain if self.element(p).gate is not None]
        ungated = [p for p in plain if self.element(p).gate is None]
        groups = [group for group in (gated, ungated) if group]
        combined = tuple(self.element("|".join(f"(?:{p})" for p in group)) for group in groups)
        return Matcher(name, combined, tuple(frames))


@dataclass(frozen=True, eq=False)
class OffenceMatchers:
    name: str
    crime: Matcher
    behaviour: Matcher


@dataclass(frozen=True, eq=False)
class CompiledLexicon:
    lexicon: Lexicon
    signals: Mapping[str, Matcher]
    offences: tuple[OffenceMatchers, ...]  # in priority order
    now: Matcher
    past: Matcher
    habitual: Matcher
    completed: Matcher
    discovery: Matcher
    gone: Matcher
    dayparts: Mapping[str, tuple[int, int]]
    daypart_regex: re.Pattern[str] | None
    ago: re.Pattern[str]
    clock: re.Pattern[str]
    bare_clock: re.Pattern[str]
    word_clock: re.Pattern[str]  # "om half drie", "rond kwart over 4", "tegen tien voor acht"
    range_clock: re.Pattern[str]  # "tussen 2 en 3"
    number_words: Mapping[str, float]
    units: Mapping[str, int]
    morphology: Morphology
    offence_lemmas: tuple[tuple[str, EntryGroup], ...]  # in priority order
    floors: Mapping[str, EntryGroup]
    surface_only: frozenset[str] = frozenset()  # signals matched on the text only, not on its lemma view

    def signal(self, name: str) -> Matcher:
        return self.signals[name]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    compiler = PatternCompiler(lexicon.classes, int(lexicon.setting("frame_window")))
    signals = {name: compiler.matcher(name, rules) for name, rules in lexicon.signals.items()}
    offences = tuple(
        OffenceMatchers(name, compiler.matcher(f"{name}.crime", lexicon.offences[name].crime),
                        compiler.matcher(f"{name}.behaviour", lexicon.offences[name].behaviour))
        for name in lexicon.offence_priority
    )
    t = lexicon.time
    numbers = dict(t.number_words)
    units = dict(t.units)
    ago = re.compile(
        r"(?<!\w)(?:(?P<num>\d+(?:[.,]\d+)?|[a-z]+(?:[ -][a-z]+){0,2})\s*)?(?P<unit>"
        + _alternation(units) + r")\s+(?:" + _alternation(t.ago_words) + r")(?!\w)"
    )
    clock = re.compile(
        r"(?<!\w)(?:" + _alternation(t.clock_prefixes) + r")\s+(?P<h>[01]?\d|2[0-4])"
        r"(?:(?:[:.](?P<m>[0-5]\d))\s*(?P<suf>uur|u|h|am|pm)?|\s*(?P<suf2>uur|u|h|am|pm))(?!\w)"
    )
    bare_clock = re.compile(r"(?<![\w:.])(?P<h>[01]?\d|2[0-3])[:](?P<m>[0-5]\d)(?![\w:])")
    words = t.clock_words
    word_clock = re.compile(
        r"(?<!\w)(?:" + _alternation(t.clock_prefixes) + r")\s+"
        r"(?:(?P<m>[a-z]+|\d{1,2})\s+(?P<dir>" + _alternation(words["after"] + words["before"]) + r")\s+)?"
        r"(?P<half>(?:" + _alternation(words["half"]) + r")\s+)?(?P<h>[a-z]+|1[0-2]|[1-9])"
        r"(?P<full>\s+(?:" + _alternation(words["full_hour"]) + r")(?!\s+of(?!\w)))?(?!\w)"
    )
    range_clock = re.compile(
        r"(?<!\w)(?:" + _alternation(words["range_start"]) + r")\s+(?:[a-z]+|\d{1,2})(?:[:.]\d\d)?\s+(?:"
        + _alternation(words["range_join"]) + r")\s+(?P<h>[a-z]+|\d{1,2})(?:[:.](?P<m>[0-5]\d))?(?!\w)"
    )
    dayparts = {" ".join(phrase.split()): (start, end) for phrase, start, end in t.dayparts}
    daypart_regex = re.compile(r"(?<!\w)(?:" + _alternation(dayparts) + r")(?!\w)") if dayparts else None
    offence_lemmas = tuple((name, parse_entries(lexicon.offences[name].lemmas))
                           for name in lexicon.offence_priority if lexicon.offences[name].lemmas)
    floors = {name: parse_entries(values) for name, values in lexicon.floors.items()}
    entries = [e for _, group in offence_lemmas for e in group.entries] + [
        e for group in floors.values() for e in group.entries]
    vocabulary = {w for e in entries for w in e.words} | {e.joined for e in entries if e.joined}
    settings = lexicon.morphology
    surface_only = frozenset(settings["surface_only_signals"])
    morphology = Morphology(vocabulary, MorphologySettings(
        extra_lemmas=settings["extra_lemmas"],
        compound_blocked_prefixes=frozenset(settings["compound_blocked_prefixes"]),
        fuzzy_min_length=int(settings["fuzzy_min_length"]), particle_window=int(settings["particle_window"]),
        particles=frozenset(settings["particles"]), determiners=frozenset(settings["determiners"]),
    ), view_words=pattern_words(_viewed_patterns(lexicon, surface_only)))
    return CompiledLexicon(
        lexicon=lexicon,
        signals=signals,
        offences=offences,
        now=compiler.matcher("now", t.now),
        past=compiler.matcher("past", t.past),
        habitual=compiler.matcher("habitual", t.habitual),
        completed=compiler.matcher("completed", t.completed),
        discovery=compiler.matcher("discovery", t.discovery),
        gone=compiler.matcher("gone", t.gone),
        dayparts=dayparts,
        daypart_regex=daypart_regex,
        ago=ago,
        clock=clock,
        bare_clock=bare_clock,
        word_clock=word_clock,
        range_clock=range_clock,
        number_words=numbers,
        units=units,
        morphology=morphology,
        offence_lemmas=offence_lemmas,
        floors=floors,
        surface_only=surface_only,
    )


def _viewed_patterns(lexicon: Lexicon, surface_only: frozenset[str]) -> list[str]:
    """Every pattern string matched through the lemma view: classes, offence rules, signals not kept to the
    text."""
    rule_lists: list[Iterable[RuleSpec]] = [lexicon.classes[name] for name in lexicon.classes]
    for spec in lexicon.offences.values():
        rule_lists += [spec.crime, spec.behaviour]
    rule_lists += [rules for name, rules in lexicon.signals.items() if name not in surface_only]
    found: list[str] = []
    for rules in rule_lists:
        for rule in rules:
            found.extend(rule.elements + rule.unless if isinstance(rule, FrameSpec) else (rule,))
    return found
