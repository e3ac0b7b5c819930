"""Hotspots, hot times (midnight, weekdays, DST) and wanted signalementen."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from app.triage.engine import ReportFacts, triage
from app.triage.geo import parse_hot_time
from app.triage.knowledge import KnowledgeBase, build_knowledge_base
from tests.triage.helpers import Run

POORTWACHTER = "poortwachter: iemand loopt de achterpaden af en kijkt over de schuttingen"


def test_hotspot_lift_inside_its_hot_time(run: Run) -> None:
    r = run(POORTWACHTER, "2026-10-15T17:40:00+02:00", "WK036204")
    assert r.urgency == "P2"
    assert r.hotspot_ids == ("HS-07",)
    assert any(reason.code == "hot_time" for reason in r.reasons)


def test_hotspot_no_lift_outside_its_hot_time(run: Run) -> None:
    r = run(POORTWACHTER, "2026-10-15T13:40:00+02:00", "WK036204")
    assert r.urgency == "P3"
    assert not any(reason.code == "hot_time" for reason in r.reasons)


def test_hotspot_needs_a_matching_offence(run: Run) -> None:
    # HS-07 is about woninginbraak; car behaviour there is not lifted
    r = run("poortwachter: iemand kijkt in de geparkeerde auto's", "2026-10-15T17:40:00+02:00", "WK036204")
    assert r.urgency == "P3"
    assert r.hotspot_ids == ()


def test_window_crossing_midnight(run: Run) -> None:
    text = "\U0001F4CD iemand loopt langs de geparkeerde auto's en trekt aan de portieren"
    at_zonnestein = {"lat": 52.2939, "lon": 4.8117}
    assert run(text, "2026-11-18T02:30:00+01:00", "WK036204", **at_zonnestein).urgency == "P2"  # 23:00-05:00
    assert run(text, "2026-11-18T06:30:00+01:00", "WK036204", **at_zonnestein).urgency == "P3"
    assert run(text, "2026-11-17T23:30:00+01:00", "WK036204", **at_zonnestein).urgency == "P2"


def test_weekday_window_belongs_to_the_day_it_started() -> None:
    window = parse_hot_time("Sa 22:00-04:00")
    assert window.contains(datetime.fromisoformat("2026-10-10T23:00:00+02:00"))      # Saturday night
    assert window.contains(datetime.fromisoformat("2026-10-11T01:30:00+02:00"))      # early Sunday
    assert not window.contains(datetime.fromisoformat("2026-10-10T01:30:00+02:00"))  # early Saturday
    assert not window.contains(datetime.fromisoformat("2026-10-11T23:00:00+02:00"))  # Sunday night


def test_weekday_hotspot_in_the_engine(run: Run) -> None:
    text = "markt: 2 jongens lopen heel dicht achter oudere mensen aan bij de kaaskraam"
    assert run(text, "2026-11-21T12:30:00+01:00", "WK003401").urgency == "P2"  # Saturday
    assert run(text, "2026-11-19T12:30:00+01:00", "WK003401").urgency == "P3"  # Thursday


def test_dst_end_last_sunday_of_october() -> None:
    # 25 Oct 2026: clocks go back at 03:00 CEST. 01:30 UTC is 02:30 CET (the second 02:30), inside
    # 22:00-03:00; a fixed +02:00 offset would make it 03:30 and outside.
    window = parse_hot_time("22:00-03:00")
    assert window.contains(datetime.fromisoformat("2026-10-25T01:30:00+00:00"))
    assert not window.contains(datetime.fromisoformat("2026-10-25T02:30:00+00:00"))  # 03:30 CET


def test_dst_start_last_sunday_of_march() -> None:
    # 28 Mar 2027: clocks go forward at 02:00 CET. 01:30 UTC is 03:30 CEST, outside 22:00-03:00;
    # a fixed +01:00 offset would make it 02:30 and inside.
    window = parse_hot_time("22:00-03:00")
    assert not window.contains(datetime.fromisoformat("2027-03-28T01:30:00+00:00"))
    assert window.contains(datetime.fromisoformat("2027-03-28T00:30:00+00:00"))  # 01:30 CET


def test_dst_night_in_the_engine(run: Run) -> None:
    text = "oude waal: iemand kijkt met een zaklamp in de geparkeerde auto's"
    # HS-01 22:00-03:00. 25 Oct 2026 01:30 UTC = 02:30 CET: inside. 02:30 UTC = 03:30 CET: outside.
    assert run(text, "2026-10-25T01:30:00+00:00", "WK036302").urgency == "P2"
    assert run(text, "2026-10-25T02:30:00+00:00", "WK036302").urgency == "P3"


def test_expired_hotspot_does_not_lift(kb: KnowledgeBase) -> None:
    hotspots = [replace(h, valid_until=date(2026, 1, 1)) if h.id == "HS-07" else h for h in kb.hotspots]
    expired = build_knowledge_base(kb.wijken.values(), kb.streets, hotspots, kb.signalementen, kb.lexicon)
    at = datetime.fromisoformat("2026-10-15T17:40:00+02:00")
    report = ReportFacts(POORTWACHTER, at, "WK036204", None, None)
    assert triage(report, kb).urgency == "P2"
    assert triage(report, expired).urgency == "P3"


def test_hotspot_does_not_lift_appearance_only(run: Run) -> None:
    r = run("poortwachter: twee buitenlandse mannen lopen door de straat", "2026-10-15T17:40:00+02:00",
            "WK036204")
    assert r.appearance_only is True
    assert r.urgency == "P3"


def test_signalement_match_lifts_to_p2(run: Run) -> None:
    text = ("gisteravond liep er een man met een rode capuchon en blauwe bodywarmer over ons achterpad, "
            "keek bij de buren naar binnen")
    r = run(text, "2026-12-10T09:15:00+01:00", "WK036205")
    assert r.signalement_ids == ("S-2",)
    assert r.urgency == "P2"
    assert any(reason.code == "signalement_match" and "S-2" in reason.text for reason in r.reasons)


def test_expired_signalement_does_not_match(run: Run) -> None:
    text = ("gisteravond liep er een man met een rode capuchon en blauwe bodywarmer over ons achterpad, "
            "keek bij de buren naar binnen")
    r = run(text, "2027-01-12T09:15:00+01:00", "WK036205")
    assert r.signalement_ids == ()
    assert r.urgency == "P3"


def test_signalement_only_in_its_wijken(run: Run) -> None:
    text = "gisteren man met geel hesje en clipboard aan de deur, collecteert voor een goed doel"
    assert run(text, "2026-11-28T11:10:00+01:00", "WK003403").signalement_ids == ("S-3",)
    assert run(text, "2026-11-28T11:10:00+01:00", "WK036205").signalement_ids == ()


def test_signalement_fuzzy_keywords(run: Run) -> None:
    r = run("vanochtend twee mannen met een wit busje en een kniptang bij de stalling op de duivenstraat",
            "2026-12-15T09:30:00+01:00", "WK085532")
    assert r.signalement_ids == ("S-4",)
    assert "lijkt op signalement S-4" in " ".join(reason.text for reason in r.reasons)
