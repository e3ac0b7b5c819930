"""The day report on a scripted day: its numbers, counted by the database, against the same numbers counted
here from the rows themselves; and the same report as CSV."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.broadcast.models import Delivery
from app.core.database import utcnow
from app.intake.models import Report, ReportFeedback
from app.operations.models import OperationMessage
from tests.support import builders
from tests.support.broadcast import deliver
from tests.support.http import bearer
from tests.support.operations import WESTWIJK, create, deliveries_to, typed, webhook

REPORTS = {  # beheerder index -> what they report during the operation
    0: ["Er wordt nu ingebroken aan de Zonnestein, man met breekijzer bij de achterdeur",
        "Onze kat is weggelopen, grijs met witte pootjes"],
    1: ["Verdachte man kijkt in auto's bij het winkelcentrum Westwijk"],
}


async def _report(client, beheerder: builders.BeheerderAccount, text: str) -> int:
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={"text": text})
    assert response.status_code == 201, response.text
    report_id: int = response.json()["id"]
    return report_id


async def _expected(app, operation_id: int) -> dict[str, object]:
    """The report's numbers, counted in Python from the rows."""
    async with app.state.sessionmaker() as session:
        reports = (await session.scalars(select(Report).where(Report.operation_id == operation_id))).all()
        first_feedback = dict((await session.execute(
            select(ReportFeedback.report_id, func.min(ReportFeedback.at)).group_by(ReportFeedback.report_id)))
            .tuples().all())
        deliveries = (await session.execute(
            select(OperationMessage.purpose, Delivery)
            .join(Delivery, Delivery.broadcast_id == OperationMessage.broadcast_id)
            .where(OperationMessage.operation_id == operation_id))).tuples().all()
    waits = []
    for report in reports:
        moments = [m for m in (first_feedback.get(report.id), report.closed_at) if m is not None]
        if moments:
            waits.append((min(moments) - report.received_at).total_seconds())
    by_purpose: dict[str, Counter[str]] = {}
    for purpose, row in deliveries:
        counts = by_purpose.setdefault(purpose, Counter())
        counts["recipients"] += 1
        counts["delivered"] += row.status in ("delivered", "read")
        counts["forwarded"] += row.forwarded_at is not None
    return {
        "categories": Counter(r.category or "onbekend" for r in reports),
        "urgencies": Counter(r.urgency or "onbekend" for r in reports),
        "follow_ups": Counter(r.follow_up for r in reports if r.follow_up),
        "results": Counter(r.result for r in reports if r.result),
        "median": round(statistics.median(waits), 1) if waits else None, "acted": len(waits),
        "deliveries": by_purpose,
    }


async def test_the_day_report_counts_what_happened_during_the_operation(app, client, clock, worker, fake):
    beheerders = [await builders.beheerder(app, wijkcode=WESTWIJK) for _ in range(3)]
    specialist = bearer((await builders.staff(app, "specialist")).token)
    operator = bearer((await builders.staff(app, "operator")).token)
    clock.now = utcnow()  # reports are received on the real clock
    operation = await create(client, specialist, starts_at=(clock.now - timedelta(hours=1)).isoformat(),
                             ends_at=(clock.now + timedelta(hours=8)).isoformat())
    url = f"/api/v1/operations/{operation['id']}"
    await client.post(f"{url}/invite", headers=specialist)
    for beheerder in beheerders[:2]:
        await client.post(f"{url}/join", headers=bearer(beheerder.token))
    await client.post(f"{url}/leave", headers=bearer(beheerders[2].token))
    bystander = await builders.beheerder(app, wijkcode=WESTWIJK)  # not invited, does not join

    report_ids = [await _report(client, beheerders[index], text) for index, texts in REPORTS.items() for text in texts]
    await _report(client, bystander, "Er wordt nu ingebroken aan de Bankrasweg, twee mannen bij een raam")
    async with app.state.sessionmaker() as session:
        incident_id = await session.scalar(select(Report.incident_id).where(Report.id == report_ids[0]))
    decided = await client.patch(f"/api/v1/incidents/{incident_id}", headers=operator,
                                 json={"follow_up": "ter_plaatse", "result": "aanhouding"})
    assert decided.status_code == 200, decided.text
    await client.post(f"{url}/messages", headers=specialist, json={"text": "Let op de Zonnestein, bel 112."})
    await deliver(worker, fake)
    message = [d for d in await deliveries_to(app, beheerders[0].id) if d.provider_message_id][-1]
    assert await webhook(client, typed(beheerders[0], "doorgestuurd", reply_to=message.provider_message_id)) == [
        "reply"]
    await client.post(f"{url}/close", headers=specialist, json={"text": "Eén aanhouding, dank!"})
    await deliver(worker, fake)

    report = (await client.get(f"{url}/report", headers=specialist)).json()
    expected = await _expected(app, operation["id"])
    assert report["participants"] == {"invited": 3, "joined": 2, "declined": 1, "left": 0, "no_answer": 0}
    assert report["reports"] == len(report_ids) == 3
    assert report["reports_by_category"] == expected["categories"]
    assert report["reports_by_urgency"] == expected["urgencies"]
    assert report["follow_ups"] == expected["follow_ups"] and report["follow_ups"].get("ter_plaatse", 0) >= 1
    assert report["results"] == expected["results"] and report["results"].get("aanhouding", 0) >= 1
    assert report["reports_with_action"] == expected["acted"] and report["reports_with_action"] >= 1
    # SQLite computes the seconds from Julian days: equal up to the report's rounding to tenths
    assert report["median_seconds_to_action"] == pytest.approx(expected["median"], abs=0.11)
    sent = report["messages"]
    assert {purpose: counts["messages"] for purpose, counts in sent.items()} == {
        "invitation": 1, "message": 1, "closing": 1}
    assert (sent["invitation"]["recipients"], sent["message"]["recipients"], sent["closing"]["recipients"]) == (3, 2, 2)
    assert sent["message"]["forwarded"] == 1
    for purpose, counts in expected["deliveries"].items():  # type: ignore[attr-defined]
        assert sent[purpose]["delivered"] == counts["delivered"]

    as_csv = await client.get(f"{url}/report", headers=specialist, params={"format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = {(row["onderdeel"], row["code"]): row["aantal"] for row in csv.DictReader(io.StringIO(as_csv.text))}
    assert rows[("deelnemers", "joined")] == "2" and rows[("meldingen", "totaal")] == "3"
    assert rows[("berichten", "forwarded")] == "1"
