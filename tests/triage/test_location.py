"""Where it happens: streets in chat spelling, ambiguous streets, coordinates, the group's wijk."""

from __future__ import annotations

import pytest

from tests.triage.helpers import Run

AT = "2026-11-20T13:00:00+01:00"


@pytest.mark.parametrize("spelling", ["rechtbooms sloot", "Rechtboomssloot", "rechtbomsloot",
                                      "RECHTBOOMSSLOOT"])
def test_misspelled_street(run: Run, spelling: str) -> None:
    r = run(f"iemand kijkt in auto's op de {spelling}", AT, "WK036301")
    assert r.wijk == "WK036302"
    assert r.location.method == "street"
    assert r.location.street == "Rechtboomssloot"


def test_oude_wal_and_kromboomsloot(run: Run) -> None:
    assert run("op de oude wal staat een auto open", AT, None).location.street == "Oude Waal"
    assert run("kromboomsloot: fiets gejat", AT, None).location.street == "Kromboomssloot"


def test_ambiguous_street_decided_by_the_groups_wijk(run: Run) -> None:
    text = "kerkstraat: iemand probeert de deur van een huis open te breken"
    assert run(text, AT, "WK036206").wijk == "WK036206"  # Bovenkerk group -> Kerkstraat Bovenkerk
    assert run(text, AT, "WK085531").wijk == "WK085531"  # K-buurt group -> Kerkstraat Tilburg


def test_ambiguous_street_decided_by_the_groups_gemeente(run: Run) -> None:
    # a Middenhoven group (Amstelveen): Parkweg in Amstelveen is in Westwijk, not the Tilburg one
    r = run("parkweg: iemand probeert de achterdeur van nr 14 open te breken", AT, "WK036205")
    assert r.wijk == "WK036204"
    assert r.location.house_number == "14"
    # a Tilburg D-buurt group: its own Parkweg
    assert run("parkweg: iemand probeert de achterdeur open te breken", AT, "WK085532").wijk == "WK085532"


def test_street_elsewhere_beats_the_groups_wijk(run: Run) -> None:
    r = run("Reeshof: inbraak bezig kievitlaan, man met wit petje", "2026-11-26T21:45:00+01:00", "WK085532")
    assert r.wijk == "WK085531"


def test_no_place_uses_the_groups_wijk(run: Run) -> None:
    r = run("iemand loopt hier langs de auto's en kijkt overal naar binnen", AT, "WK003402")
    assert (r.wijk, r.location.method) == ("WK003402", "source_wijk")


def test_coordinates_only(run: Run) -> None:
    r = run("\U0001F4CD man slaat een andere man", AT, "WK036204", lat=52.3745, lon=4.9059)
    assert (r.wijk, r.location.method) == ("WK036302", "coordinates")


def test_coordinates_outside_every_wijk(run: Run) -> None:
    r = run("\U0001F4CD iemand probeert fietsen los te knippen", AT, "WK036204", lat=52.3000, lon=4.8000)
    assert r.wijk is None
    assert r.location.method == "coordinates"


def test_unknown_street_is_outside_the_known_wijken(run: Run) -> None:
    r = run("op de handelsweg staat een auto open met de ruit ingeslagen", AT, "WK036204")
    assert r.wijk is None


def test_town_we_do_not_know(run: Run) -> None:
    assert run("mijn fiets is gestolen in Utrecht", AT, "WK036204").wijk is None


@pytest.mark.parametrize("text", [
    "donkere man loopt door de straat",          # Donkerstraat
    "ik heb de plaats delict gezien",           # Plaats (Almere) from an Amsterdam group
    "ze staan op de markt",                     # Markt is in Almere, the group is in Amsterdam
    "de groene jas lag bij de kerk",            # Groenelaan / Kerkstraat
    "hij ging parkeren bij de sportschool",     # Parkweg / Sportlaan
])
def test_ordinary_words_are_not_streets(run: Run, text: str) -> None:
    r = run(text, AT, "WK036301")
    assert r.location.method == "source_wijk", r.location
    assert r.wijk == "WK036301"


def test_generic_street_name_counts_in_its_own_gemeente(run: Run) -> None:
    r = run("markt: 2 jongens lopen heel dicht achter oudere mensen aan", "2026-11-21T12:30:00+01:00",
            "WK003402")
    assert r.location.street == "Markt"
    assert r.wijk == "WK003401"


def test_direction_of_flight_is_not_the_scene(run: Run) -> None:
    r = run("inbraak op de kievitlaan, dader rent weg richting dalemstraat", "2026-11-26T21:45:00+01:00",
            "WK085531")
    assert r.location.street == "Kievitlaan"


def test_given_street_field_is_used(run: Run) -> None:
    r = run("iemand voelt aan de deuren", AT, "WK036206", street="Zetterij", house_number="3")
    assert (r.wijk, r.location.street, r.location.house_number) == ("WK036206", "Zetterij", "3")
