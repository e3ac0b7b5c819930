"""The shape of config/triage.yaml as pydantic models: unknown keys, wrong types and bad patterns are errors
that name their place (`offences.woninginbraak.crime.3`), and every offence and word class carries
examples that tests/triage/test_lexicon_examples.py runs. The defaults here are the values config/triage.yaml
sets (tests/triage/test_lexicon_examples.py checks that they agree)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

_CLASS_REF = re.compile(r"<(\w+)>")
_GAP = re.compile(r"\s*~(\d+)\s*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FrameModel(_Strict):
    all: list[str] = Field(min_length=1)
    window: int | None = None
    unless: list[str] = []
    unless_window: int | None = None


Rule = str | FrameModel


class Examples(_Strict):
    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


class ClassModel(_Strict):
    """A word class: the patterns `<name>` stands for, with the texts that prove them."""

    examples: Examples
    patterns: list[str] = Field(min_length=1)


class OffenceModel(_Strict):
    label: str = Field(min_length=1)
    lemmas: list[str] = []
    crime: list[Rule] = []
    behaviour: list[Rule] = []
    examples: Examples


class SettingsModel(_Strict):
    """Every setting the engine reads, with the default the code uses when the file leaves it out."""

    in_progress_minutes: float = 30
    recent_minutes: float = 90
    clock_future_tolerance_minutes: float = 20
    daypart_grace_minutes: float = 20
    frame_window: int = 6
    offence_yield: dict[str, list[str]] = {}
    negation_window: int = 2
    floor_offences: dict[str, str] = {}
    crime_weight: float = 3
    behaviour_weight: float = 2
    street_stopwords: list[str] = []
    direction_words: list[str] = []
    generic_street_names: list[str] = []
    street_context_words: list[str] = []
    unknown_place_ignore: list[str] = []
    street_suffixes: list[str] = []
    outside_places: list[str] = []
    generic_place_nouns: list[str] = []


class ClockWordsModel(_Strict):
    """A time of day in words: "om half drie", "kwart over vier", "tien voor acht", "at half past two"."""

    after: list[str] = Field(min_length=1)     # "tien over drie"
    before: list[str] = Field(min_length=1)    # "tien voor drie"
    half: list[str] = Field(min_length=1)      # Dutch "half drie" is 2:30
    quarter: list[str] = Field(min_length=1)   # "kwart over"
    full_hour: list[str] = Field(min_length=1)  # "drie uur"
    range_start: list[str] = Field(min_length=1)  # "tussen 2 en 3"
    range_join: list[str] = Field(min_length=1)


class TimeModel(_Strict):
    now: list[Rule] = []
    past: list[Rule] = []
    habitual: list[Rule] = []
    completed: list[Rule] = []
    discovery: list[Rule] = []
    gone: list[Rule] = []
    dayparts: dict[str, list[str]] = {}
    # no defaults: without them times could not be read at all
    ago_words: list[str] = Field(min_length=1)
    clock_prefixes: list[str] = Field(min_length=1)
    number_words: dict[str, float] = Field(min_length=1)
    units: dict[str, int] = Field(min_length=1)
    clock_words: ClockWordsModel


class MorphologyModel(_Strict):
    extra_lemmas: dict[str, str] = {}
    compound_blocked_prefixes: list[str] = []
    fuzzy_min_length: int = 7
    particle_window: int = 10
    # separable verbs in the lemma view: a particle joins the verb before it unless a determiner follows it
    particles: list[str] = []
    determiners: list[str] = []
    # signals whose words carry tense or are fixed phrases: matched on the text only, not on its lemma view
    surface_only_signals: list[str] = []


class LexiconModel(_Strict):
    version: int | str = 1
    settings: SettingsModel = SettingsModel()
    classes: dict[str, ClassModel]
    offence_priority: list[str]
    p1_offences: list[str] = []
    minor_offences: list[str] = []
    p1_always_offences: list[str] = []
    offences: dict[str, OffenceModel]
    signals: dict[str, list[Rule]]
    time: TimeModel
    morphology: MorphologyModel = MorphologyModel()
    floors: dict[str, list[str]] = {}
    negators: list[str] = []
    keyword_synonyms: dict[str, list[str]] = {}
    advice: dict[str, str] = {}


class LexiconError(ValueError):
    """The lexicon is malformed (unknown class, bad regex, missing section)."""


class LexiconSchemaError(LexiconError):
    """The lexicon does not have the agreed shape; `path` is where (keys and list indexes)."""

    def __init__(self, path: Sequence[str | int], message: str) -> None:
        self.path = tuple(path)
        self.message = message
        where = ".".join(str(p) for p in self.path) or "(top)"
        super().__init__(f"{where}: {message}")


def validate_lexicon(data: Mapping[str, Any]) -> LexiconModel:
    """The YAML mapping checked against the models, every pattern compiled and every class named known."""
    try:
        model = LexiconModel.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise LexiconSchemaError(first["loc"], first["msg"]) from exc
    for i, name in enumerate(model.morphology.surface_only_signals):
        if name not in model.signals:
            raise LexiconSchemaError(("morphology", "surface_only_signals", i), f"no signal named {name!r}")
    classes = {name: spec.patterns for name, spec in model.classes.items()}
    for path, pattern in _patterns(data):
        _check_pattern(path, pattern, classes)
    return model


def _patterns(data: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    found: list[tuple[tuple[str | int, ...], str]] = []

    def rules(path: tuple[str | int, ...], value: Any) -> None:
        for i, rule in enumerate(value or ()):
            if isinstance(rule, str):
                found.append(((*path, i), rule))
            elif isinstance(rule, Mapping):
                for key in ("all", "unless"):
                    for j, element in enumerate(rule.get(key) or ()):
                        found.append(((*path, i, key, j), str(element)))

    for name, spec in (data.get("classes") or {}).items():
        rules(("classes", name, "patterns"), spec.get("patterns"))
    for name, spec in (data.get("offences") or {}).items():
        for level in ("crime", "behaviour"):
            rules(("offences", name, level), spec.get(level))
    for name, value in (data.get("signals") or {}).items():
        rules(("signals", name), value)
    for name in ("now", "past", "habitual", "completed", "discovery", "gone"):
        rules(("time", name), (data.get("time") or {}).get(name))
    return found


def _check_pattern(path: tuple[str | int, ...], pattern: str, classes: Mapping[str, list[str]]) -> None:
    for name in _CLASS_REF.findall(pattern):
        if name not in classes:
            raise LexiconSchemaError(path, f"unknown word class <{name}> in {pattern!r}")
    plain = _GAP.sub(r"\\s+", _CLASS_REF.sub("(?:x)", pattern))
    try:
        re.compile(plain)
    except re.error as exc:
        raise LexiconSchemaError(path, f"bad pattern {pattern!r}: {exc}") from exc


def line_of(text: str, path: Sequence[str | int]) -> int | None:
    """The 1-based line of `path` in the YAML text, as far down the path as the document goes."""
    node: Any = yaml.compose(text)
    line = None
    for key in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == str(key)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line
