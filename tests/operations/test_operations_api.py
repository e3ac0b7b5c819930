"""The operations contract from outside: create -> 201 {id, status}, read, the role rules per kind, and bad
input answered as problem+json with a Dutch title."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.demo import seed_demo
from app.intake.models import Report
from tests.support import builders
from tests.support.http import bearer, login, problem
from tests.support.operations import MIDDENHOVEN, WESTWIJK, create, operation_body


async def _staff(app, role: str, **kwargs: Any) -> dict[str, str]:
    return bearer((await builders.staff(app, role, **kwargs)).token)


async def _incident(app, client, beheerder: builders.BeheerderAccount) -> int:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token),
                                 json={"text": "Er wordt nu ingebroken, man met breekijzer bij de achterdeur"})
    assert response.status_code == 201, response.text
    async with app.state.sessionmaker() as session:
        incident_id = await session.scalar(select(Report.incident_id).where(Report.id == response.json()["id"]))
    assert incident_id is not None
    return incident_id


async def test_a_specialist_creates_an_operation_and_everyone_in_the_meldkamer_can_read_it(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist, analyst = await _staff(app, "specialist"), await _staff(app, "analyst")
    created = await client.post("/api/v1/operations", headers=specialist, json=operation_body())
    assert created.status_code == 201
    assert set(created.json()) == {"id", "status", "warnings"} and created.json()["status"] == "gepland"

    listed = (await client.get("/api/v1/operations", headers=analyst)).json()
    assert [item["id"] for item in listed["items"]] == [created.json()["id"]]
    detail = (await client.get(f"/api/v1/operations/{created.json()['id']}", headers=analyst)).json()
    assert detail["name"] == "DDO Westwijk" and detail["kind"] == "ddo" and detail["wijkcodes"] == [WESTWIJK]
    assert detail["starts_at"] == "2026-12-12T17:00:00+01:00" and detail["created_by"] == "specialist"
    assert detail["participants"] == {"invited": 0, "joined": 0, "declined": 0, "left": 0, "no_answer": 0}

    beheerder = await builders.beheerder(app, wijkcode=WESTWIJK)
    as_beheerder = await client.get("/api/v1/operations", headers=bearer(beheerder.token))
    assert as_beheerder.status_code == 403


async def test_a_circle_covers_the_wijken_it_touches_and_a_gemeente_all_of_its_wijken(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    await builders.wijk(app, MIDDENHOVEN)
    specialist = await _staff(app, "specialist")
    circle = await create(client, specialist, area={"lat": 52.2894, "lon": 4.8243, "radius_m": 300})
    gemeente = await create(client, specialist, kind="evenement", area={"gemeentecodes": ["GM0362"]})
    assert (await client.get(f"/api/v1/operations/{circle['id']}", headers=specialist)).json()["wijkcodes"] == [
        WESTWIJK]
    assert (await client.get(f"/api/v1/operations/{gemeente['id']}", headers=specialist)).json()["wijkcodes"] == [
        WESTWIJK, MIDDENHOVEN]


async def test_a_wijkagent_runs_a_probleemaanpak_in_its_own_wijken_only(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    await builders.beheerder(app, wijkcode=MIDDENHOVEN)
    wijkagent = await _staff(app, "wijkagent", wijkcodes=[WESTWIJK])
    own = await client.post("/api/v1/operations", headers=wijkagent, json=operation_body(kind="probleemaanpak"))
    assert own.status_code == 201
    other_wijk = await client.post("/api/v1/operations", headers=wijkagent, json=operation_body(
        kind="probleemaanpak", area={"wijkcodes": [MIDDENHOVEN]}))
    assert other_wijk.status_code == 403 and problem(other_wijk)["code"] == "wijk_not_allowed"
    ddo = await client.post("/api/v1/operations", headers=wijkagent, json=operation_body(kind="ddo"))
    assert ddo.status_code == 403 and problem(ddo)["title"] == "Geen toegang"


async def test_an_operator_opens_a_heterdaad_or_vermissing_from_an_incident_and_nothing_else(app, client, clock):
    reporter = await builders.beheerder(app, wijkcode=WESTWIJK)
    operator = await _staff(app, "operator")
    incident_id = await _incident(app, client, reporter)
    without = await client.post("/api/v1/operations", headers=operator, json=operation_body(kind="heterdaad"))
    assert without.status_code == 422 and problem(without)["code"] == "incident_required"
    heterdaad = await create(client, operator, kind="heterdaad", incident_ids=[incident_id])
    detail = (await client.get(f"/api/v1/operations/{heterdaad['id']}", headers=operator)).json()
    assert detail["incident_ids"] == [incident_id]
    ddo = await client.post("/api/v1/operations", headers=operator, json=operation_body(incident_ids=[incident_id]))
    assert ddo.status_code == 403
    unknown = await client.post("/api/v1/operations", headers=operator,
                                json=operation_body(kind="vermissing", incident_ids=[999999]))
    assert unknown.status_code == 422 and problem(unknown)["code"] == "unknown_incident"
    analyst = await client.post("/api/v1/operations", headers=await _staff(app, "analyst"), json=operation_body())
    assert analyst.status_code == 403


async def test_an_end_before_the_start_is_refused_in_dutch(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    response = await client.post("/api/v1/operations", headers=await _staff(app, "specialist"), json=operation_body(
        starts_at="2026-12-12T23:00:00", ends_at="2026-12-12T17:00:00"))
    assert response.status_code == 422
    body = problem(response)
    assert body["title"] == "Ongeldige invoer" and body["field"] == "ends_at" and body["code"] == "end_before_start"
    assert "einde" in body["detail"]


async def test_an_area_without_beheerders_or_wijken_is_refused(app, client, clock):
    await builders.wijk(app, MIDDENHOVEN)
    specialist = await _staff(app, "specialist")
    empty = await client.post("/api/v1/operations", headers=specialist,
                              json=operation_body(area={"wijkcodes": [MIDDENHOVEN]}))
    assert empty.status_code == 422 and problem(empty)["code"] == "no_beheerders"
    nowhere = await client.post("/api/v1/operations", headers=specialist,
                                json=operation_body(area={"lat": 53.2, "lon": 6.5, "radius_m": 100}))
    assert nowhere.status_code == 422 and problem(nowhere)["code"] == "empty_area"
    unknown = await client.post("/api/v1/operations", headers=specialist,
                                json=operation_body(area={"wijkcodes": ["WK999999"]}))
    assert unknown.status_code == 422 and problem(unknown)["code"] == "unknown_wijk"


async def test_an_overlapping_operation_of_the_same_kind_and_area_is_allowed_with_a_warning(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _staff(app, "specialist")
    first = await create(client, specialist)
    overlapping = await create(client, specialist, name="DDO Westwijk avond",
                               starts_at="2026-12-12T20:00:00", ends_at="2026-12-13T01:00:00")
    [warning] = overlapping["warnings"]
    assert warning["code"] == "overlap" and warning["operation_ids"] == [first["id"]]
    assert "DDO Westwijk" in warning["message"]
    other_kind = await create(client, specialist, kind="evenement")
    later = await create(client, specialist, starts_at="2026-12-13T17:00:00", ends_at="2026-12-13T23:00:00")
    assert other_kind["warnings"] == [] and later["warnings"] == []


async def test_a_briefing_with_personal_details_needs_a_deliberate_confirmation(app, client, clock):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = await _staff(app, "specialist")
    briefing = "Bel bij twijfel de wijkagent op 06-12345678."
    refused = await client.post("/api/v1/operations", headers=specialist, json=operation_body(briefing=briefing))
    assert refused.status_code == 422 and problem(refused)["code"] == "privacy_warnings"
    confirmed = await client.post("/api/v1/operations", headers=specialist, json=operation_body(
        briefing=briefing, confirm_warnings=["telefoonnummer"]))
    assert confirmed.status_code == 201


async def test_the_demo_shows_a_planned_ddo_day_and_an_open_probleemaanpak_once(app, client, settings, demo, tmp_path):
    async with app.state.sessionmaker() as session:
        await seed_demo(session, settings, tmp_path / "demo-credentials.json")  # again: nothing twice
    specialist = await login(client, demo["specialist"])
    items = (await client.get("/api/v1/operations", headers=specialist)).json()["items"]
    assert sorted((item["kind"], item["status"]) for item in items) == [("ddo", "gepland"), ("probleemaanpak", "open")]
