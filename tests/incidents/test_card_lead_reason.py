"""The card shows the incident's most serious fact (a weapon, an injury, a fire) whichever of its reports
named it, on the wall's live events and in the queue the wall loads first."""

from __future__ import annotations

from sqlalchemy import select

from app.events.models import Event
from tests.support.http import bearer, login, post_report, westwijk_beheerders

FIGHT = "Nu een vechtpartij aan de Zonnestein, twee mannen slaan op een jongen in"
KNIFE = "Zonnestein nu: een van de vechters heeft een mes getrokken"
INJURED = "Zonnestein: de jongen ligt gewond op straat na de vechtpartij, hij bloedt"




async def _card(app, incident_id: int) -> dict:
    """The incident's newest event: what the wall draws."""
    async with app.state.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.type.like("incident.%")).order_by(Event.id))).all()
    return [e.data for e in events if e.data["incident_id"] == incident_id][-1]


async def _wall_cards(client, demo) -> list[dict]:
    items: list[dict] = (await client.get("/api/v1/wall/cards", headers=bearer(demo["wall_token"]))).json()["items"]
    return items


async def test_a_weapon_in_a_later_report_leads_the_card_and_stays_ahead_of_an_injury(app, client, demo):
    westwijk = westwijk_beheerders(demo)
    await post_report(client, westwijk[0], FIGHT)
    [item] = await _wall_cards(client, demo)
    assert item["lead_reason"] is None and (await _card(app, item["incident_id"]))["lead_reason"] is None

    await post_report(client, westwijk[1], KNIFE)
    card = await _card(app, item["incident_id"])
    assert card["report_count"] == 2 and card["text"].startswith("Nu een vechtpartij")  # still the first text
    assert card["lead_reason"]["code"] == "floor_weapon"
    assert card["lead_reason"]["text"].startswith("Wapen") and "mes" in card["lead_reason"]["text"]

    await post_report(client, westwijk[2], INJURED)  # an injury: serious, but a drawn knife goes first
    card = await _card(app, item["incident_id"])
    assert card["report_count"] == 3 and card["lead_reason"]["code"] == "floor_weapon"
    [item] = await _wall_cards(client, demo)
    assert item["lead_reason"] == card["lead_reason"]


async def test_splitting_off_the_report_with_the_weapon_takes_its_lead_reason_along(app, client, demo):
    westwijk = westwijk_beheerders(demo)
    await post_report(client, westwijk[0], FIGHT)
    knife = await post_report(client, westwijk[1], KNIFE)
    await post_report(client, westwijk[2], INJURED)
    operator = await login(client, demo["operator"])
    [item] = (await client.get("/api/v1/queue", headers=operator)).json()["items"]

    split = await client.post(f"/api/v1/incidents/{item['id']}/split", headers=operator,
                              json={"report_ids": [knife["id"]]})
    assert split.status_code == 201, split.text
    assert split.json()["lead_reason"]["code"] == "floor_weapon"
    assert (await _card(app, item["id"]))["lead_reason"]["code"] == "floor_harm"  # the injury is left

    merged = await client.post(f"/api/v1/incidents/{item['id']}/merge", headers=operator,
                               json={"incident_ids": [split.json()["id"]]})
    assert merged.status_code == 200, merged.text
    assert merged.json()["lead_reason"]["code"] == "floor_weapon"
