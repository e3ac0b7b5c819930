"""Fails safe on unseen wording: live crimes written by someone who never saw the lexicons are never
dismissed (`none`) nor scored below P2, and ordinary noise stays `none`.

The texts were written before the engine changes of issue 11 and are not in any lexicon.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest

from app.triage.evaluation import run_eval
from app.triage.knowledge import KnowledgeBase
from app.triage.text import analyse_text
from tests.triage.helpers import Run

AT = "2026-11-19T15:10:00+01:00"
LASTAGE = "WK036302"

LIVE_CRIMES = [
    "Er klimt op dit moment een vent over de schutting bij nr 12, hij probeert het achterraam open te wrikken",
    "Ze braken net de achterdeur van de bakker open, ik hoor glas",
    "Iemand sloeg zojuist een oude man neer op het plein, hij bloedt aan zijn hoofd",
    "Jongen rukte mijn telefoon uit mijn hand en rende richting station",
    "Mijn buurvrouw is net beroofd bij de pinautomaat, de dader is weg op een scooter",
    "Er staat een auto in brand op de parkeerplaats achter de flat!!",
    "Twee gasten slopen nu de bushokjes aan de overkant, de ruiten liggen eruit",
    "Net werd er een fiets losgeknipt voor de supermarkt, jongen in groene jas",
    "Iemand heeft zojuist de schuifpui van nummer 30 ingegooid en is naar binnen gegaan",
    "De garagebox naast ons wordt op dit moment opengebroken door 2 mannen",
    "Man met een mes bedreigt mensen bij de snackbar",
    "Er wordt geschoten bij het winkelcentrum, ik hoorde 3 knallen en iemand ligt op de grond",
    "Fietser aangereden door een bestelbus die doorreed, de fietser ligt op straat en bloedt",
    "Mijn zoontje van 6 is sinds een kwartier zoek in het park, blauwe jas",
    "Onze demente vader is net weggelopen uit huis, hij heeft pantoffels aan",
    "Someone just smashed the window of my car and grabbed my laptop bag",
    "There are two guys breaking into the house across the street right now",
    "A man pulled a knife on my neighbour outside the shop",
    "Inbrekers in de tuinschuur van de buren, ze zijn nog bezig!",
    "Heb net gezien dat iemand het slot van de voordeur aan het forceren is bij de overburen",
    "Een jongen haalde zojuist de portemonnee uit de tas van een vrouw bij de tramhalte",
    "Er wordt gevochten voor het cafe, een man ligt bewusteloos",
    "De ambulance is onderweg, mijn buurman is in elkaar geslagen door twee jongens",
    "Iemand stak net de vuilcontainers in de fik, het vuur slaat over naar de schutting",
    "Ze trekken de deur van de bestelwagen van de loodgieter open en laden gereedschap in hun eigen auto",
    "Wij zien twee mannen met breekijzers bij de achterramen van de huizen aan de gracht",
    "inbrekrs bezig in de woning op de hoek, alarm gaat af",
    "Een man slaat zijn vriendin op straat, ze schreeuwt om hulp",
    "mijn tas is uit mijn fietsmand gegrist door een jongen op een scooter, 5 minuten geleden",
    "Zojuist is de kassa van de kiosk leeggeroofd, de dader rende naar de metro",
    "Iemand schopt tegen de autodeuren en trekt de spiegels eraf in onze straat, nu",
    "Help, er zit iemand in ons huis, we horen voetstappen beneden",
    "Er ligt een vrouw gewond naast haar fiets, de automobilist is doorgereden",
    "Jongens gooien op dit moment stenen door de ruiten van de basisschool",
    "Someone is stealing bikes from the rack at the station, cutting the locks as we speak",
    "Twintig minuten geleden is bij ons ingebroken, ze hebben sieraden meegenomen",
    "Een half uur geleden werd mijn moeder op straat beroofd van haar ketting",
    "Er zijn zonet twee scooters gejat uit de stalling onder ons gebouw",
]

NOISE = [
    "Wie heeft er een zwarte kat gezien met een rood halsbandje? Hij is sinds gisteren weg",
    "Bedankt allemaal voor het meedenken gisteren!",
    "Er staat al drie dagen een camper geparkeerd op de stoep voor de school",
    "Weet iemand hoe laat de ophaaldienst morgen komt?",
    "Loos alarm, het was mijn zoon die zijn sleutel vergeten was",
    "Update: politie is ter plaatse geweest, verder niks aan de hand",
    "De hond van nummer 5 blaft de hele dag",
    "Top, dank je wel voor de snelle reactie wijkagent",
    "Auto's rijden hier veel te hard door de straat, kan er een drempel komen?",
    "Vals alarm jongens, was de schoonmaker",
    "Thanks everyone, my bike turned up, my daughter had borrowed it",
    "Does anyone know a good locksmith around here?",
    "Ons konijn is ontsnapt, wit met bruine vlekken, graag een berichtje als je hem ziet",
    "Er staat weer een busje dubbel geparkeerd bij de ingang van de parkeergarage",
    "Goedemorgen allemaal, fijne dag!",
    "Gevonden: een grijze kater, loopt al twee dagen in onze tuin",
]


def test_there_are_enough_fresh_texts() -> None:
    assert len(LIVE_CRIMES) >= 30
    assert len(NOISE) >= 15


@pytest.mark.parametrize("text", LIVE_CRIMES)
def test_a_live_crime_in_fresh_wording_is_at_least_p2(run: Run, text: str) -> None:
    result = run(text, AT, LASTAGE)
    assert result.urgency in ("P1", "P2"), (result.urgency, result.category, result.reasons)


@pytest.mark.parametrize("text", NOISE)
def test_noise_in_fresh_wording_is_none(run: Run, text: str) -> None:
    result = run(text, AT, LASTAGE)
    assert result.urgency == "none", (result.urgency, result.category, result.reasons)


# ----------------------------------------------------------------------------------------------------
# The rules behind it, one by one (own wording, not the examples)


def test_text_the_engine_cannot_place_is_p3_marked_unrecognised(run: Run) -> None:
    result = run("Er klinkt gepiep uit het transformatorhuisje naast de speeltuin", AT, LASTAGE)
    assert result.urgency == "P3"
    assert result.category in ("verdachte_situatie", "overig")
    assert [r.text for r in result.reasons if r.code == "unrecognised"] == ["niet herkend: beoordeel zelf"]


def test_empty_text_is_still_none(run: Run) -> None:
    assert run("   ", AT, LASTAGE).urgency == "none"


@pytest.mark.parametrize(("text", "code"), [
    ("Bij de bakker ligt een jongen die flink bloedt", "floor_harm"),
    ("Ambulance is gebeld, de buurvrouw is gevallen na een duw van een onbekende", "floor_ambulance"),
    ("Een kerel zwaait met een pistool op de stoep", "floor_weapon"),
    ("De containers achter de sporthal staan in lichterlaaie", "floor_fire"),
    ("Een oudere meneer is zojuist op de stoep overvallen", "floor_robbery"),
    ("Een fietser rukte een telefoon uit de hand van een meisje", "floor_snatch"),
    ("Automobilist reed een wandelaar aan en reed weg, de wandelaar is gewond", "floor_hit_and_run"),
    ("a guy is waving a gun around near the tram stop", "floor_weapon"),
    ("my neighbour is bleeding badly, someone hit her", "floor_harm"),
    ("Mijn tasje is net uit mijn hand getrokken door een jongen op een fiets", "floor_snatch"),
    ("my elderly father with dementia walked out 20 minutes ago", "floor_missing"),
])
def test_each_p1_floor_has_its_own_reason(run: Run, text: str, code: str) -> None:
    result = run(text, AT, LASTAGE)
    assert result.urgency == "P1", result.reasons
    assert code in {r.code for r in result.reasons}


def test_a_floor_in_the_past_does_not_make_p1(run: Run) -> None:
    assert run("Vorige week is er iemand met een mes gezien bij het station", AT, LASTAGE).urgency != "P1"


@pytest.mark.parametrize(("text", "minutes"), [
    ("veertig minuten geleden zag ik een man aan de fietsen morrelen", 40),
    ("vijfendertig minuten geleden is er een fiets gestolen", 35),
    ("een kwartier geleden is er een fiets gestolen", 15),
    ("drie kwartier geleden is er een fiets gestolen", 45),
    ("een half uur geleden is er een fiets gestolen", 30),
    ("anderhalf uur geleden is er een fiets gestolen", 90),
    ("forty minutes ago someone stole a bike", 40),
])
def test_number_words_for_times_are_read_completely(kb: KnowledgeBase, text: str, minutes: float) -> None:
    analysis = analyse_text(text, datetime.fromisoformat(AT), kb.compiled)
    assert analysis.time.minutes_ago == minutes


def test_an_unknown_number_is_not_read_as_one_minute(kb: KnowledgeBase) -> None:
    analysis = analyse_text("flink wat minuten geleden is er een fiets gestolen", datetime.fromisoformat(AT),
                            kb.compiled)
    assert analysis.time.minutes_ago != 1


@pytest.mark.parametrize(("text", "offence"), [
    ("niet normaal, inbrekers in de straat!", "woninginbraak"),
    ("er is niks gestolen uit de auto", None),
    ("niks gestolen, maar de fiets van de buren is gejat", "fietsdiefstal"),
])
def test_negation_ends_at_a_clause_boundary(run: Run, text: str, offence: str | None) -> None:
    assert run(text, AT, LASTAGE).offence == offence


@pytest.mark.parametrize(("text", "offence"), [
    ("Twee jongens braken gisteravond in bij de garage van de buren", "woninginbraak"),  # separable, strong
    ("De garagebox is opengebroken", "woninginbraak"),  # compound head, participle
    ("De achterdeur is ingetrapt en de kamer doorzocht", "woninginbraak"),
    ("Iemand jatte net mijn tas van het terras", "diefstal"),
    ("inbrekkers in de schuur van nummer 2", "woninginbraak"),  # misspelt
])
def test_lemma_entries_match_inflections_separable_verbs_compounds_and_typos(
        run: Run, text: str, offence: str) -> None:
    assert run(text, AT, LASTAGE).offence == offence


def test_a_misspelt_called_112_is_seen(run: Run) -> None:
    result = run("inbrekers bij de buren, politie is gebelt", AT, LASTAGE)
    assert result.called_112
    assert "Gebeurt het nu? Bel 112." not in result.advice


def test_eval_reports_p1_scored_low_and_the_unrecognised_share(tmp_path: Path, kb: KnowledgeBase) -> None:
    lines = [
        {"id": "a", "received_at": AT, "source_wijk": LASTAGE, "text": "Er klinkt gepiep uit het "
         "transformatorhuisje naast de speeltuin", "labels": {"urgency": "P1"}},
        {"id": "b", "received_at": AT, "source_wijk": LASTAGE, "text": "Bedankt allemaal!",
         "labels": {"urgency": "none"}},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = io.StringIO()
    assert run_eval(path, None, True, kb, out) == 0
    scores = json.loads(out.getvalue())
    assert scores["p1_scored_p3_or_none"] == 1
    assert scores["unrecognised"] == {"count": 1, "of": 2, "share": 0.5}
    assert scores["urgency_confusion"]["matrix"]["P1"]["P3"] == 1
