"""Offences as a vocabulary: defined by the triage lexicon (config/triage.yaml) with their Dutch labels, so
that a new offence is a change to that file only: the engine, the validation of operator decisions and
hotspots, and the screens (GET /api/v1/meta) all read it from there."""

from __future__ import annotations

from app.core.errors import InvalidInput
from app.core.vocabulary import Term, Vocabulary
from app.triage.lexicon import Lexicon


def offence_vocabulary(lexicon: Lexicon) -> Vocabulary:
    """In the lexicon's priority order (the most serious first)."""
    return Vocabulary(tuple(Term(name, lexicon.offences[name].label) for name in lexicon.offence_priority))


def check_offences(lexicon: Lexicon, offences: list[str | None], field: str) -> None:
    """Refuses an offence the lexicon does not define (None means 'no offence' and is always allowed)."""
    known = set(lexicon.offences)
    for index, offence in enumerate(offences):
        if offence is not None and offence not in known:
            where = field if len(offences) == 1 else f"{field}[{index}]"
            raise InvalidInput(f"Onbekend delict '{offence}'; zie GET /api/v1/meta voor de delicten.",
                               field=where, code="unknown_offence")
