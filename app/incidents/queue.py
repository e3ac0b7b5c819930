"""The queue's read model: a page of incidents in queue order and their number, counted only up to a cap over
a year of closed history (`COUNT_CAP`), so that the history answers in constant time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.incidents.models import Incident
from app.incidents.service import URGENCY_RANK
from app.intake.models import Report

COUNT_CAP = 10_000  # beyond this a list says "10.000+" (`Page.total_capped`) instead of counting a year


@dataclass(frozen=True)
class QueuePage:
    """A page of the queue and its number of incidents; `capped`: there are more than `total` (see COUNT_CAP)."""

    incidents: list[Incident]
    total: int
    capped: bool = False


async def list_queue(session: AsyncSession, *, status: str | None, urgency: str | None, wijk: str | None,
                     limit: int, offset: int, region_id: int | None = None,
                     urgencies: Sequence[str] = (), operation_id: int | None = None) -> QueuePage:
    """A page of incidents, most urgent first and within an urgency the oldest first, and their number (exact up
    to COUNT_CAP or the end of the page, whichever is further)."""
    conditions: list[Any] = []
    if operation_id is not None:  # an operation's view: the incidents holding a report tagged with it
        conditions.append(Incident.id.in_(select(Report.incident_id).where(Report.operation_id == operation_id)))
    if region_id is not None:
        # `+ 0`: not through the region's index (a year of incidents) but the queue's (the few open ones)
        conditions.append(Incident.region_id + 0 == region_id)
    if wijk:
        conditions.append(Incident.wijk_code == wijk)
    codes = [code for code in sorted(URGENCY_RANK, key=URGENCY_RANK.__getitem__)
             if (not urgency or code == urgency) and (not urgencies or code in urgencies)]
    bound = max(COUNT_CAP, offset + limit)
    if status is None:
        return await _queue_sorted(session, [*conditions, Incident.urgency.in_(codes)], limit, offset, bound)
    return await _queue_by_urgency(session, [Incident.status == status, *conditions], codes, limit, offset, bound)


async def _capped_count(session: AsyncSession, query: Select[Any], bound: int) -> int:
    """The rows of `query`, counted up to bound + 1 only: constant time over a year of history."""
    return await session.scalar(select(func.count()).select_from(query.limit(bound + 1).subquery())) or 0


async def _urgency_counts(session: AsyncSession, conditions: list[Any], codes: list[str], bound: int
                          ) -> tuple[dict[str, int], bool]:
    """Incidents per urgency, exact while there are at most `bound` in all (one statement); beyond that each
    urgency is counted up to what is left of the bound, in queue order, and the total is capped."""
    matching = select(Incident.urgency).where(*conditions, Incident.urgency.in_(codes))
    few = matching.limit(bound + 1).subquery()
    counts: dict[str, int] = dict((await session.execute(
        select(few.c.urgency, func.count()).group_by(few.c.urgency))).tuples().all())
    if sum(counts.values()) <= bound:
        return counts, False
    counts, left = {}, bound + 1
    for code in codes:
        counts[code] = await _capped_count(session, matching.where(Incident.urgency == code), left - 1) \
            if left > 0 else 0
        left -= counts[code]
    return counts, True


async def _queue_by_urgency(session: AsyncSession, conditions: list[Any], codes: list[str], limit: int,
                            offset: int, bound: int) -> QueuePage:
    """Urgency by urgency, so that each page and count walks ix_incidents_queue instead of sorting a year of
    closed incidents by a rank expression."""
    counts, capped = await _urgency_counts(session, conditions, codes, bound)
    items: list[Incident] = []
    total = 0
    for code in codes:
        count = counts.get(code, 0)
        skip, room = max(0, offset - total), limit - len(items)
        if room > 0 and skip < count:
            page = (select(Incident).where(*conditions, Incident.urgency == code)
                    .order_by(Incident.first_report_at, Incident.id))
            items.extend(await session.scalars(page.offset(skip).limit(room)))
        total += count
    return QueuePage(items, min(total, bound), capped)


async def _queue_sorted(session: AsyncSession, conditions: list[Any], limit: int, offset: int, bound: int
                        ) -> QueuePage:
    query = select(Incident).where(*conditions)
    total = await _capped_count(session, select(Incident.id).where(*conditions), bound)
    rank = case(URGENCY_RANK, value=Incident.urgency, else_=len(URGENCY_RANK))
    ordered = query.order_by(rank, Incident.first_report_at, Incident.id)
    rows = await session.scalars(ordered.limit(limit).offset(offset))
    return QueuePage(list(rows), min(total, bound), total > bound)
