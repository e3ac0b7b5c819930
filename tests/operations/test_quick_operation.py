"""The quick heterdaad or vermissing from an incident: opened at once for the wijken within the radius of the
incident's place, with its description as the briefing, linked to it, and the beheerders invited; a description
of looks or origin only is refused."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.database import utcnow
from app.intake.models import Report
from tests.support import builders
from tests.support.broadcast import deliver
from tests.support.http import bearer, problem
from tests.support.operations import MIDDENHOVEN, WESTWIJK, deliveries_to

NEAR_MIDDENHOVEN = {"lat": 52.291411, "lon": 4.83799}  # in Westwijk, 150 m reaches into Middenhoven
BURGLARY = "Twee mannen proberen net bij de buren een raam open te breken, een in een rode jas"


async def _incident(app, client, text: str = BURGLARY) -> int:
    reporter = await builders.beheerder(app, wijkcode=WESTWIJK)
    response = await client.post("/api/v1/reports", headers=bearer(reporter.token),
                                 json={"text": text, "location": NEAR_MIDDENHOVEN})
    assert response.status_code == 201, response.text
    async with app.state.sessionmaker() as session:
        incident_id = await session.scalar(select(Report.incident_id).where(Report.id == response.json()["id"]))
    assert incident_id is not None
    return incident_id


async def _quick(client, headers: dict[str, str], incident_id: int, **body: Any) -> Any:
    return await client.post(f"/api/v1/incidents/{incident_id}/operation", headers=headers, json=body)


async def test_an_operator_opens_a_heterdaad_for_the_wijken_in_the_radius_and_invites_their_beheerders(
        app, client, clock, worker, fake):
    incident_id = await _incident(app, client)
    westwijk, middenhoven = (await builders.beheerder(app, wijkcode=WESTWIJK),
                             await builders.beheerder(app, wijkcode=MIDDENHOVEN))
    far = await builders.beheerder(app, wijkcode="WK036206")
    operator = bearer((await builders.staff(app, "operator")).token)

    response = await _quick(client, operator, incident_id, kind="heterdaad", radius_m=150)
    assert response.status_code == 201, response.text
    out = response.json()
    assert out["status"] == "open" and out["wijkcodes"] == [WESTWIJK, MIDDENHOVEN]
    assert out["invited"] == 3  # the reporter's beheerder too: it is their wijk
    detail = (await client.get(f"/api/v1/operations/{out['id']}", headers=operator)).json()
    assert (detail["kind"], detail["incident_ids"], detail["briefing"]) == ("heterdaad", [incident_id], BURGLARY)
    await deliver(worker, fake)
    for beheerder in (westwijk, middenhoven):
        [invitation] = await deliveries_to(app, beheerder.id)
        assert invitation.status in ("sent", "delivered", "read")
    assert await deliveries_to(app, far.id) == []


async def test_the_operator_edits_the_text_and_a_vermissing_runs_as_long_as_asked(app, client, clock):
    incident_id = await _incident(app, client, "Meisje van 6 kwijt bij de speeltuin, roze jas, 10 min geleden")
    specialist = bearer((await builders.staff(app, "specialist")).token)
    clock.set_local("2026-12-12T16:00")
    text = "Vermist: meisje van 6 jaar, roze jas, laatst gezien bij de speeltuin. Ziet u haar? Bel 112."
    response = await _quick(client, specialist, incident_id, kind="vermissing", radius_m=500, briefing=text,
                            minutes=240)
    assert response.status_code == 201, response.text
    detail = (await client.get(f"/api/v1/operations/{response.json()['id']}", headers=specialist)).json()
    assert detail["briefing"] == text and detail["kind"] == "vermissing"
    assert (detail["starts_at"], detail["ends_at"]) == ("2026-12-12T16:00:00+01:00", "2026-12-12T20:00:00+01:00")


async def test_a_text_of_looks_or_origin_only_is_refused_and_nothing_is_opened(app, client, clock):
    incident_id = await _incident(app, client)
    operator = bearer((await builders.staff(app, "operator")).token)
    refused = await _quick(client, operator, incident_id, kind="heterdaad", radius_m=300,
                           briefing="Verdachte man, ziet eruit als Bulgaars of Roemeens")
    body = problem(refused)
    assert refused.status_code == 422 and body["code"] == "appearance_only"
    assert body["title"] == "Alleen uiterlijk of afkomst" and "gedrag" in body["detail"]
    # confirming the warning does not let it through: this one is not a warning but a refusal
    again = await _quick(client, operator, incident_id, kind="heterdaad", radius_m=300, confirm_warnings=["uiterlijk"],
                         briefing="Verdachte man, ziet eruit als Bulgaars of Roemeens")
    assert again.status_code == 422
    listed = (await client.get("/api/v1/operations", headers=operator)).json()
    assert listed["total"] == 0


async def test_only_operators_and_specialists_and_only_a_heterdaad_or_vermissing(app, client, clock):
    incident_id = await _incident(app, client)
    wijkagent = bearer((await builders.staff(app, "wijkagent", wijkcodes=[WESTWIJK])).token)
    operator = bearer((await builders.staff(app, "operator")).token)
    assert (await _quick(client, wijkagent, incident_id, kind="heterdaad", radius_m=300)).status_code == 403
    wrong_kind = await _quick(client, operator, incident_id, kind="ddo", radius_m=300)
    assert wrong_kind.status_code == 422 and problem(wrong_kind)["title"]
    missing = await _quick(client, operator, incident_id + 1000, kind="heterdaad", radius_m=300)
    assert missing.status_code == 404 and problem(missing)["title"]


async def test_a_found_person_is_a_result_in_the_day_report_and_in_the_evaluation(app, client, clock):
    incident_id = await _incident(app, client, "Meisje van 6 kwijt bij de speeltuin, roze jas, 10 min geleden")
    helper = await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = bearer((await builders.staff(app, "specialist")).token)
    clock.now = utcnow()  # reports are received on the real clock
    opened = (await _quick(client, specialist, incident_id, kind="vermissing", radius_m=500)).json()
    url = f"/api/v1/operations/{opened['id']}"
    assert (await client.post(f"{url}/join", headers=bearer(helper.token))).json()["status"] == "joined"
    seen = await client.post("/api/v1/reports", headers=bearer(helper.token), json={
        "text": "Ik zie nu een meisje met een roze jas alleen bij de vijver", "location": NEAR_MIDDENHOVEN})
    async with app.state.sessionmaker() as session:
        seen_incident = await session.scalar(select(Report.incident_id).where(Report.id == seen.json()["id"]))
    found = await client.patch(f"/api/v1/incidents/{seen_incident}", headers=specialist,
                               json={"follow_up": "ter_plaatse", "result": "persoon_gevonden"})
    assert found.status_code == 200, found.text

    async with app.state.sessionmaker() as session:
        tagged = (await session.scalars(select(Report.result).where(Report.operation_id == opened["id"]))).all()
        everywhere = (await session.scalars(select(Report.result))).all()
    day = (await client.get(f"{url}/report", headers=specialist)).json()
    assert day["results"] == {"persoon_gevonden": tagged.count("persoon_gevonden")} != {"persoon_gevonden": 0}
    csv = (await client.get(f"{url}/report?format=csv", headers=specialist)).text
    assert "resultaat,persoon_gevonden,Persoon gevonden," in csv
    figures = (await client.get("/api/v1/stats", headers=specialist)).json()
    assert figures["follow_up"]["results"]["persoon_gevonden"] == everywhere.count("persoon_gevonden") >= 1
