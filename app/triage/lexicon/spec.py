"""The data read from config/triage.yaml (the triage lexicon), validated: plain specs, nothing compiled yet.

The pattern language is described at the top of config/triage.yaml. Parsing is pure: the caller hands in the
parsed YAML mapping (from a file or a database row) and gets a Lexicon back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.triage.lexicon.document import normalise
from app.triage.lexicon.schema import LexiconError, validate_lexicon


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
    lemmas: tuple[str, ...] = ()  # crime named by lemma entries, matched through the morphology layer


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
    clock_words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # after, before, half, ...


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
    floors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # lemma entries of the P1 floors
    morphology: Mapping[str, Any] = field(default_factory=dict)

    def setting(self, name: str) -> Any:
        """A setting; its default, where the file has none, is the one in lexicon/schema.py (SettingsModel)."""
        return self.settings[name]


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


def _words(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"{where}: expected a list of lemma entries")
    return tuple(normalise(v) if "+" not in v else " + ".join(normalise(p) for p in v.split("+"))
                 for v in value)


def _minute_of_day(value: str) -> int:
    hours, minutes = str(value).split(":")
    return int(hours) * 60 + int(minutes)


def parse_lexicon(data: Mapping[str, Any]) -> Lexicon:
    """Validate the YAML mapping of config/triage.yaml into a Lexicon."""
    if not isinstance(data, Mapping):
        raise LexiconError("the triage lexicon must be a mapping")
    model = validate_lexicon(data)
    classes = {name: tuple(spec.patterns) for name, spec in model.classes.items()}
    offences = {
        str(name): OffenceSpec(_rules(spec.get("crime"), f"offences.{name}.crime"),
                               _rules(spec.get("behaviour"), f"offences.{name}.behaviour"),
                               _label(spec, f"offences.{name}"),
                               _words(spec.get("lemmas"), f"offences.{name}.lemmas"))
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
        ago_words=tuple(model.time.ago_words),
        clock_prefixes=tuple(model.time.clock_prefixes),
        number_words=tuple(model.time.number_words.items()),
        units=tuple(model.time.units.items()),
        clock_words={k: tuple(v) for k, v in model.time.clock_words.model_dump().items()},
    )
    return Lexicon(
        version=str(data.get("version", "1")),
        settings=model.settings.model_dump(),  # every setting, the model's default where the file has none
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
        floors={str(k): _words(v, f"floors.{k}") for k, v in (data.get("floors") or {}).items()},
        morphology=model.morphology.model_dump(),
    )
