"""Reading the text: negation, call-offs, relative times, English, appearance, noise, 112."""

from __future__ import annotations

from tests.triage.helpers import Run

LASTAGE = "WK036302"
WESTWIJK = "WK036204"
BOVENKERK = "WK036206"


def test_negated_burglary_is_a_call_off(run: Run) -> None:
    r = run("inbraakalarm ging af bij de buren op de zijdelweg, maar er is geen inbraak: de kat zat binnen",
            "2026-11-30T21:00:00+01:00", WESTWIJK)
    assert r.urgency == "none"
    assert r.category == "overig"
    assert r.offence is None
    assert any(reason.code == "negation" for reason in r.reasons)


def test_it_was_the_neighbour_calls_off(run: Run) -> None:
    r = run("update: het was gewoon de buurman die via het raam naar binnen klom, hij was zijn sleutel kwijt",
            "2026-11-12T22:20:00+01:00", WESTWIJK)
    assert (r.urgency, r.category, r.in_progress) == ("none", "overig", False)


def test_loos_alarm(run: Run) -> None:
    assert run("Loos alarm mensen, excuses!", "2026-11-12T22:20:00+01:00", WESTWIJK).urgency == "none"


def test_geen_before_an_offence_drops_only_that_offence(run: Run) -> None:
    r = run("geen inbraak gezien maar wel iemand die in de auto's kijkt op de nesserlaan",
            "2026-11-17T14:20:00+01:00", WESTWIJK)
    assert r.offence == "autokraak"
    assert r.urgency != "none"


def test_minutes_ago_is_in_progress(run: Run) -> None:
    r = run("10 min geleden is mijn fiets gestolen bij de kastanjeplein, niemand gezien",
            "2026-11-18T12:40:00+01:00", "WK085531")
    assert r.in_progress is True
    assert r.offence == "fietsdiefstal"
    assert r.urgency == "P2"  # no suspect still there or seen fleeing


def test_an_hour_ago_is_recent_but_not_in_progress(run: Run) -> None:
    r = run("schuur van de buren op de meergouw is opengebroken, een uur geleden was alles nog dicht",
            "2026-12-09T12:15:00+01:00", "WK003403")
    assert r.in_progress is False
    assert r.urgency == "P2"


def test_clock_time_compared_with_received_time(run: Run) -> None:
    text = "om 21:30 zag ik iemand op de noorddammerlaan bij de auto's naar binnen schijnen met een zaklamp"
    shortly_after = run(text, "2026-11-19T21:40:00+01:00", WESTWIJK)
    much_later = run(text, "2026-11-19T23:30:00+01:00", WESTWIJK)
    assert shortly_after.in_progress is True
    assert much_later.in_progress is False
    assert any(reason.code == "past_event" for reason in much_later.reasons)


def test_clock_time_is_read_in_amsterdam_time_whatever_the_offset(run: Run) -> None:
    # 20:35 UTC is 21:35 in Amsterdam (CET): "om 21:30" was five minutes before
    r = run("om 21:30 stond er iemand aan de portieren van de auto's te trekken op de nesserlaan",
            "2026-11-19T20:35:00+00:00", WESTWIJK)
    assert r.in_progress is True


def test_twelve_hour_clock_uses_the_named_day_part(run: Run) -> None:
    # received 13:20: "rond 1 uur" alone is 13:00 (20 min ago), "vannacht rond 1 uur" is 01:00
    plain = run("rond 1 uur aanrijding op de donkerstraat, bestuurder reed door, grijze toyota",
                "2026-12-16T13:20:00+01:00", "WK085532")
    night = run("vannacht rond 1 uur aanrijding op de donkerstraat, bestuurder reed door, grijze toyota",
                "2026-12-16T13:20:00+01:00", "WK085532")
    assert plain.in_progress is True
    assert night.in_progress is False


def test_yesterday_and_last_week_are_past(run: Run) -> None:
    for text in ("gisteren is er op de meergouw een schuur opengebroken",
                 "vorige week zijn er op de meergouw 2 schuren opengebroken, fietsen weg"):
        r = run(text, "2026-12-09T09:00:00+01:00", "WK003403")
        assert (r.in_progress, r.urgency, r.category) == (False, "P3", "delict")


def test_vannacht_is_past_in_the_morning_but_not_during_the_night(run: Run) -> None:
    text = "vannacht wordt er bij de auto's op de dommelstraat gerommeld"
    assert run(text, "2026-12-16T07:45:00+01:00", "WK085532").in_progress is False
    assert run(text, "2026-12-16T02:15:00+01:00", "WK085532").in_progress is True


def test_english_report(run: Run) -> None:
    r = run("someone just smashed a car window on the oudeschans and ran off towards nieuwmarkt, "
            "tall guy in a black hoodie", "2026-11-14T23:30:00+01:00", LASTAGE)
    assert r.labels() == {"urgency": "P1", "category": "signalement", "offence": "autokraak",
                          "in_progress": True, "called_112": False, "appearance_only": False,
                          "wijk": LASTAGE}


def test_appearance_only(run: Run) -> None:
    r = run("Ziet eruit als een Roemeen, loopt al een tijdje door onze straat", "2026-11-02T09:48:00+01:00",
            WESTWIJK)
    assert r.appearance_only is True
    assert r.urgency == "P3"
    assert r.offence is None
    assert any("gedrag" in advice for advice in r.advice)
    assert "Gebeurt het nu? Bel 112." not in r.advice


def test_appearance_with_clothing_is_a_signalement_but_still_p3(run: Run) -> None:
    r = run("buitenlands uitziende man met zwarte muts en grijze jas in de wijk", "2026-12-03T14:00:00+01:00",
            "WK036205")
    assert (r.appearance_only, r.category, r.urgency) == (True, "signalement", "P3")


def test_appearance_near_miss_names_behaviour(run: Run) -> None:
    r = run("twee donkere jongens voelen aan de deuren van de huizen op de kwartelstraat",
            "2026-11-25T21:15:00+01:00", "WK085531")
    assert r.appearance_only is False
    assert r.offence == "woninginbraak"


def test_foreign_licence_plate_is_not_appearance(run: Run) -> None:
    r = run("auto met buitenlands kenteken staat al de hele dag voor de deur", "2026-11-25T15:00:00+01:00",
            WESTWIJK)
    assert r.appearance_only is False


def test_lost_cat_is_noise_with_advice(run: Run) -> None:
    r = run("Onze kat is weg! Rood met witte pootjes, luistert naar Tijger. Wie heeft hem gezien?",
            "2026-10-19T08:10:00+02:00", "WK003403")
    assert (r.urgency, r.category, r.offence) == ("none", "overig", None)
    assert "Dit kanaal is voor verdachte situaties; vermiste huisdieren horen hier niet." in r.advice


def test_parking_complaint_is_noise(run: Run) -> None:
    r = run("Weer een auto half op de stoep geparkeerd bij de handweg, kan de gemeente hier iets aan doen?",
            "2026-11-11T08:05:00+01:00", BOVENKERK)
    assert (r.urgency, r.category) == ("none", "overig")
    r2 = run("Someone parked their van across my driveway again, anyone know who owns a white transit?",
             "2026-11-10T07:50:00+01:00", LASTAGE)
    assert r2.urgency == "none"


def test_parked_cars_with_behaviour_is_not_noise(run: Run) -> None:
    r = run("twee jongens lopen langs de geparkeerde auto's en trekken aan de portieren",
            "2026-11-20T13:10:00+01:00", WESTWIJK)
    assert r.offence == "autokraak"
    assert r.urgency in ("P2", "P3")


def test_called_112_only_when_it_happened(run: Run) -> None:
    assert run("inbraak bezig op de kievitlaan, 112 is gebeld", "2026-11-26T21:45:00+01:00",
               "WK085531").called_112 is True
    assert run("Als je het niet vertrouwt bel je 112!", "2026-11-02T09:55:00+01:00",
               WESTWIJK).called_112 is False
    assert run("inbraak bezig op de kievitlaan, politie nog niet gebeld", "2026-11-26T21:45:00+01:00",
               "WK085531").called_112 is False


def test_advice_to_call_112_when_live_and_not_called(run: Run) -> None:
    live = run("iemand klimt nu door het keukenraam bij de buren op de kievitlaan",
               "2026-11-26T21:40:00+01:00", "WK085531")
    assert live.urgency == "P1"
    assert "Gebeurt het nu? Bel 112." in live.advice
    called = run("iemand klimt nu door het keukenraam bij de buren op de kievitlaan, 112 gebeld",
                 "2026-11-26T21:40:00+01:00", "WK085531")
    assert "Gebeurt het nu? Bel 112." not in called.advice


def test_missing_child_is_p1_missing_adult_p3(run: Run) -> None:
    child = run("Ons zoontje van 6 is weggelopen bij de speeltuin, blauwe jas", "2026-12-06T17:45:00+01:00",
                "WK036205")
    assert (child.category, child.urgency) == ("vermissing", "P1")
    assert any(reason.code == "missing_child" for reason in child.reasons)
    adult = run("Mijn broer (45) is sinds gisteravond niet thuisgekomen, wie heeft hem gezien?",
                "2026-11-30T10:00:00+01:00", "WK003402")
    assert (adult.category, adult.urgency) == ("vermissing", "P3")


def test_follow_up_without_new_facts_is_noise(run: Run) -> None:
    r = run("update: politie ter plaatse", "2026-11-10T23:07:00+01:00", LASTAGE)
    assert (r.urgency, r.called_112) == ("none", True)


def test_police_information_is_informatie(run: Run) -> None:
    r = run("Van de wijkagent: let op nepagenten aan de deur die om uw pinpas vragen. Niets afgeven!",
            "2026-11-08T11:00:00+01:00", BOVENKERK)
    assert (r.category, r.urgency, r.called_112, r.offence) == ("informatie", "P3", True, "oplichting")
