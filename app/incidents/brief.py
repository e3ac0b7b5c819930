"""Incidents as queue rows without their reports: what search results and merge suggestions show."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import StaffUser
from app.core.database import utcnow
from app.incidents.models import Incident
from app.incidents.schemas import IncidentBrief


async def holders(session: AsyncSession, incidents: Sequence[Incident]) -> dict[int, str]:
    """The display name of whoever holds a live claim, per incident id (one query for all of them)."""
    now = utcnow()
    held = {i.id: i.claimed_by_id for i in incidents
            if i.claimed_by_id is not None and i.claim_expires_at is not None and i.claim_expires_at > now}
    if not held:
        return {}
    names = dict((await session.execute(
        select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(set(held.values()))))).tuples().all())
    return {incident_id: names[user_id] for incident_id, user_id in held.items() if user_id in names}


async def briefs(session: AsyncSession, incidents: Sequence[Incident]) -> list[IncidentBrief]:
    names = await holders(session, incidents)
    return [
        IncidentBrief(
            id=i.id, status=i.status, urgency=i.urgency, category=i.category, offence=i.offence,
            wijkcode=i.wijk_code, lat=i.lat, lon=i.lon, first_report_at=i.first_report_at,
            last_report_at=i.last_report_at, report_count=i.report_count, group_count=len(i.group_ids or []),
            text=i.summary, claimed_by=names.get(i.id), follow_up=i.follow_up, result=i.result,
            appearance_only=i.appearance_only, unrecognised=bool(i.unrecognised),
            has_photo=i.first_photo_id is not None,
        )
        for i in incidents
    ]
