"""An incident's most serious fact for its card: the weightiest of its reports' triage reasons (a weapon,
an injury, a fire, ...), whichever report it came from. Pure: it reads the suggestions stored on reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.triage.engine import FLOOR_PREFIX

# Most serious first: what a unit sent there must know before anything else. Reasons not listed (the time,
# the place, the offence words) are on the card already or say nothing about danger.
SERIOUS_REASONS = ("floor_weapon", "floor_harm", "floor_hit_and_run", "floor_ambulance", "floor_fire",
                   "floor_robbery", "floor_snatch", "missing_child", "missing_vulnerable", "floor_missing",
                   "signalement_match")
_WEIGHT = {code: rank for rank, code in enumerate(SERIOUS_REASONS)}


def lead_reason_of(suggestion: dict[str, Any] | None) -> dict[str, str] | None:
    """The weightiest serious reason of one report's stored suggestion, as {code, text} for the card."""
    reasons = [r for r in (suggestion or {}).get("reasons") or () if r.get("code") in _WEIGHT]
    if not reasons:
        return None
    best = min(reasons, key=lambda reason: _WEIGHT[reason["code"]])
    text = str(best.get("text") or "").removeprefix(FLOOR_PREFIX)
    return {"code": best["code"], "text": text[:1].upper() + text[1:]}


def more_serious(current: dict[str, str] | None, candidate: dict[str, str] | None) -> dict[str, str] | None:
    """The more serious of two lead reasons; on a tie the current one (the earlier report) stays."""
    if candidate is None:
        return current
    if current is None or _WEIGHT[candidate["code"]] < _WEIGHT.get(current["code"], len(_WEIGHT)):
        return candidate
    return current


def lead_reason_among(suggestions: Iterable[dict[str, Any] | None]) -> dict[str, str] | None:
    """The lead reason of a whole incident, its reports' suggestions in the order they arrived."""
    lead: dict[str, str] | None = None
    for suggestion in suggestions:
        lead = more_serious(lead, lead_reason_of(suggestion))
    return lead
