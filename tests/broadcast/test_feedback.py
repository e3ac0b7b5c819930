"""Terugkoppeling: record_feedback tells the beheerder who forwarded a report, and only them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from app.broadcast.feedback import record_feedback
from app.broadcast.models import Delivery
from app.core.database import utcnow
from app.core.errors import InvalidInput
from app.events.models import Event
from app.intake.models import Report, ReportFeedback
from tests.support import builders
from tests.support.broadcast import deliver
from tests.support.http import bearer


async def _report(client, beheerder: builders.BeheerderAccount, text: str = "Man probeert fietsen los te knippen "
                  "bij het station, nu bezig.") -> dict[str, Any]:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={
        "text": text, "group_id": beheerder.group_ids[0], "location": {"place": "Amstelveen"}})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def _feedback(app, report_id: int, kind: str, value: str | None = None, note: str | None = None) -> Any:
    async with app.state.sessionmaker() as session:
        report = await session.get(Report, report_id)
        assert report is not None
        row = await record_feedback(session, report, kind=kind, value=value, note=note, staff_user_id=None)
        await session.commit()
        return row


async def _make_due(app) -> None:
    async with app.state.sessionmaker() as session:
        await session.execute(update(Delivery).where(Delivery.status == "pending").values(next_attempt_at=utcnow()))
        await session.commit()


async def test_feedback_reaches_the_reporting_beheerder_and_nobody_else(app, client, worker, fake):
    reporter, other = await builders.beheerder(app), await builders.beheerder(app)
    report = await _report(client, reporter)

    row = await _feedback(app, report["id"], "follow_up", "ter_plaatse")

    assert row.text == f"Uw melding {report['case_number']}: er is een eenheid ter plaatse gegaan"
    async with app.state.sessionmaker() as session:
        (delivery,) = (await session.scalars(select(Delivery))).all()
        events = (await session.scalars(select(Event).where(Event.type == "feedback"))).all()
    assert delivery.beheerder_id == reporter.id and delivery.purpose == "feedback"
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > utcnow()  # waits to combine
    assert [e.audience for e in events] == [f"beheerder:{reporter.id}"]
    assert events[0].data["case_number"] == report["case_number"]

    await deliver(worker, fake)
    assert fake.sent == []  # not due yet
    await _make_due(app)
    await deliver(worker, fake)

    (message,) = fake.sent
    assert message.to == str(reporter.phone).lstrip("+")
    assert report["case_number"] in str(message.payload)

    mine = (await client.get("/api/v1/reports", headers=bearer(reporter.token))).json()["items"]
    assert [f["text"] for f in mine[0]["feedback"]] == [row.text]
    one = (await client.get(f"/api/v1/reports/{report['id']}", headers=bearer(reporter.token))).json()
    assert [f["text"] for f in one["feedback"]] == [row.text]
    assert (await client.get(f"/api/v1/reports/{report['id']}", headers=bearer(other.token))).status_code == 404


async def test_changes_within_the_combine_window_go_out_as_one_message(app, client, worker, fake):
    reporter = await builders.beheerder(app)
    report = await _report(client, reporter)

    await _feedback(app, report["id"], "follow_up", "ter_plaatse")
    await _feedback(app, report["id"], "result", "aanhouding")
    await _make_due(app)
    await deliver(worker, fake)

    (message,) = fake.sent
    text = str(message.payload)
    assert f"Uw melding {report['case_number']}: er is een eenheid ter plaatse gegaan; er is iemand aangehouden" in text
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReportFeedback)) == 2
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 1


async def test_a_transition_that_does_not_notify_records_nothing(app, client):
    report = await _report(client, await builders.beheerder(app))

    assert await _feedback(app, report["id"], "result", "onbekend") is None
    assert await _feedback(app, report["id"], "follow_up", None) is None  # cleared: nothing to tell

    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(ReportFeedback)) == 0
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_notes_lose_personal_data_and_looks_only_notes_are_refused(app, client):
    report = await _report(client, await builders.beheerder(app))

    row = await _feedback(app, report["id"], "note", note="De eigenaar (06-12345678, Kastanjelaan 12) is ingelicht.")
    assert "06-12345678" not in row.text and "12" not in row.text.split("Kastanjelaan")[1]
    assert "[weggelaten]" in row.text and row.text.startswith(f"Uw melding {report['case_number']}: ")

    with pytest.raises(InvalidInput) as refused:
        await _feedback(app, report["id"], "note", note="Het waren Roemenen, zo te zien.")
    assert refused.value.field == "note" and refused.value.code == "privacy_refused"


@pytest.mark.parametrize(("kind", "value", "field"), [
    ("follow_up", "opgelost", "follow_up"), ("result", "gevangen", "result"), ("status", "x", "kind"),
    ("note", None, "note"),
])
async def test_unknown_values_are_refused_with_the_field(app, client, kind, value, field):
    report = await _report(client, await builders.beheerder(app))
    with pytest.raises(InvalidInput) as refused:
        await _feedback(app, report["id"], kind, value)
    assert refused.value.field == field and refused.value.detail


async def test_the_evaluation_times_the_terugkoppeling_once_the_phone_reports_it_delivered(app, client, worker, fake):
    reporter = await builders.beheerder(app)
    analyst = await builders.staff(app, "analyst")
    report = await _report(client, reporter)
    await _feedback(app, report["id"], "follow_up", "ter_plaatse")

    async def delivered() -> int:
        response = await client.get("/api/v1/stats", headers=bearer(analyst.token))
        assert response.status_code == 200, response.text
        return int(response.json()["times"]["feedback_delivered"]["n"])

    assert await delivered() == 0
    await _make_due(app)
    await deliver(worker, fake)

    assert len(fake.sent) == 1
    assert await delivered() == 1
