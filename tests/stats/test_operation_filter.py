"""GET /api/v1/stats?operation=<id>: only the reports tagged with the operation and its messages to the
beheerders; the figures against the script's own, an unknown operation and a bad id refused."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from app.broadcast.models import Broadcast
from app.intake.models import Report
from app.operations.models import Operation, OperationMessage
from app.stats.models import FactChange, alerts_changed
from tests.stats.test_evaluation import PERIOD, category, in_period, month, passed, spread
from tests.support.http import bearer, problem

BOVENKERK = "WK036206"


async def _operation(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        operation = Operation(name="Actiedag Westwijk", kind="ddo", status="gesloten", area={}, wijkcodes=[],
                              gemeentecodes=[], starts_at=datetime(2026, 2, 1, 8, tzinfo=UTC),
                              ends_at=datetime(2026, 2, 1, 20, tzinfo=UTC), briefing="", created_by_name="test")
        session.add(operation)
        await session.commit()
        return operation.id


async def _tag(app: Any, operation_id: int, indices: list[int]) -> None:
    """Tags these reports of the script with the operation, queueing their facts as the domains do."""
    async with app.state.sessionmaker() as session:
        hashes = [f"{index:064d}" for index in indices]  # builders.scripted_history's request_hash per report
        ids = list(await session.scalars(select(Report.id).where(Report.request_hash.in_(hashes))))
        await session.execute(update(Report).where(Report.id.in_(ids)).values(operation_id=operation_id))
        session.add_all([FactChange(report_id=report_id) for report_id in ids])
        await session.commit()


async def _send_as_operation(app: Any, operation_id: int, created_at: datetime) -> None:
    """Makes the scripted alert sent at `created_at` one of the operation's messages."""
    async with app.state.sessionmaker() as session:
        broadcast_id = await session.scalar(select(Broadcast.id).where(Broadcast.created_at == created_at))
        assert broadcast_id is not None
        session.add(OperationMessage(operation_id=operation_id, broadcast_id=broadcast_id, purpose="message"))
        await alerts_changed(session, [broadcast_id])
        await session.commit()


async def _stats(client, token: str, **params: Any):
    return await client.get("/api/v1/stats", params={**PERIOD, **params}, headers=bearer(token))


async def test_an_operation_counts_only_its_own_reports_and_messages(app, client, history):
    operation_id = await _operation(app)
    tagged = list(range(0, len(history.reports), 3))
    await _tag(app, operation_id, tagged)
    message = history.alerts[1]
    await _send_as_operation(app, operation_id, message.created_at)

    data = (await _stats(client, history.analyst.token, operation=operation_id)).json()
    assert data["filters"]["operation"] == operation_id
    ours = [r for r in in_period(history) if history.reports.index(r) in tagged]
    assert 0 < len(ours) < len(in_period(history))
    assert data["reports_by_category"]["total"] == len(ours)
    assert data["reports_by_category"]["categories"] == dict(Counter(category(r) for r in ours))
    assert data["follow_up"]["passed_to_police"] == sum(passed(r) for r in ours)
    assert data["per_month"]["reports"] == {m: sum(month(r) == m for r in ours) for m in data["per_month"]["months"]}
    assert sum(week["reports"] for week in data["per_week"]) == len(ours)
    seconds = [r.first_action_after.total_seconds() for r in ours if r.first_action_after is not None]
    assert {k: data["times"]["first_action"][k] for k in ("n", "median_s", "p90_s")} == spread(seconds)

    current = [d for d in message.deliveries if not d.superseded]
    alerts = data["alerts"]
    assert (alerts["alerts"], alerts["recipients"]) == (1, len(current))
    assert alerts["forwarded"] == sum(d.forwarded_after is not None for d in current)
    assert alerts["time_to_90_delivered"]["alerts_reached"] <= 1

    in_bovenkerk = (await _stats(client, history.analyst.token, operation=operation_id, wijk=BOVENKERK)).json()
    assert in_bovenkerk["reports_by_category"]["total"] == sum(r.wijkcode == BOVENKERK for r in ours)


async def test_without_the_filter_the_operation_changes_nothing(app, client, history):
    before = (await _stats(client, history.analyst.token)).json()
    operation_id = await _operation(app)
    await _tag(app, operation_id, [0, 1, 2])
    await _send_as_operation(app, operation_id, history.alerts[0].created_at)
    after = (await _stats(client, history.analyst.token)).json()
    assert after["reports_by_category"] == before["reports_by_category"]
    assert after["alerts"] == before["alerts"]


async def test_an_unknown_operation_is_not_found_and_a_bad_id_is_refused(client, history):
    unknown = problem(await _stats(client, history.analyst.token, operation=999_999))
    assert (unknown["status"], unknown["title"], unknown["field"]) == (404, "Onbekende actie", "operation")
    for bad in ("abc", "0", "1.5"):
        assert (await _stats(client, history.analyst.token, operation=bad)).status_code == 422


async def test_the_areas_list_the_operations_and_the_csv_names_the_filter(app, client, history):
    operation_id = await _operation(app)
    areas = (await client.get("/api/v1/stats/areas", headers=bearer(history.analyst.token))).json()
    assert [o["name"] for o in areas["operations"] if o["id"] == operation_id] == ["Actiedag Westwijk"]
    csv_text = (await _stats(client, history.analyst.token, operation=operation_id, format="csv")).text
    assert f"filter,,,,2026-01-01 t/m 2026-03-31,actie,{operation_id}" in csv_text.splitlines()

