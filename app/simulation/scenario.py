"""What happens around a report, drawn in the research report's proportions: when it is sent, how soon an
operator acts, the follow-up and result of table 3.4, alerts to the wijk, and how the beheerders' phones
answer. Pure, like app.simulation.texts: every draw comes from the `random.Random` passed in."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.core.vocabulary import TIMEZONE

AMSTERDAM = ZoneInfo(TIMEZONE)

# Reports per group per month: table 3.4 counts 1 to 135 cases per group over 10-34 months (Lastage: 5 a
# month); the groups of the demo send between 2 and 8.
MONTHLY_REPORTS = (2.0, 8.0)
# Messages over the day: quiet at night, busy in the evening (burglaries and car break-ins after dark).
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 1, 2, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 8, 10, 11, 11, 10, 7, 4]
ECHO_SHARE = 0.3  # a heterdaad is often reported by several groups within minutes (domain.md)

# Table 3.4: of 63 reports to the police about half had a known follow-up: ter plaatse 27, surveillance 2,
# doorgezet naar de gemeente 3, actie wijkagent 2, interne informatiedeling 1; the rest none or unknown.
KNOWN_FOLLOW_UP_SHARE = 35 / 63
FOLLOW_UP_WEIGHTS = {"ter_plaatse": 27, "surveillance": 2, "doorgezet_gemeente": 3, "actie_wijkagent": 2,
                     "interne_informatiedeling": 1}
RECORDED_NONE_SHARE = 0.5  # of those without follow-up: the operator records "geen opvolging" (else nothing)
# Arrests: 5 in 4 of the 63 cases; "geen verdachte situatie": 4 of 63.
ARREST_SHARE, FALSE_ALARM_SHARE = 4 / 63, 4 / 63
CATEGORY_CORRECTED_SHARE = 0.8  # an operator puts the category right when the engine read it differently

ALERT_SHARE = {"P1": 0.6, "P2": 0.1}  # incidents that get an alarm to the beheerders of their wijk
WEEKLY_INFORMATION_SHARE = 0.6  # a wijkagent's tip to their wijken in a week
DELIVERY_FAILED_SHARE, READ_SHARE, FORWARD_SHARE = 0.04, 0.8, 0.65


@dataclass(frozen=True)
class Decision:
    """What an operator does with an incident: claim it after `claim_after`, decide after `decide_after`."""

    claim_after: timedelta
    decide_after: timedelta
    follow_up: str | None
    result: str | None
    category: str | None  # set when correcting the engine
    urgency: str | None  # set when changing the engine's urgency
    reason: str | None


@dataclass(frozen=True)
class PhoneAnswer:
    """How one recipient's phone and the beheerder answer an alert or a terugkoppeling."""

    delivered_after: timedelta | None
    read_after: timedelta | None
    forwarded_after: timedelta | None
    failed: bool


def monthly_rate(rng: random.Random) -> float:
    return rng.uniform(*MONTHLY_REPORTS)


def moment(rng: random.Random, day: date) -> datetime:
    """A time on this Amsterdam day, in the evening more often than at night."""
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), tzinfo=AMSTERDAM)
    return local.astimezone(ZoneInfo("UTC"))


def _seconds(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(seconds=round(rng.uniform(low, high)))


_CLAIM_SECONDS = {"P1": (15, 180), "P2": (60, 900), "P3": (180, 3600), "none": (300, 7200)}


def decide(rng: random.Random, *, urgency: str, category: str, intended: str, appearance_only: bool) -> Decision:
    """The operator's decision on a new incident whose engine labels are `urgency` and `category`; `intended`
    is the kind the message was written as."""
    claim = _seconds(rng, *_CLAIM_SECONDS.get(urgency, _CLAIM_SECONDS["none"]))
    decide_after = claim + _seconds(rng, 30, 1200)
    corrected = intended if intended != category and rng.random() < CATEGORY_CORRECTED_SHARE else None
    new_urgency, reason = None, None
    if appearance_only and rng.random() < 0.5:
        new_urgency, reason = "none", "alleen uiterlijk, geen gedrag"
    elif appearance_only and rng.random() < 0.05:
        new_urgency, reason = "P2", "past bij een lopend onderzoek"
    police_matter = (new_urgency or urgency) != "none"
    follow_up, result = (_follow_up(rng, new_urgency or urgency) if police_matter else (None, None))
    return Decision(claim, decide_after, follow_up, result, corrected, new_urgency, reason)


def _follow_up(rng: random.Random, urgency: str) -> tuple[str | None, str | None]:
    known = KNOWN_FOLLOW_UP_SHARE + (0.25 if urgency == "P1" else 0.0)
    if rng.random() >= known:
        return ("geen_opvolging" if rng.random() < RECORDED_NONE_SHARE else None), None
    weights = dict(FOLLOW_UP_WEIGHTS, ter_plaatse=FOLLOW_UP_WEIGHTS["ter_plaatse"] * (3 if urgency == "P1" else 1))
    follow_up = rng.choices(list(weights), weights=list(weights.values()))[0]
    draw = rng.random() * KNOWN_FOLLOW_UP_SHARE  # the shares of table 3.4 are of all 63 reports
    result = "aanhouding" if draw < ARREST_SHARE else \
        "geen_verdachte_situatie" if draw < ARREST_SHARE + FALSE_ALARM_SHARE else None
    return follow_up, result


def alert_kind(rng: random.Random, urgency: str, category: str, in_progress: bool) -> str | None:
    """The alarm an incident gets, if any: a heterdaad in progress, a missing person, sometimes a signalement."""
    if category == "vermissing":
        return "vermissing"
    if rng.random() >= ALERT_SHARE.get(urgency, 0.0):
        return None
    return "heterdaad" if in_progress and category in ("delict", "signalement") else \
        "signalement" if category == "signalement" else None


def phone_answer(rng: random.Random, *, alert: bool) -> PhoneAnswer:
    """Delivered within seconds mostly (a minute or two for a phone that was off), read within minutes,
    and an alert passed on to the groups by most beheerders."""
    if rng.random() < DELIVERY_FAILED_SHARE:
        return PhoneAnswer(None, None, None, failed=True)
    delivered = _seconds(rng, 1, 20) if rng.random() < 0.85 else _seconds(rng, 20, 900)
    read = delivered + _seconds(rng, 10, 1800) if rng.random() < READ_SHARE else None
    forwarded = None
    if alert and read is not None and rng.random() < FORWARD_SHARE / READ_SHARE:
        forwarded = read + _seconds(rng, 20, 600)
    return PhoneAnswer(delivered, read, forwarded, failed=False)
