"""The triage lexicon (config/triage.yaml): parsing, validation and compilation into matchers.

The pattern language is described at the top of config/triage.yaml. Everything here is pure: the caller
hands in the parsed YAML mapping (from a file or a database row) and gets compiled matchers back.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from re import _constants as sre_c  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_CLASS_REF = re.compile(r"<(\w+)>")
_GAP = re.compile(r"\s*~(\d+)\s*")
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_SENTENCE_BREAK = re.compile(r"(?<!\d)[.!?;]+|[.!?;]+(?!\d)|\n")
_TRANSLATE = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u201c": '"', "\u201d": '"',
                            "\u2013": "-", "\u2014": "-", "\u00b4": "'"})
_DROP = re.compile(r"[^\w\s.,!?;:'\"()/@#&+%=-]")
_SPACES = re.compile(r"[ \t\r\f\v]+")


_GATE_LENGTH = 3
_SUBWORD_PART = re.compile(r"(?<=['-])[^'-]+")


class LexiconError(ValueError):
    """The lexicon is malformed (unknown class, bad regex, missing section)."""


def normalise(text: str) -> str:
    """Lower case, accents removed, curly quotes straightened, emoji and symbols dropped."""
    text = text.translate(_TRANSLATE)
    if not text.isascii():  # accents to base letters; emoji and other symbols go
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SPACES.sub(" ", _DROP.sub(" ", text.lower())).strip()


# ----------------------------------------------------------------------------------------------------
# Parsed lexicon (plain data)


@dataclass(frozen=True)
class FrameSpec:
    """`all` elements within `window` words of each other in one sentence, none of `unless` nearby."""

    elements: tuple[str, ...]
    window: int | None = None
    unless: tuple[str, ...] = ()
    unless_window: int | None = None


RuleSpec = str | FrameSpec


def _label(spec: Mapping[str, Any], where: str) -> str:
    label = spec.get("label")
    if not isinstance(label, str) or not label.strip():
        raise LexiconError(f"{where}.label: every offence needs a Dutch label for the screens")
    return label.strip()


@dataclass(frozen=True)
class OffenceSpec:
    crime: tuple[RuleSpec, ...] = ()
    behaviour: tuple[RuleSpec, ...] = ()
    label: str = ""  # Dutch, for screens (GET /api/v1/meta)


@dataclass(frozen=True)
class TimeSpec:
    now: tuple[RuleSpec, ...]
    past: tuple[RuleSpec, ...]
    habitual: tuple[RuleSpec, ...]
    completed: tuple[RuleSpec, ...]
    discovery: tuple[RuleSpec, ...]
    gone: tuple[RuleSpec, ...]
    dayparts: tuple[tuple[str, int, int], ...]  # phrase, start minute, end minute of the day
    ago_words: tuple[str, ...]
    clock_prefixes: tuple[str, ...]
    number_words: tuple[tuple[str, float], ...]
    units: tuple[tuple[str, int], ...]


@dataclass(frozen=True, eq=False)
class Lexicon:
    """config/triage.yaml, parsed and validated (not yet compiled)."""

    version: str
    settings: Mapping[str, Any]
    classes: Mapping[str, tuple[str, ...]]
    offences: Mapping[str, OffenceSpec]
    offence_priority: tuple[str, ...]
    p1_offences: frozenset[str]
    p1_always_offences: frozenset[str]
    minor_offences: frozenset[str]
    signals: Mapping[str, tuple[RuleSpec, ...]]
    time: TimeSpec
    negators: frozenset[str]
    keyword_synonyms: Mapping[str, tuple[str, ...]]
    advice: Mapping[str, str]

    def setting(self, name: str, default: Any) -> Any:
        return self.settings.get(name, default)


REQUIRED_SIGNALS = (
    "actor", "pronoun", "child", "vulnerable", "behaviour", "suspicion", "description", "appearance",
    "missing_person", "pet_noise", "calloff", "no_concern", "called_112", "police_info", "general_info",
)


def _rules(value: Any, where: str) -> tuple[RuleSpec, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise LexiconError(f"{where}: expected a list of patterns")
    out: list[RuleSpec] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, Mapping) and "all" in item:
            elements = item["all"]
            if not isinstance(elements, list) or not elements:
                raise LexiconError(f"{where}: 'all' needs a non-empty list")
            window = item.get("window")
            unless_window = item.get("unless_window")
            out.append(FrameSpec(tuple(str(e) for e in elements), int(window) if window is not None else None,
                                 tuple(str(e) for e in item.get("unless") or ()),
                                 int(unless_window) if unless_window is not None else None))
        else:
            raise LexiconError(f"{where}: cannot read pattern {item!r}")
    return tuple(out)


def _minute_of_day(value: str) -> int:
    hours, minutes = str(value).split(":")
    return int(hours) * 60 + int(minutes)


def parse_lexicon(data: Mapping[str, Any]) -> Lexicon:
    """Validate the YAML mapping of config/triage.yaml into a Lexicon."""
    if not isinstance(data, Mapping):
        raise LexiconError("the triage lexicon must be a mapping")
    classes = {str(k): tuple(str(x) for x in (v or ())) for k, v in (data.get("classes") or {}).items()}
    offences = {
        str(name): OffenceSpec(_rules(spec.get("crime"), f"offences.{name}.crime"),
                               _rules(spec.get("behaviour"), f"offences.{name}.behaviour"),
                               _label(spec, f"offences.{name}"))
        for name, spec in (data.get("offences") or {}).items()
    }
    signals = {str(k): _rules(v, f"signals.{k}") for k, v in (data.get("signals") or {}).items()}
    missing = [name for name in REQUIRED_SIGNALS if name not in signals]
    if missing:
        raise LexiconError(f"signals missing: {', '.join(missing)}")
    priority = tuple(str(x) for x in data.get("offence_priority") or offences)
    unknown = [name for name in priority if name not in offences]
    if unknown or set(offences) - set(priority):
        raise LexiconError("offence_priority must list exactly the offences")
    t = data.get("time") or {}
    time = TimeSpec(
        now=_rules(t.get("now"), "time.now"),
        past=_rules(t.get("past"), "time.past"),
        habitual=_rules(t.get("habitual"), "time.habitual"),
        completed=_rules(t.get("completed"), "time.completed"),
        discovery=_rules(t.get("discovery"), "time.discovery"),
        gone=_rules(t.get("gone"), "time.gone"),
        dayparts=tuple((str(k), _minute_of_day(v[0]), _minute_of_day(v[1]))
                       for k, v in (t.get("dayparts") or {}).items()),
        ago_words=tuple(str(x) for x in t.get("ago_words") or ("geleden", "ago")),
        clock_prefixes=tuple(str(x) for x in t.get("clock_prefixes") or ("om",)),
        number_words=tuple((str(k), float(v)) for k, v in (t.get("number_words") or {}).items()),
        units=tuple((str(k), int(v)) for k, v in (t.get("units") or {}).items()),
    )
    return Lexicon(
        version=str(data.get("version", "1")),
        settings=dict(data.get("settings") or {}),
        classes=classes,
        offences=offences,
        offence_priority=priority,
        p1_offences=frozenset(str(x) for x in data.get("p1_offences") or ()),
        p1_always_offences=frozenset(str(x) for x in data.get("p1_always_offences") or ()),
        minor_offences=frozenset(str(x) for x in data.get("minor_offences") or ()),
        signals=signals,
        time=time,
        negators=frozenset(str(x) for x in data.get("negators") or ()),
        keyword_synonyms={normalise(str(k)): tuple(normalise(str(x)) for x in v or ())
                          for k, v in (data.get("keyword_synonyms") or {}).items()},
        advice={str(k): str(v) for k, v in (data.get("advice") or {}).items()},
    )


# ----------------------------------------------------------------------------------------------------
# Documents and compiled matchers


@dataclass(frozen=True)
class Span:
    """Where a pattern matched: first and last token index, sentence number, the matched text."""

    start: int
    end: int
    sentence: int
    text: str


@dataclass(eq=False)
class Doc:
    """A normalised text with its tokens and sentences; caches element matches while it is analysed."""

    text: str
    token_starts: list[int]
    token_ends: list[int]
    token_sentence: list[int]
    tokens: list[str]
    cache: dict[int, list[Span]] = field(default_factory=dict)
    prefixes: frozenset[str] = frozenset()  # every 1-, 2- and 3-letter start of a word or word part
    # the text's next 1, 2 and 3 characters at every start of a word or word part -> those starts, ascending
    starts_at: Mapping[str, list[int]] = field(default_factory=dict)
    start_keys: frozenset[str] = frozenset()  # the keys of starts_at

    @classmethod
    def from_text(cls, raw: str) -> Doc:
        text = normalise(raw)
        breaks = [m.start() for m in _SENTENCE_BREAK.finditer(text)]
        starts: list[int] = []
        ends: list[int] = []
        sentence: list[int] = []
        tokens: list[str] = []
        words: list[tuple[int, str]] = []  # every token and every part of one after ' or -, with its start
        for m in _TOKEN.finditer(text):
            start = m.start()
            token = m.group()
            starts.append(start)
            ends.append(m.end())
            sentence.append(bisect_right(breaks, start))
            tokens.append(token)
            words.append((start, token))
            if "-" in token or "'" in token:  # the first part adds nothing: it starts like the token
                words.extend((start + part.start(), part.group()) for part in _SUBWORD_PART.finditer(token))
        found: set[str] = set()
        starts_at: dict[str, list[int]] = {}
        padded = text + "\0\0"  # three raw prefixes of different length at every start (no \0 in text)
        for start, word in words:
            found.update((word[:1], word[:2], word[:3]))
            for key in (padded[start], padded[start:start + 2], padded[start:start + 3]):
                at = starts_at.get(key)
                if at is None:
                    starts_at[key] = [start]
                else:
                    at.append(start)
        return cls(text, starts, ends, sentence, tokens, prefixes=frozenset(found), starts_at=starts_at,
                   start_keys=frozenset(starts_at))

    def span(self, start_char: int, end_char: int) -> Span:
        if not self.token_starts:
            return Span(0, 0, 0, self.text[start_char:end_char])
        first = max(0, bisect_right(self.token_starts, start_char) - 1)
        last = max(first, bisect_right(self.token_starts, max(start_char, end_char - 1)) - 1)
        return Span(first, last, self.token_sentence[first], self.text[start_char:end_char])


def _item_prefixes(op: Any, av: Any, k: int) -> set[tuple[str, bool]] | None:
    """Possible starts (up to k chars) of one parsed regex item, each with "item fully consumed"."""
    if op is sre_c.LITERAL:
        return {(chr(av), True)}
    if op is sre_c.IN:
        chars: set[str] = set()
        for sub_op, sub_av in av:
            if sub_op is sre_c.LITERAL:
                chars.add(chr(sub_av))
            elif sub_op is sre_c.RANGE and sub_av[1] - sub_av[0] < 40:
                chars.update(chr(c) for c in range(sub_av[0], sub_av[1] + 1))
            else:
                return None
        return {(c, True) for c in chars}
    if op is sre_c.SUBPATTERN:
        return _seq_prefixes(av[-1], k)
    if op is sre_c.BRANCH:
        out: set[tuple[str, bool]] = set()
        for branch in av[1]:
            sub = _seq_prefixes(branch, k)
            if sub is None:
                return None
            out |= sub
        return out
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
        low, high, item = av
        sub = _seq_prefixes(item, k)
        if sub is None:
            return None
        exact_once = low == 1 and high == 1
        starts = {(s, done and exact_once) for s, done in sub}
        return starts | {("", True)} if low == 0 else starts
    if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
        return {("", True)}
    return None


def _seq_prefixes(seq: Any, k: int) -> set[tuple[str, bool]] | None:
    partial: set[str] = {""}
    closed: set[str] = set()
    for op, av in seq:
        if not partial:
            break
        ext = _item_prefixes(op, av, k)
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


def prefix_gate(pattern: re.Pattern[str], k: int = _GATE_LENGTH) -> frozenset[str] | None:
    """Word starts (up to k letters) every match must begin with, or None when that cannot be told."""
    try:
        found = _seq_prefixes(sre_parse.parse(pattern.pattern, pattern.flags), k)
    except Exception:  # internals of `re` differ between versions: then always scan
        return None
    if not found:
        return None
    starts = {s for s, _ in found}
    if "" in starts or any(not s[0].isalnum() for s in starts) or len(starts) > 5000:
        return None
    return frozenset(starts)


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
            gate = self.gate
            if gate is None:
                cached = self._scan(doc)
            elif not self.plain_gate and gate.isdisjoint(doc.prefixes):
                cached = []
            elif self.positional:
                common = gate.intersection(doc.start_keys)
                cached = self._match_at(doc, common) if common else []
            else:
                cached = [] if gate.isdisjoint(doc.prefixes) else self._scan(doc)
            doc.cache[self.key] = cached
        return cached

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


class Frame:
    __slots__ = ("elements", "window", "unless", "unless_window", "gates")

    def __init__(self, elements: tuple[Element, ...], window: int, unless: tuple[Element, ...],
                 unless_window: int | None = None) -> None:
        self.elements = elements
        self.window = window
        self.unless = unless
        self.unless_window = window if unless_window is None else unless_window
        self.gates = tuple(e.gate for e in elements if e.gate is not None)

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

    __slots__ = ("name", "combined", "frames")

    def __init__(self, name: str, combined: tuple[Element, ...], frames: tuple[Frame, ...]) -> None:
        self.name = name
        self.combined = combined
        self.frames = frames

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

    def __bool__(self) -> bool:
        return bool(self.combined) or bool(self.frames)


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
    number_words: Mapping[str, float]
    units: Mapping[str, int]

    def signal(self, name: str) -> Matcher:
        return self.signals[name]


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


def compile_lexicon(lexicon: Lexicon) -> CompiledLexicon:
    compiler = PatternCompiler(lexicon.classes, int(lexicon.setting("frame_window", 6)))
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
        r"(?<!\w)(?:(?P<num>\d+(?:[.,]\d+)?|" + _alternation(numbers) + r")\s*)?(?P<unit>"
        + _alternation(units) + r")\s+(?:" + _alternation(t.ago_words) + r")(?!\w)"
    )
    clock = re.compile(
        r"(?<!\w)(?:" + _alternation(t.clock_prefixes) + r")\s+(?P<h>[01]?\d|2[0-4])"
        r"(?:(?:[:.](?P<m>[0-5]\d))\s*(?P<suf>uur|u|h|am|pm)?|\s*(?P<suf2>uur|u|h|am|pm))(?!\w)"
    )
    bare_clock = re.compile(r"(?<![\w:.])(?P<h>[01]?\d|2[0-3])[:](?P<m>[0-5]\d)(?![\w:])")
    dayparts = {" ".join(phrase.split()): (start, end) for phrase, start, end in t.dayparts}
    daypart_regex = re.compile(r"(?<!\w)(?:" + _alternation(dayparts) + r")(?!\w)") if dayparts else None
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
        number_words=numbers,
        units=units,
    )
