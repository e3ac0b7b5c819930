"""`meldkamer seed-history`: a past written through the services, in the proportions of the research report,
that the evaluation can show; running it again writes nothing twice."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.broadcast.models import Delivery
from app.incidents.models import Incident
from app.intake.models import Report
from app.simulation.history import seed_history
from tests.support.http import login

UNTIL = date.today()


async def _count(app, *what) -> tuple[int, ...]:
    async with app.state.sessionmaker() as session:
        return tuple([int(await session.scalar(select(func.count()).select_from(model)) or 0) for model in what])


async def test_history_is_written_once_and_shows_in_the_evaluation(app, client, demo, settings):
    outcome = await seed_history(settings, 4, scale=6.0, until=UNTIL)
    assert len(outcome.days) == 4 and outcome.reports > 20 and outcome.decisions > 10
    reports, incidents, deliveries = await _count(app, Report, Incident, Delivery)
    assert reports == outcome.reports
    async with app.state.sessionmaker() as session:
        first, last = (await session.execute(select(func.min(Report.received_at), func.max(Report.received_at)))).one()
        open_incidents = await session.scalar(select(func.count()).where(Incident.status == "open"))
        pending = await session.scalar(select(func.count()).where(Delivery.status.in_(("pending", "sending"))))
        channels = set(await session.scalars(select(Report.channel).distinct()))
    assert (first.date() >= UNTIL - timedelta(days=5)) and last.date() <= UNTIL
    assert open_incidents == 0 and pending == 0  # nothing left for the live queue or the delivery workers
    assert channels == {"whatsapp"}

    again = await seed_history(settings, 4, scale=6.0, until=UNTIL)
    assert again.days == [] and again.skipped == 4
    assert await _count(app, Report, Incident, Delivery) == (reports, incidents, deliveries)
    assert (await seed_history(settings, 10, once=True, until=UNTIL)).already_seeded

    analyst = await login(client, demo["analyst"])
    period = {"from": (UNTIL - timedelta(days=4)).isoformat(), "to": (UNTIL - timedelta(days=1)).isoformat()}
    data = (await client.get("/api/v1/stats", params=period, headers=analyst)).json()
    assert data["reports_by_category"]["total"] == reports
    assert data["follow_up"]["with_follow_up"] > 0 and data["times"]["first_action"]["n"] > 0
    assert data["times"]["feedback_delivered"]["n"] > 0
