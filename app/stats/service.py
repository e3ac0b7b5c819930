"""Counters for the wall and the console: open incidents per urgency, reports today, broadcasts running."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.incidents.models import Incident
from app.intake.models import Report

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def start_of_today() -> datetime:
    """Midnight in Amsterdam, as an aware datetime: 'today' for people in the meldkamer."""
    local_now = utcnow().astimezone(AMSTERDAM)
    return datetime.combine(local_now.date(), time(0), tzinfo=AMSTERDAM)


async def overview(session: AsyncSession, region_id: int | None = None) -> dict[str, int]:
    incidents = select(Incident.urgency, func.count(Incident.id)).where(Incident.status == "open")
    reports = select(func.count(Report.id)).where(Report.received_at >= start_of_today())
    if region_id is not None:
        incidents = incidents.where(Incident.region_id == region_id)
        reports = reports.where(Report.region_id == region_id)
    open_by_urgency = dict((await session.execute(incidents.group_by(Incident.urgency))).tuples().all())
    return {
        "open_p1": int(open_by_urgency.get("P1", 0)),
        "open_p2": int(open_by_urgency.get("P2", 0)),
        "open_p3": int(open_by_urgency.get("P3", 0)),
        "reports_today": int(await session.scalar(reports) or 0),
    }
