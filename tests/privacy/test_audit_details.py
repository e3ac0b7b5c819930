"""The audit log forgets its personal detail after the retention period: an operator's override reason, the
point an operator moved an incident to and the reason for keeping it are readable until then and gone
afterwards (from the API, the timeline and the database), while the entry itself (who, when, what, which
incident) stays and stays append-only. A kept incident keeps them until its hold ends."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEntry, AuditPersonal
from app.core.database import utcnow
from app.intake.models import Report
from app.privacy.retention import purge
from tests.support import builders
from tests.support.http import bearer

REASON = "Melder is de buurvrouw van de verdachte, mevrouw De Vries"
KEEP_REASON = "Onderzoek naar Jan Pietersen, Dorpsstraat 12"
MOVED_TO = (52.301234, 4.821234)
AFTER_PERIOD = timedelta(days=29)
PURGED = "verwijderd na bewaartermijn"


@pytest.fixture
async def decided(app: FastAPI, client) -> dict[str, Any]:
    """One report; an operator moves its incident and gives a reason."""
    beheerder = await builders.beheerder(app)
    operator = await builders.staff(app, "operator")
    admin = await builders.staff(app, "admin")
    report = await client.post("/api/v1/reports", headers=bearer(beheerder.token),
                               json={"text": "Verdachte man bij de Zonnestein"})
    assert report.status_code == 201, report.text
    async with app.state.sessionmaker() as session:
        incident_id = await session.scalar(select(Report.incident_id).where(Report.id == report.json()["id"]))
    decision = await client.patch(f"/api/v1/incidents/{incident_id}", headers=bearer(operator.token),
                                  json={"category": "signalement", "lat": MOVED_TO[0], "lon": MOVED_TO[1],
                                        "reason": REASON})
    assert decision.status_code == 200, decision.text
    return {"incident_id": incident_id, "operator": bearer(operator.token), "admin": bearer(admin.token)}


async def _audit(client, world: dict[str, Any], action: str) -> dict[str, Any]:
    [entry] = (await client.get("/api/v1/admin/audit", params={"action": action}, headers=world["admin"])).json()
    return entry


async def _timeline_reason(client, world: dict[str, Any]) -> str | None:
    timeline = await client.get(f"/api/v1/incidents/{world['incident_id']}/timeline", headers=world["operator"])
    [decision] = [entry for entry in timeline.json()["entries"] if entry["kind"] == "besluit"]
    return decision["reason"]


async def _stored(app: FastAPI) -> str:
    """Everything the audit tables hold, as text."""
    async with app.state.sessionmaker() as session:
        entries = (await session.execute(select(AuditEntry.actor_name, AuditEntry.target_id, AuditEntry.detail))).all()
        personal = (await session.execute(select(AuditPersonal.fields, AuditPersonal.details))).all()
    return json.dumps([list(row) for row in entries + personal])


async def _personal_rows(app: FastAPI) -> list[Any]:
    async with app.state.sessionmaker() as session:
        return list((await session.execute(select(AuditPersonal.__table__))).all())


async def test_reason_and_moved_point_are_readable_until_the_period_and_then_only_the_entry_remains(app, client,
                                                                                                     decided, settings):
    before = await _audit(client, decided, "incident.update")
    assert before["detail"]["reason"] == REASON
    assert (before["detail"]["values"]["lat"], before["detail"]["values"]["lon"]) == MOVED_TO
    assert await _timeline_reason(client, decided) == REASON
    async with app.state.sessionmaker() as session:  # the append-only row itself never held them
        row = await session.get(AuditEntry, before["id"])
    assert REASON not in json.dumps(row.detail) and str(MOVED_TO[0]) not in json.dumps(row.detail)

    result = await purge(app.state.sessionmaker, settings, utcnow() + AFTER_PERIOD, source="test")

    after = await _audit(client, decided, "incident.update")
    assert after["detail"]["reason"] == PURGED
    assert after["detail"]["values"] == {"category": "signalement", "lat": PURGED, "lon": PURGED}
    assert {key: value for key, value in after.items() if key != "detail"} == \
        {key: value for key, value in before.items() if key != "detail"}
    assert after["detail"]["fields"] == before["detail"]["fields"]
    assert await _timeline_reason(client, decided) == PURGED
    stored = await _stored(app)
    assert "De Vries" not in stored and str(MOVED_TO[0]) not in stored and str(MOVED_TO[1]) not in stored
    assert result.counts["audit_details"] == 2  # the reason and the point: two periods, two rows


async def test_a_kept_incident_keeps_its_audit_details_until_its_hold_ends(app, client, decided, settings):
    kept = await client.post(f"/api/v1/incidents/{decided['incident_id']}/keep", headers=decided["operator"],
                             json={"reason": KEEP_REASON})
    assert kept.status_code == 200, kept.text
    within_hold = await purge(app.state.sessionmaker, settings, utcnow() + AFTER_PERIOD, source="test")
    assert within_hold.counts["audit_details"] == 0
    assert (await _audit(client, decided, "incident.update"))["detail"]["reason"] == REASON
    assert (await _audit(client, decided, "incident.keep"))["detail"]["reason"] == KEEP_REASON

    after_hold = utcnow() + timedelta(days=settings.retention_kept_days + 1)
    dry = await purge(app.state.sessionmaker, settings, after_hold, dry_run=True, source="test")
    assert dry.counts["audit_details"] == 3  # the decision's reason and point, the keeping reason
    assert (await _audit(client, decided, "incident.keep"))["detail"]["reason"] == KEEP_REASON
    stored_before = await _stored(app)
    assert "Pietersen" in stored_before

    real = await purge(app.state.sessionmaker, settings, after_hold, source="test")
    assert real.counts["audit_details"] == dry.counts["audit_details"]
    keep_entry = await _audit(client, decided, "incident.keep")
    assert keep_entry["detail"]["reason"] == PURGED and keep_entry["target_id"] == str(decided["incident_id"])
    stored = await _stored(app)
    assert "Pietersen" not in stored and "De Vries" not in stored
    keeping = (await client.get(f"/api/v1/incidents/{decided['incident_id']}/keep", headers=decided["operator"])).json()
    assert "Pietersen" not in json.dumps(keeping)  # the hold's own copy of the reason, once the hold has ended
    assert real.counts["notes"] >= 1

    cleared = await _personal_rows(app)
    again = await purge(app.state.sessionmaker, settings, after_hold, source="test")
    assert again.counts["audit_details"] == 0 and await _personal_rows(app) == cleared


async def test_the_entry_stays_append_only_and_its_personal_part_can_only_be_cleared(app, decided):
    refused = ["UPDATE audit_entries SET detail = '{}'", "DELETE FROM audit_entries",
               "UPDATE audit_personal SET details = '{\"reason\": \"iets anders\"}'",
               "UPDATE audit_personal SET fields = '[]', details = NULL", "DELETE FROM audit_personal"]
    for statement in refused:
        async with app.state.sessionmaker() as session:
            with pytest.raises(DBAPIError, match="append-only|can only be cleared"):
                await session.execute(text(statement))
            await session.rollback()
    async with app.state.sessionmaker() as session:
        cleared = await session.execute(text("UPDATE audit_personal SET details = NULL"))
        await session.commit()
    assert cleared.rowcount == 2  # type: ignore[attr-defined]
