"""triage(): one forwarded report + the knowledge base -> labels, reasons and advice. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from app.triage.geo import AMSTERDAM, HotWindow, haversine_m, local_time_label, matching_window
from app.triage.keywords import find_keyword, stem
from app.triage.knowledge import Hotspot, KnowledgeBase, Signalement
from app.triage.lexicon import Doc
from app.triage.location import LocationMatch, resolve_location
from app.triage.text import TextAnalysis, analyse_text

__all__ = ["LocationMatch", "Reason", "ReportFacts", "TriageResult", "triage", "URGENCIES"]

URGENCIES = ("P1", "P2", "P3", "none")
# the P1 safety floors (domain.md: harm to a person now), each with its own reason code
FLOOR_TEXTS = {
    "floor_harm": "letsel", "floor_ambulance": "ambulance gebeld of onderweg", "floor_weapon": "wapen",
    "floor_fire": "brand", "floor_robbery": "beroving of overval", "floor_snatch": "iets van een persoon weggerukt",
    "floor_hit_and_run": "aanrijding met letsel", "floor_missing": "vermist kind of kwetsbare persoon",
}
FLOOR_PREFIX = "veiligheidsvloer P1: "  # starts the text of every floor reason
UNRECOGNISED = "unrecognised"
LABEL_FIELDS = ("urgency", "category", "offence", "in_progress", "called_112", "appearance_only", "wijk")


@dataclass(frozen=True)
class ReportFacts:
    text: str
    received_at: datetime  # aware
    source_wijk: str | None
    lat: float | None
    lon: float | None
    street: str | None = None
    house_number: str | None = None
    place: str | None = None


@dataclass(frozen=True)
class Reason:
    code: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class TriageResult:
    urgency: str
    category: str
    offence: str | None
    in_progress: bool
    called_112: bool
    appearance_only: bool
    wijk: str | None
    location: LocationMatch
    hotspot_ids: tuple[str, ...]
    signalement_ids: tuple[str, ...]
    reasons: tuple[Reason, ...]
    advice: tuple[str, ...]

    def labels(self) -> dict[str, Any]:
        """The seven label fields, exactly as in the eval file's `labels`."""
        return {
            "urgency": self.urgency, "category": self.category, "offence": self.offence,
            "in_progress": self.in_progress, "called_112": self.called_112,
            "appearance_only": self.appearance_only, "wijk": self.wijk,
        }


def _fmt_windows(windows: tuple[HotWindow, ...]) -> str:
    return ", ".join(w.label for w in windows)


@dataclass(frozen=True)
class _HotspotHit:
    hotspot: Hotspot
    window: HotWindow | None
    distance_m: float


def _hotspots(kb: KnowledgeBase, loc: LocationMatch, offence: str | None,
              when: datetime) -> list[_HotspotHit]:
    if loc.lat is None or loc.lon is None or offence is None:
        return []
    day = when.astimezone(AMSTERDAM).date()
    hits = []
    for hs in kb.hotspots:
        if offence not in hs.offences or not hs.valid_on(day):
            continue
        distance = haversine_m(loc.lat, loc.lon, hs.lat, hs.lon)
        if distance <= hs.radius_m:
            hits.append(_HotspotHit(hs, matching_window(kb.hot_windows.get(hs.id, ()), when), distance))
    return hits


def _signalementen(kb: KnowledgeBase, doc: Doc, wijk: str | None, offence: str | None,
                   received_at: datetime) -> list[tuple[Signalement, list[str]]]:
    if wijk is None:
        return []
    active = [s for s in kb.signalementen if wijk in s.wijkcodes and s.active_at(received_at)]
    if not active:
        return []
    tokens = [(t, stem(t)) for t in doc.tokens]
    long_tokens = [t for t in doc.tokens if len(t) >= 5]
    found = []
    for sig in active:
        patterns = kb.signalement_keywords.get(sig.id, ())
        hits = [p for p in patterns if find_keyword(tokens, doc.token_sentence, p, doc.text, long_tokens)]
        compatible = offence is None or sig.offence is None or offence == sig.offence
        same_offence = offence is not None and offence == sig.offence
        strong = any(p.multiword for p in hits) and compatible or any(
            len(p.keyword) >= 8 for p in hits) and same_offence
        # behaviour that points at another crime than the wanted one needs more matching details
        if len(hits) >= (2 if compatible else 3) or strong:
            found.append((sig, [p.keyword for p in hits]))
    return found


def triage(report: ReportFacts, kb: KnowledgeBase) -> TriageResult:
    """Label one report per the rules of domain.md ("How to decide")."""
    if report.received_at.tzinfo is None:  # naive (e.g. read back from SQLite): taken as UTC
        report = replace(report, received_at=report.received_at.replace(tzinfo=UTC))
    lex = kb.compiled
    doc = Doc.from_text(report.text)
    a: TextAnalysis = analyse_text(report.text, report.received_at, lex, doc)
    loc = resolve_location(
        doc, kb.street_index, kb.wijk_at, source_wijk=report.source_wijk, lat=report.lat, lon=report.lon,
        street=report.street, house_number=report.house_number, place=report.place, raw_text=report.text,
    )
    reasons: list[Reason] = []
    advice: list[str] = []
    lexicon = kb.lexicon

    def say(key: str) -> None:
        text = lexicon.advice.get(key)
        if text and text not in advice:
            advice.append(text)

    # --- facts found in the text
    if a.calloff:
        reasons.append(Reason("negation", f"afmelding: '{a.calloff}'"))
    for phrase in a.negated[:2]:
        reasons.append(Reason("negation", f"ontkend: '{phrase}'"))
    if a.noise is not None:
        reasons.append(Reason("noise", f"geen politiezaak ({a.noise.replace('_', ' ')})"))
    if a.offence and a.offence_phrase:
        kind = "delict" if a.offence_level == "crime" else "gedrag dat wijst op"
        reasons.append(Reason("offence", f"{kind} {a.offence}: '{a.offence_phrase}'"))
    if a.description and a.category == "signalement":
        reasons.append(Reason("description", "signalement: " + ", ".join(dict.fromkeys(a.description[:4]))))
    if a.appearance_only:
        reasons.append(Reason("appearance_only", f"noemt alleen uiterlijk of afkomst ('{a.appearance[0]}'), "
                                                 "geen verdacht gedrag"))
    if a.in_progress and a.category != "overig":
        detail = a.time.now or (f"ca. {round(a.time.minutes_ago)} min geleden"
                                if a.time.minutes_ago is not None else "tegenwoordige tijd")
        reasons.append(Reason("in_progress", f"gebeurt nu of enkele minuten geleden ({detail})"))
    elif a.time.past and a.category != "overig":
        reasons.append(Reason("past_event", f"eerder gebeurd ('{a.time.past}')"))
    elif a.time.minutes_ago is not None and not a.in_progress and a.category != "overig":
        reasons.append(Reason("past_event", f"ca. {round(a.time.minutes_ago)} min geleden"))
    if a.called_112:
        reasons.append(Reason("called_112", "politie/112 is al op de hoogte"
                              if not a.police_info else "informatie afkomstig van politie/wijkagent"))
    if a.unrecognised:
        reasons.append(Reason(UNRECOGNISED, "niet herkend: beoordeel zelf"))
    if a.missing_person and a.noise is None:
        if a.missing_child:
            reasons.append(Reason("missing_child", "vermist kind"))
        elif a.missing_vulnerable:
            reasons.append(Reason("missing_vulnerable", "vermiste kwetsbare persoon"))
        else:
            reasons.append(Reason("missing_person", "vermiste volwassene zonder teken van gevaar"))

    # --- location
    if loc.method == "street" and loc.street:
        number = f" {loc.house_number}" if loc.house_number else ""
        where = f" in {loc.wijk}" if loc.wijk else " (wijk niet eenduidig)"
        reasons.append(Reason("location", f"straat {loc.street}{number}{where}"))
    elif loc.method == "coordinates":
        reasons.append(Reason("location", f"coördinaten in {loc.wijk}" if loc.wijk
                              else "coördinaten buiten alle bekende wijken"))
    elif loc.method == "none" and loc.street:
        reasons.append(Reason("location", f"plaats '{loc.street}' ligt buiten de bekende wijken"))

    # --- urgency
    serious = a.offence is not None and a.crime and a.offence not in lexicon.minor_offences
    hotspot_hits: list[_HotspotHit] = []
    signalement_hits: list[tuple[Signalement, list[str]]] = []
    if a.category not in ("overig", "informatie", "vermissing"):
        hotspot_hits = _hotspots(kb, loc, a.offence, a.time.event_time)
        signalement_hits = _signalementen(kb, doc, loc.wijk, a.offence, report.received_at)
    lifting_hotspots = [h for h in hotspot_hits if h.window is not None and (a.in_progress or a.recent)]
    for h in hotspot_hits:
        hs = h.hotspot
        offence = a.offence or "?"
        if h.window is not None:
            reasons.append(Reason("hotspot", f"binnen hotspot {hs.name} ({offence}), {h.window.label}"))
            reasons.append(Reason("hot_time", f"{local_time_label(a.time.event_time)} valt in de hot time "
                                              f"{h.window.label}"))
        else:
            reasons.append(Reason("hotspot", f"binnen hotspot {hs.name} ({offence}), maar buiten de hot time "
                                             f"({_fmt_windows(kb.hot_windows.get(hs.id, ()))})"))
    for sig, words in signalement_hits:
        reasons.append(Reason("signalement_match", f"lijkt op signalement {sig.id} ({', '.join(words)})"))

    if a.floors and a.in_progress and a.category not in ("informatie", "overig"):
        urgency = "P1"
        reasons.extend(Reason(code, f"{FLOOR_PREFIX}{FLOOR_TEXTS.get(code, code)} ('{phrase}')")
                       for code, phrase in a.floors)
    elif a.unrecognised:
        urgency = "P3"
    elif a.category == "overig":
        urgency = "none"
    elif a.appearance_only or a.category == "informatie":
        urgency = "P3"
    elif a.category == "vermissing":
        urgency = "P1" if a.in_progress and (a.missing_child or a.missing_vulnerable) else "P3"
    else:
        someone_there = (a.actor or a.pronoun or a.time.now is not None) and not a.no_suspect
        if a.in_progress and a.crime and a.offence is not None and (
                a.offence in lexicon.p1_always_offences
                or (a.offence in lexicon.p1_offences and someone_there)):
            urgency = "P1"
        elif serious and (a.in_progress or a.recent):
            urgency = "P2"
            if not a.in_progress:
                reasons.append(Reason("recent", "delict binnen het afgelopen uur"))
        elif a.category == "signalement" and a.in_progress and (a.behaviour or a.crime):
            urgency = "P2"
            reasons.append(Reason("signalement_now", "signalement van verdacht gedrag, nu"))
        elif signalement_hits or lifting_hotspots:
            urgency = "P2"
        else:
            urgency = "P3"

    if urgency == "P1" and a.assumed_now:
        reasons.append(Reason("unsure_time", "geen tijd genoemd: bij twijfel als nu behandeld (hoogste urgentie)"))
    if urgency in ("P1", "P2") and a.time.from_range:
        reasons.append(Reason("unsure_time", "tijdvak genoemd: bij twijfel het recentste moment aangehouden"))
    if urgency == "P2" and a.assumed_recent:
        reasons.append(Reason("unsure_time", "geen tijd genoemd: bij twijfel als recent behandeld (hoogste urgentie)"))

    # --- advice for the beheerder
    if a.noise == "huisdier":
        say("pet")
    if a.noise in ("parkeren", "verkeer"):
        say("parking")
    if a.appearance_only:
        say("appearance_only")
    if a.in_progress and not a.called_112 and not a.appearance_only \
            and a.category not in ("overig", "informatie"):
        say("call_112")
        if a.category == "vermissing" and urgency == "P1":
            say("missing_112")
    if a.category == "delict" and not a.in_progress and not a.called_112 and urgency == "P3":
        say("report_past")

    return TriageResult(
        urgency=urgency,
        category=a.category,
        offence=a.offence,
        in_progress=a.in_progress,
        called_112=a.called_112,
        appearance_only=a.appearance_only,
        wijk=loc.wijk,
        location=loc,
        hotspot_ids=tuple(h.hotspot.id for h in hotspot_hits),
        signalement_ids=tuple(s.id for s, _ in signalement_hits),
        reasons=tuple(reasons),
        advice=tuple(advice),
    )
