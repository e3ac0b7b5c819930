"""General behaviours added while testing on fresh, unseen report batches (tests/data/triage-holdout-2.jsonl).

Each test uses its own wording, not a line of the batch, so it checks the rule rather than one sentence.
"""

from __future__ import annotations

import pytest

from tests.triage.helpers import Run

LASTAGE = "WK036302"
WESTWIJK = "WK036204"
MIDDENHOVEN = "WK036205"
BOVENKERK = "WK036206"
MEENTEN = "WK003402"
GOUWEN = "WK003403"
KBUURT = "WK085531"


def test_car_window_smashed_is_a_car_break_in_not_a_burglary(run: Run) -> None:
    r = run("our car was broken into on the binnenkant. back window smashed, bag gone",
            "2026-11-21T09:30:00+01:00", LASTAGE)
    assert r.offence == "autokraak"
    house = run("ze hebben bij de buren het keukenraam ingeslagen en zijn binnen geweest, de auto stond ervoor",
                "2026-11-21T09:30:00+01:00", LASTAGE)
    assert house.offence == "woninginbraak"


@pytest.mark.parametrize("text", [
    "onze poes is sinds zondag niet meer thuisgekomen, grijs gestreept, wie kijkt even in de schuur?",
    "our cat hasn't come home since yesterday, black with a white chest",
])
def test_pet_not_come_home_is_noise(run: Run, text: str) -> None:
    assert run(text, "2026-11-20T08:30:00+01:00", MEENTEN).urgency == "none"


def test_dog_barking_does_not_make_a_prowler_a_pet_report(run: Run) -> None:
    r = run("vanochtend vroeg een man in de achtertuin van de buren gezien, hij klom over het hek toen onze hond "
            "begon te blaffen", "2026-11-29T13:00:00+01:00", GOUWEN)
    assert r.urgency != "none"
    assert r.offence == "woninginbraak"


def test_lost_child_on_its_own_is_a_missing_child(run: Run) -> None:
    r = run("meisje van een jaar of 4 staat huilend bij de bushalte, ze kan haar mama niet vinden",
            "2026-11-21T13:00:00+01:00", MEENTEN)
    assert (r.urgency, r.category, r.in_progress) == ("P1", "vermissing", True)


def test_missing_adult_not_answering_is_a_missing_person(run: Run) -> None:
    r = run("heeft iemand mijn zus gezien? ze is sinds gisteren niet thuis geweest en niet bereikbaar",
            "2026-11-16T10:00:00+01:00", BOVENKERK)
    assert (r.urgency, r.category) == ("P3", "vermissing")


def test_roof_work_without_a_doorstep_offer_is_not_a_scam(run: Run) -> None:
    r = run("kent iemand een goede dakdekker? de dakgoot lekt", "2026-11-13T10:00:00+01:00", GOUWEN)
    assert r.urgency == "none"
    offer = run("twee mannen bellen aan en bieden aan de dakgoot te reinigen, alleen contant",
                "2026-11-13T10:00:00+01:00", GOUWEN)
    assert offer.offence == "oplichting"


@pytest.mark.parametrize("text", [
    "er gaan mannen langs de deuren die zeggen dat ze van de netbeheerder zijn, ze willen de meter zien",
    "een vrouw deed zich bij mijn moeder voor als medewerker van de thuiszorg",
    "there are two men saying they are from the water company, asking to come inside",
])
def test_impersonation_at_the_door_is_fraud(run: Run, text: str) -> None:
    assert run(text, "2026-11-19T19:30:00+01:00", BOVENKERK).offence == "oplichting"


def test_hedged_scam_is_suspicion_not_a_crime(run: Run) -> None:
    r = run("someone is going door to door on the binnenkant collecting money, probably a scam",
            "2026-11-28T14:00:00+01:00", LASTAGE)
    assert (r.category, r.offence, r.urgency) == ("verdachte_situatie", "oplichting", "P3")


def test_watching_bikes_is_bike_theft_behaviour(run: Run) -> None:
    r = run("jongen op een scooter houdt al een tijdje de fietsen bij het station in de gaten",
            "2026-11-18T15:00:00+01:00", KBUURT)
    assert r.offence == "fietsdiefstal"


def test_taking_from_a_car_is_a_car_break_in(run: Run) -> None:
    r = run("zojuist haalde een jongen een laptop uit een geparkeerde auto op de zijdelweg en rende weg",
            "2026-11-22T16:00:00+01:00", WESTWIJK)
    assert (r.offence, r.urgency) == ("autokraak", "P1")


def test_a_damaged_car_standing_there_is_not_a_live_scene(run: Run) -> None:
    r = run("bij de nesserlaan staat een auto met een ingeslagen zijruit, niemand in de buurt",
            "2026-11-10T12:00:00+01:00", WESTWIJK)
    assert (r.in_progress, r.urgency) == (False, "P3")


def test_dutch_present_progressive_is_a_live_scene(run: Run) -> None:
    r = run("er zit een gozer in de bestelbus van de buren te rommelen, hij heeft het dashboardkastje opengebroken",
            "2026-11-30T02:30:00+01:00", WESTWIJK)
    assert (r.offence, r.in_progress, r.urgency) == ("autokraak", True, "P1")


def test_bezig_in_the_past_is_not_now(run: Run) -> None:
    r = run("vannacht zijn er twee jongens opgepakt die bezig waren fietsen los te knippen op de kievitlaan",
            "2026-11-20T08:00:00+01:00", KBUURT)
    assert r.in_progress is False


def test_found_out_later_is_past(run: Run) -> None:
    r = run("vanochtend bleek bij de buren op de hoefgouw de schuur opengebroken, fietsen weg",
            "2026-12-01T12:30:00+01:00", GOUWEN)
    assert (r.in_progress, r.urgency) == (False, "P3")


def test_earlier_today_with_past_tense_is_past(run: Run) -> None:
    r = run("mijn oma kreeg vandaag een telefoontje van een zogenaamde bankmedewerker die haar pincode wilde",
            "2026-11-18T19:00:00+01:00", MIDDENHOVEN)
    assert (r.offence, r.in_progress) == ("oplichting", False)


@pytest.mark.parametrize("text", [
    "ik bel nu de politie, er wordt iemand in elkaar geslagen op de zijdelweg",
    "we're calling the police, a man is hitting someone near the zijdelweg",
    "police came by this morning after the break-in on the zijdelweg",
    "politie heeft sporenonderzoek gedaan na de inbraak op de zijdelweg",
])
def test_called_112_variants(run: Run, text: str) -> None:
    assert run(text, "2026-11-20T23:00:00+01:00", WESTWIJK).called_112 is True


def test_call_for_someone_else_to_phone_is_not_called(run: Run) -> None:
    r = run("er zitten twee mannen aan de achterdeur van nr 4 te wrikken op de zijdelweg, bel iemand 112?",
            "2026-11-20T23:00:00+01:00", WESTWIJK)
    assert r.called_112 is False


@pytest.mark.parametrize("text", [
    "sorry mensen, die verdachte bus van vanmiddag was van de nieuwe loodgieter",
    "update: het bleek gewoon de glazenwasser te zijn, excuses",
])
def test_harmless_person_calls_off(run: Run, text: str) -> None:
    assert run(text, "2026-11-24T18:00:00+01:00", MIDDENHOVEN).urgency == "none"


def test_follow_up_with_a_new_description_is_not_noise(run: Run) -> None:
    r = run("update: hij loopt nu richting de kerkstraat, grijze muts en een zwarte rugzak",
            "2026-11-29T20:10:00+01:00", BOVENKERK)
    assert r.urgency != "none"
    assert r.category == "signalement"


def test_loitering_and_watching_kids_is_suspicious(run: Run) -> None:
    r = run("er staat al een uur een man bij het hek van de speeltuin te kijken naar de kinderen",
            "2026-11-24T15:15:00+01:00", MIDDENHOVEN)
    assert r.urgency != "none"
    assert r.category == "verdachte_situatie"


def test_wide_warning_with_advice_is_information(run: Run) -> None:
    r = run("let op: de afgelopen weken worden er in de wijk veel navigatiesystemen uit auto's gestolen. "
            "Leg je spullen uit het zicht", "2026-11-15T10:00:00+01:00", KBUURT)
    assert (r.category, r.in_progress) == ("informatie", False)


def test_well_known_place_outside_the_wijken_has_no_wijk(run: Run) -> None:
    r = run("fiets gestolen bij het centraal station vanmiddag", "2026-11-15T19:00:00+01:00", LASTAGE)
    assert r.wijk is None


def test_looks_with_a_skirt_is_a_signalement_and_appearance_only(run: Run) -> None:
    r = run("ziet eruit als roemenen, twee vrouwen in lange rokken op de zetterij", "2026-11-12T11:00:00+01:00",
            BOVENKERK)
    assert (r.appearance_only, r.category, r.urgency) == (True, "signalement", "P3")


def test_wanted_signalement_of_another_crime_needs_more_than_the_vehicle(run: Run) -> None:
    # S-4 (bike theft, white van) is active in the K-buurt; a white van photographing houses is not S-4
    r = run("gisteren een wit busje gezien dat langzaam door de kievitlaan reed en foto's maakte van de huizen",
            "2026-12-10T17:45:00+01:00", KBUURT)
    assert r.signalement_ids == ()
