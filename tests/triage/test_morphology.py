"""The morphology layer in front of every lexicon pattern (the lemma view), English reports, positive noise
evidence and times of day in words.

The texts are written for these tests in wording of their own; in each, the crime is named only in a form
that no pattern lists (a participle, a separable verb, a compound, a misspelling).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from app.triage.knowledge import KnowledgeBase, load_knowledge_base_from_dir
from app.triage.lexicon import Doc
from app.triage.lexicon.morphology import LemmaDoc
from app.triage.lexicon.schema import LexiconSchemaError
from app.triage.text import analyse_text
from tests.triage.helpers import CONFIG, Run

AT = "2026-11-19T15:10:00+01:00"
LASTAGE = "WK036302"


@pytest.mark.parametrize(("text", "offence"), [
    ("De kelderdeur van de buren is zojuist opengeschopt", "woninginbraak"),  # participle of a lemma entry
    ("Twee mannen trapten net de tuindeur van nummer 9 open", "woninginbraak"),  # separable verb
    ("er word nu ingebroke in de garage van de buren", "woninginbraak"),  # misspelt participle
    ("De dief heeft net mijn fiets gestoolen bij de bieb", "fietsdiefstal"),  # misspelt participle
    ("Hij sloeg zojuist de achterruit van een busje in", "autokraak"),  # separable verb, not vandalism
    ("Iemand pikte zojuist een pakketje van de stoep", "diefstal"),  # past tense
    ("jongens schopten net alle bloembakken in de straat kapot", "vernieling"),  # separable, not violence
    ("De gevelbrievenbus is net opgeblazen met vuurwerk", "vernieling"),  # compound head
    ("two men forcing the back door of the house opposite", "woninginbraak"),  # English -ing form
])
def test_a_pattern_matches_inflections_separable_verbs_compounds_and_typos(
        run: Run, text: str, offence: str) -> None:
    result = run(text, AT, LASTAGE)
    assert (result.offence, result.urgency) == (offence, "P1"), result.reasons


def _view(kb: KnowledgeBase, text: str) -> list[str]:
    view = LemmaDoc(Doc.from_text(text), kb.compiled.morphology).view
    return view.tokens if view is not None else Doc.from_text(text).tokens


def test_the_lemma_view_writes_words_as_the_lexicon_words_they_stand_for(kb: KnowledgeBase) -> None:
    assert _view(kb, "ze sloegen de etalageruit in") == ["ze", "inslaan", "de", "ruit", "in"]
    assert _view(kb, "inbrekrs in de tuinschuren") == ["inbrekers", "in", "de", "schuren"]


def test_a_particle_before_a_determiner_is_a_preposition(kb: KnowledgeBase) -> None:
    assert "inslaan" not in _view(kb, "hij sloeg hem in het gezicht")


def test_a_compound_head_needs_a_dutch_word_in_front(run: Run) -> None:
    result = run("flames are coming out of the roof of the house next door", AT, LASTAGE)
    assert "floor_weapon" not in {r.code for r in result.reasons}  # "flames" is no "fla" + "mes"
    assert "floor_fire" in {r.code for r in result.reasons}


def test_a_signal_kept_to_the_text_must_exist(tmp_path: Path) -> None:
    text = (CONFIG / "triage.yaml").read_text(encoding="utf-8")
    (tmp_path / "triage.yaml").write_text(
        text.replace("surface_only_signals: [called_112,", "surface_only_signals: [called_113,"), encoding="utf-8")
    for name in ("geo",):
        (tmp_path / name).symlink_to(CONFIG / name)
    with pytest.raises(LexiconSchemaError, match=r"morphology\.surface_only_signals\.0: no signal named"):
        load_knowledge_base_from_dir(tmp_path)


# ----------------------------------------------------------------------------------------------------
# English reports get the same floors and the same care


@pytest.mark.parametrize("text", [
    "someone is kicking in the door next door right now",
    "a man is lying unconscious on the pavement outside the pharmacy",
    "there's a guy waving a knife around near the tram stop",
    "our neighbours' shed is on fire, the flames are reaching the fence",
    "two guys just mugged an old man at the cash machine",
    "a guy on a scooter just ripped a bag from a tourist's shoulder",
    "a cyclist got knocked off his bike by a van that didn't stop, he's bleeding from his head",
    "my 7 year old son didn't come home from school, he's been gone for an hour",
    "an elderly lady with dementia is wandering around, she doesn't know where she lives",
    "somebody is breaking into the bike shed behind our building",
    "a group of lads are smashing car windows on the street right now",
    "a woman is lying on the ground after a car hit her, the driver drove off",
])
def test_an_english_live_crime_or_harm_is_p1(run: Run, text: str) -> None:
    result = run(text, AT, LASTAGE)
    assert result.urgency == "P1", (result.category, result.offence, result.reasons)


@pytest.mark.parametrize(("text", "offence"), [
    ("a woman is lying on the ground after a car hit her, the driver drove off", "aanrijding"),
    ("a cyclist got knocked off his bike by a van that didn't stop, he's bleeding", "aanrijding"),
    ("a guy on a scooter just ripped a bag from a tourist's shoulder", "diefstal"),
])
def test_an_english_collision_or_snatch_is_named_as_such(run: Run, text: str, offence: str) -> None:
    assert run(text, AT, LASTAGE).offence == offence


@pytest.mark.parametrize("text", [
    "my neighbour's car alarm keeps going, annoying",
    "the police were already here, all fine now",
    "police are already here",
    "thanks for the heads up everyone",
    "Does anyone know when the bins are collected?",
    "the street lights on our road are out again",
    "I found a set of keys near the playground, they're at my place",
])
def test_english_noise_is_none(run: Run, text: str) -> None:
    result = run(text, AT, LASTAGE)
    assert result.urgency == "none", (result.category, result.offence, result.reasons)


# ----------------------------------------------------------------------------------------------------
# Positive evidence of noise, never at the price of a live crime


@pytest.mark.parametrize("text", [
    "Gevonden bij het bushokje: een sleutelbos met een rood hangertje, ligt bij mij",
    "Denk eraan, morgen wordt het oud papier opgehaald",
    "De lantaarnpaal voor nummer 20 doet het al een week niet",
    "Wie komt er zaterdag naar het buurtfeest op het pleintje?",
    "Die scooters die met 70 door de straat jakkeren, levensgevaarlijk",
    "Kunnen we stoppen met die kettingbrieven in deze app?",
    "Overal hondenpoep op het grasveld, ruim het op mensen",
    "Bij ons ook, hier ook gehoord",
    "Dat alarm van de supermarkt blijft maar afgaan, heel irritant",
])
def test_ordinary_noise_is_recognised_as_noise(run: Run, text: str) -> None:
    result = run(text, AT, LASTAGE)
    assert result.urgency == "none", (result.category, result.offence, result.reasons)


@pytest.mark.parametrize("text", [
    "Heel irritant, er worden nu weer ruiten ingegooid bij de gymzaal",
    "Bij ons ook: er staan nu twee mannen met een breekijzer aan de achterdeur",
    "Gevonden: mijn gestolen fiets, de dief staat er nu naast het slot door te knippen",
])
def test_a_noise_word_does_not_dismiss_a_live_crime(run: Run, text: str) -> None:
    assert run(text, AT, LASTAGE).urgency in ("P1", "P2")


def test_a_found_wallet_that_was_emptied_is_not_lost_property(run: Run) -> None:
    assert run("bunch of emptied wallets found dumped behind the bins", AT, LASTAGE).urgency != "none"


# ----------------------------------------------------------------------------------------------------
# Missing children, unsure times


def test_a_child_that_is_gone_is_missing(run: Run) -> None:
    result = run("Ons zoontje van 5 is weg bij de speeltuin, iedereen uitkijken", AT, LASTAGE)
    assert (result.urgency, result.category) == ("P1", "vermissing")


def test_a_childs_bike_that_is_gone_is_no_missing_person(run: Run) -> None:
    result = run("de fiets van mijn dochter is weg, iemand gezien?", AT, LASTAGE)
    assert (result.category, result.offence) == ("delict", "fietsdiefstal")


def test_a_crime_just_found_with_no_time_is_taken_as_recent_and_says_so(run: Run) -> None:
    result = run("Ik kom net thuis en de achterdeur is opengebroken, alle kasten zijn doorzocht", AT, LASTAGE)
    assert result.urgency == "P2"
    assert "unsure_time" in {r.code for r in result.reasons}


def test_a_time_span_is_read_at_its_later_end_and_says_so(run: Run) -> None:
    result = run("mijn fiets is vanmiddag tussen 1 en 2 gestolen bij de bieb", "2026-11-19T15:10:00+01:00",
                 LASTAGE)
    assert result.urgency == "P2"
    assert "unsure_time" in {r.code for r in result.reasons}


@pytest.mark.parametrize(("text", "minutes"), [
    ("om half drie is mijn fiets gestolen", 70),
    ("rond kwart over twee is er ingebroken", 85),
    ("om tien voor half drie zag ik hem", 80),
    ("om half 3 werd er ingebroken", 70),
    ("vanmiddag tussen 2 en 3 is de fiets meegenomen", 40),
    ("at half past two my bike was stolen", 70),
    ("om drie uur stond hij er nog", 40),
    ("om een uur of vijf", None),  # "about five": no time to read
    ("om twee mannen te ontlopen", None),
])
def test_a_time_of_day_in_words_is_read(kb: KnowledgeBase, text: str, minutes: float | None) -> None:
    received = datetime.fromisoformat("2026-12-12T15:40:00+01:00")
    assert analyse_text(text, received, kb.compiled).time.minutes_ago == minutes
