"""The console's API: search over every report and its feedback, the timeline, merge suggestions with an undo
that restores the state before, claim extension, and times in Amsterdam. Bad input answers problem+json."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app.core.database import utcnow
from app.incidents import undo
from tests.support.http import bearer, login, post_report, problem, westwijk_beheerders

BURGLARY_NOW = "Er wordt nu ingebroken aan de Zonnestein, twee mannen met een breekijzer bij de achterdeur"
SECOND_REPORT = "Inbrekers bezig bij woning aan de Zonnestein, ze zijn gekomen op een knalgele scooter"




async def _incident_of(client, headers, report_id: int) -> dict:
    items = (await client.get("/api/v1/queue", params={"status": "", "limit": 200}, headers=headers)).json()["items"]
    return next(i for i in items if any(r["id"] == report_id for r in i["reports"]))


def _dutch_problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    body = problem(response)
    assert body["title"] in {"Ongeldige invoer", "Niet gevonden", "Conflict", "Niet aangemeld", "Geen toegang"}
    return body


# ---- search ---------------------------------------------------------------------------------------


async def test_search_finds_a_word_of_the_second_report_and_says_which_report(client, demo):
    westwijk = westwijk_beheerders(demo)
    await post_report(client, westwijk[0], BURGLARY_NOW)
    second = await post_report(client, westwijk[1], SECOND_REPORT)
    operator = await login(client, demo["operator"])
    page = (await client.get("/api/v1/incidents/search", params={"q": "Knalgele"}, headers=operator)).json()
    assert page["total"] == 1
    [hit] = page["items"]
    assert hit["incident"]["report_count"] == 2
    assert hit["incident"]["text"].startswith("Er wordt nu ingebroken")  # the row shows the first report
    [match] = hit["matches"]
    assert match == {"source": "melding", "report_id": second["id"], "case_number": second["case_number"],
                     "snippet": match["snippet"]}
    assert "knalgele scooter" in match["snippet"]


async def test_search_needs_every_word_somewhere_in_the_incident_and_covers_feedback(client, demo):
    westwijk = westwijk_beheerders(demo)
    first = await post_report(client, westwijk[0], BURGLARY_NOW)
    await post_report(client, westwijk[1], SECOND_REPORT)
    await post_report(client, westwijk[2], "Onze kat is weggelopen bij de Zonnestein")
    operator = await login(client, demo["operator"])
    incident = await _incident_of(client, operator, first["id"])
    note = "Een hondengeleider heeft de tuinen afgezocht."
    patched = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=operator,
                                 json={"note_for_reporter": note})
    assert patched.status_code == 200, patched.text

    def search(q: str, **params):
        return client.get("/api/v1/incidents/search", params={"q": q, **params}, headers=operator)

    both = (await search("scooter achterdeur")).json()  # one word in each report
    assert [hit["incident"]["id"] for hit in both["items"]] == [incident["id"]]
    assert {m["source"] for m in both["items"][0]["matches"]} == {"melding"}
    assert (await search("scooter kat")).json()["total"] == 0
    feedback = (await search("hondengeleider")).json()
    assert feedback["total"] == 1
    assert {(m["source"], m["case_number"]) for m in feedback["items"][0]["matches"]} >= {
        ("terugkoppeling", first["case_number"])}
    zonnestein = (await search("zonnestein", limit=1)).json()
    assert zonnestein["total"] == 2 and len(zonnestein["items"]) == 1
    rest = (await search("zonnestein", limit=1, offset=1)).json()
    assert rest["items"][0]["incident"]["id"] != zonnestein["items"][0]["incident"]["id"]
    by_case = (await search(first["case_number"])).json()
    assert by_case["items"][0]["matches"][0]["source"] == "zaaknummer"
    assert (await search("100%_\\")).json()["total"] == 0  # LIKE wildcards are searched as text
    closed = await client.patch(f"/api/v1/incidents/{incident['id']}", headers=operator, json={"close": True})
    assert closed.status_code == 200
    assert (await search("scooter")).json()["total"] == 0  # open incidents by default
    assert (await search("scooter", status="")).json()["total"] == 1


@pytest.mark.parametrize(("params", "field"), [({}, "q"), ({"q": "   "}, "q"), ({"q": "x" * 201}, "q"),
                                                ({"q": "a b c d e f g h i"}, "q"), ({"q": "a", "limit": 0}, "limit"),
                                                ({"q": "a", "urgency": "P9"}, "urgency")])
async def test_a_bad_search_is_a_dutch_problem(client, demo, params, field):
    operator = await login(client, demo["operator"])
    response = await client.get("/api/v1/incidents/search", params=params, headers=operator)
    assert _dutch_problem(response, 422)["field"] == field


async def test_search_is_for_staff_only(client, demo):
    beheerder = bearer(demo["beheerders"][0]["token"])
    _dutch_problem(await client.get("/api/v1/incidents/search", params={"q": "x"}, headers=beheerder), 403)
    _dutch_problem(await client.get("/api/v1/incidents/search", params={"q": "x"}), 401)


# ---- timeline -------------------------------------------------------------------------------------


async def test_the_timeline_tells_who_did_what_when_and_why(client, demo):
    westwijk = westwijk_beheerders(demo)
    first = await post_report(client, westwijk[0], BURGLARY_NOW)
    operator = await login(client, demo["operator"])
    incident_id = (await _incident_of(client, operator, first["id"]))["id"]
    other = await post_report(client, westwijk[1], "Fiets gestolen bij het Westwijkplein, net gebeurd")
    other_id = (await _incident_of(client, operator, other["id"]))["id"]
    assert other_id != incident_id
    assert (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=operator)).status_code == 200
    steps = [{"urgency": "P2", "reason": "Daders zijn al weg"},
             {"follow_up": "ter_plaatse", "note_for_reporter": "Er is een eenheid langs geweest."}]
    for body in steps:
        assert (await client.patch(f"/api/v1/incidents/{incident_id}", headers=operator, json=body)).status_code == 200
    merged = await client.post(f"/api/v1/incidents/{incident_id}/merge", headers=operator,
                               json={"incident_ids": [other_id]})
    assert merged.status_code == 200
    alert = await client.post("/api/v1/broadcasts", headers=operator, json={
        "kind": "waarschuwing", "text": "Let op: inbraken in Westwijk, sluit ramen en deuren.",
        "target": {"wijkcodes": ["WK036204"]}, "incident_id": incident_id})
    assert alert.status_code == 201, alert.text

    body = (await client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=operator)).json()
    entries = body["entries"]
    assert body["incident_id"] == incident_id and body["total"] == len(entries)
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    kinds = [e["kind"] for e in entries]
    assert kinds[:2] == ["melding", "voorstel"]
    assert {"claim", "besluit", "terugkoppeling", "samenvoeging", "alarm"} <= set(kinds)
    report = entries[0]
    assert report["case_number"] == first["case_number"] and report["text"] == BURGLARY_NOW
    assert "P1" in entries[1]["title"] and entries[1]["reason"]  # the triage's suggestion with its reasons
    lowered = next(e for e in entries if e["kind"] == "besluit" and "urgentie" in e["title"])
    assert lowered["title"] == "Besluit: urgentie: P2" and lowered["reason"] == "Daders zijn al weg"
    assert lowered["actor"] == "Centralist Demo"
    feedback = [e for e in entries if e["kind"] == "terugkoppeling"]
    assert any("Er is een eenheid langs geweest." in e["text"] for e in feedback)
    assert all(e["case_number"] == first["case_number"] and e["status"].startswith("wacht op verzending")
               for e in feedback)
    assert any(e["title"] == f"Samengevoegd: #{other_id} opgenomen" for e in entries)
    assert any(e["kind"] == "melding" and e["case_number"] == other["case_number"] for e in entries)
    [sent] = [e for e in entries if e["kind"] == "alarm"]
    assert "sluit ramen en deuren" in sent["text"]
    assert re.match(r"afgeleverd \d+, doorgestuurd 0 van \d+", sent["status"])

    merged_away = (await client.get(f"/api/v1/incidents/{other_id}/timeline", headers=operator)).json()["entries"]
    assert [e["title"] for e in merged_away] == [f"Opgegaan in incident #{incident_id}"]


async def test_the_timeline_of_a_missing_incident_is_a_dutch_problem(client, demo):
    operator = await login(client, demo["operator"])
    _dutch_problem(await client.get("/api/v1/incidents/999/timeline", headers=operator), 404)
    invalid = await client.get("/api/v1/incidents/0/timeline", headers=operator)
    assert _dutch_problem(invalid, 422)["field"] == "incident_id"
    _dutch_problem(await client.get("/api/v1/incidents/1/timeline",
                                    headers=bearer(demo["beheerders"][0]["token"])), 403)


# ---- merge suggestions and undo -------------------------------------------------------------------


async def test_a_likely_duplicate_from_another_group_is_suggested(client, demo):
    westwijk = westwijk_beheerders(demo)
    burglary = await post_report(client, westwijk[0], "Er wordt nu ingebroken, twee mannen met een breekijzer bij de "
                                 "achterdeur", location={"lat": 52.294996, "lon": 4.835820})
    # the same event seen by another group from 800 m away: too far for the automatic grouping (500 m)
    seen_further = await post_report(client, westwijk[1],
                                     "Inbraak bezig! Twee mannen met breekijzer bij een achterdeur",
                                     location={"lat": 52.294996, "lon": 4.824000})
    far = await post_report(client, _bovenkerk(demo),
                            "Er wordt nu ingebroken aan de Bovenkerkerweg, twee mannen met een "
                            "breekijzer bij de achterdeur")
    operator = await login(client, demo["operator"])
    ids = [(await _incident_of(client, operator, r["id"]))["id"] for r in (burglary, seen_further, far)]
    assert len(set(ids)) == 3, "the three are separate incidents"
    suggestions = (await client.get(f"/api/v1/incidents/{ids[0]}/duplicates", headers=operator)).json()
    assert [s["incident"]["id"] for s in suggestions] == [ids[1]], suggestions
    [likely] = suggestions
    assert likely["text_similarity"] >= 0.6 and likely["score"] >= 0.5
    assert likely["distance_m"] == pytest.approx(805, abs=10) and likely["minutes_apart"] < 1
    assert likely["reasons"][0] == f"{likely['distance_m']:.0f} m van elkaar"
    assert "uit 1 andere groep" in likely["reasons"]
    _dutch_problem(await client.get("/api/v1/incidents/999/duplicates", headers=operator), 404)


def _bovenkerk(demo) -> dict:
    return next(b for b in demo["beheerders"] if b["wijkcodes"] == ["WK036206"])


async def test_undoing_a_merge_restores_both_incidents_as_they_were(client, demo):
    westwijk = westwijk_beheerders(demo)
    first = await post_report(client, westwijk[0], BURGLARY_NOW)
    second = await post_report(client, westwijk[1],
                               "Fiets gestolen bij het Westwijkplein, net gebeurd, dader op scooter")
    operator = await login(client, demo["operator"])
    target = await _incident_of(client, operator, first["id"])
    other = await _incident_of(client, operator, second["id"])
    raised = await client.patch(f"/api/v1/incidents/{other['id']}", headers=operator,
                                json={"urgency": "P1", "follow_up": "surveillance"})
    assert raised.status_code == 200
    before = {i: (await client.get(f"/api/v1/incidents/{i}", headers=operator)).json()
              for i in (target["id"], other["id"])}
    queue_before = (await client.get("/api/v1/queue", headers=operator)).json()

    merged = await client.post(f"/api/v1/incidents/{target['id']}/merge", headers=operator,
                               json={"incident_ids": [other["id"]]})
    assert merged.status_code == 200 and merged.json()["report_count"] == 2
    undone = await client.post(f"/api/v1/incidents/{target['id']}/merge/undo", headers=operator)
    assert undone.status_code == 200, undone.text

    after = {i: (await client.get(f"/api/v1/incidents/{i}", headers=operator)).json() for i in before}
    assert after == before
    assert (await client.get("/api/v1/queue", headers=operator)).json() == queue_before
    again = await client.post(f"/api/v1/incidents/{target['id']}/merge/undo", headers=operator)
    assert _dutch_problem(again, 409)["code"] == "nothing_to_undo"
    timeline = (await client.get(f"/api/v1/incidents/{other['id']}/timeline", headers=operator)).json()["entries"]
    assert [e["title"] for e in timeline if e["kind"] == "samenvoeging"] == [
        f"Opgegaan in incident #{target['id']}", f"Samenvoegen ongedaan gemaakt: #{other['id']} weer apart"]


async def test_a_merge_cannot_be_undone_after_a_minute_or_after_a_decision(client, demo, monkeypatch):
    westwijk = westwijk_beheerders(demo)
    first = await post_report(client, westwijk[0], BURGLARY_NOW)
    second = await post_report(client, westwijk[1],
                               "Fiets gestolen bij het Westwijkplein, net gebeurd, dader op scooter")
    operator = await login(client, demo["operator"])
    target = (await _incident_of(client, operator, first["id"]))["id"]
    other = (await _incident_of(client, operator, second["id"]))["id"]
    never_merged = await client.post(f"/api/v1/incidents/{target}/merge/undo", headers=operator)
    assert _dutch_problem(never_merged, 409)["code"] == "nothing_to_undo"
    await client.post(f"/api/v1/incidents/{target}/merge", headers=operator, json={"incident_ids": [other]})

    monkeypatch.setattr(undo, "UNDO_WINDOW", timedelta(seconds=-1))  # the minute has passed
    late = await client.post(f"/api/v1/incidents/{target}/merge/undo", headers=operator)
    assert _dutch_problem(late, 409)["code"] == "undo_expired"
    monkeypatch.undo()
    assert (await client.post(f"/api/v1/incidents/{target}/claim", headers=operator)).status_code == 200
    await client.patch(f"/api/v1/incidents/{target}", headers=operator, json={"follow_up": "ter_plaatse"})
    decided = await client.post(f"/api/v1/incidents/{target}/merge/undo", headers=operator)
    assert _dutch_problem(decided, 409)["code"] == "nothing_to_undo"
    second_operator = await login(client, demo["operator2"])
    held = await client.post(f"/api/v1/incidents/{target}/merge/undo", headers=second_operator)
    assert _dutch_problem(held, 409)["code"] == "claimed"
    _dutch_problem(await client.post("/api/v1/incidents/999/merge/undo", headers=operator), 404)


# ---- claims ---------------------------------------------------------------------------------------


async def test_the_holder_extends_a_claim_by_claiming_again(app, client, demo):
    await post_report(client, westwijk_beheerders(demo)[0], BURGLARY_NOW)
    operator = await login(client, demo["operator"])
    incident_id = (await client.get("/api/v1/queue", headers=operator)).json()["items"][0]["id"]
    first = (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=operator)).json()
    ttl = app.state.settings.claim_seconds
    assert ttl - 5 <= first["claim_seconds_left"] <= ttl
    extended = (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=operator)).json()
    assert extended["claim_expires_at"] > first["claim_expires_at"]
    timeline = (await client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=operator)).json()["entries"]
    assert [e["title"] for e in timeline if e["kind"] == "claim"] == ["Geclaimd", "Claim verlengd"]
    unclaimed = (await client.get(f"/api/v1/incidents/{incident_id}",
                                  headers=await login(client, demo["analyst"]))).json()
    assert unclaimed["claim_seconds_left"] <= ttl


async def test_a_claim_conflict_names_the_time_in_amsterdam(client, demo):
    await post_report(client, westwijk_beheerders(demo)[0], BURGLARY_NOW)
    first, second = await login(client, demo["operator"]), await login(client, demo["operator2"])
    incident_id = (await client.get("/api/v1/queue", headers=first)).json()["items"][0]["id"]
    claimed = (await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=first)).json()
    conflict = await client.post(f"/api/v1/incidents/{incident_id}/claim", headers=second)
    detail = _dutch_problem(conflict, 409)["detail"]
    from datetime import datetime

    local = datetime.fromisoformat(claimed["claim_expires_at"]).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert detail == f"Dit incident is geclaimd door Centralist Demo (tot {local:%H:%M})."
    assert "UTC" not in detail and utcnow() < datetime.fromisoformat(claimed["claim_expires_at"])


# ---- the alert's privacy check while typing ------------------------------------------------------


async def test_the_privacy_check_flags_a_name_and_a_house_number(client, demo):
    operator = await login(client, demo["operator"])
    response = await client.post("/api/v1/broadcasts/privacy-check", headers=operator, json={
        "text": "Zojuist ingebroken bij Jan de Vries aan de Poortwachter 12. Bel 112 als u iets ziet."})
    warnings = {w["code"]: w["matches"] for w in response.json()["warnings"]}
    assert warnings == {"naam": ["Jan de Vries"], "huisnummer": ["12"]}
    clean = await client.post("/api/v1/broadcasts/privacy-check", headers=operator, json={
        "text": "Zojuist ingebroken in de Jan van Galenstraat. Twee mannen gevlucht richting het park."})
    assert clean.json()["warnings"] == []
    assert _dutch_problem(await client.post("/api/v1/broadcasts/privacy-check", headers=operator,
                                            json={"text": ""}), 422)["field"] == "text"
    _dutch_problem(await client.post("/api/v1/broadcasts/privacy-check", json={"text": "x"},
                                     headers=bearer(demo["beheerders"][0]["token"])), 403)
