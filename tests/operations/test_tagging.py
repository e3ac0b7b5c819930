"""Reports from participants go through the one intake path and carry the operation while it is open; a report
after closing, or from a beheerder who does not take part, does not."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.database import utcnow
from app.intake.models import Report
from tests.support import builders
from tests.support.http import bearer
from tests.support.operations import WESTWIJK, create, typed, webhook

SIGHTING = "Man voelt aan voordeuren in de Zonnestein, nu richting de Bankrasweg"


async def _report(client, beheerder: builders.BeheerderAccount) -> int:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={"text": SIGHTING})
    assert response.status_code == 201, response.text
    report_id: int = response.json()["id"]
    return report_id


async def test_a_report_during_the_operation_is_tagged_and_one_after_closing_is_not(app, client, clock):
    participant = await builders.beheerder(app, wijkcode=WESTWIJK)
    bystander = await builders.beheerder(app, wijkcode=WESTWIJK)
    specialist = bearer((await builders.staff(app, "specialist")).token)
    clock.now = utcnow()  # reports are received on the real clock
    operation = await create(client, specialist, starts_at=(clock.now - timedelta(hours=1)).isoformat(),
                             ends_at=(clock.now + timedelta(days=14)).isoformat())
    assert operation["status"] == "open"
    url = f"/api/v1/operations/{operation['id']}"
    await client.post(f"{url}/join", headers=bearer(participant.token))

    during = await _report(client, participant)
    by_whatsapp = await webhook(client, typed(participant, "Zojuist weer iemand bij de achterdeur van nummer 3"))
    not_taking_part = await _report(client, bystander)
    await client.post(f"{url}/close", headers=specialist)
    after = await _report(client, participant)

    assert by_whatsapp == ["created"]
    async with app.state.sessionmaker() as session:
        tags = dict((await session.execute(select(Report.id, Report.operation_id))).tuples().all())
    whatsapp_id = max(set(tags) - {during, not_taking_part, after})
    assert tags[during] == tags[whatsapp_id] == operation["id"]
    assert tags[not_taking_part] is None and tags[after] is None
