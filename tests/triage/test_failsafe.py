"""Fails safe on unseen wording: live crimes written by someone who never saw the lexicons are never
dismissed (`none`) nor scored below P2, and ordinary noise stays `none`.

The texts were written before the engine changes of issue 11 and are not in any lexicon.
"""

from __future__ import annotations

import pytest

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
