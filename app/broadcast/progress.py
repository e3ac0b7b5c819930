"""Progress per broadcast ("delivered x / forwarded y of n"), and its throttled `broadcast.progress` events.

Whoever changes deliveries marks their broadcasts dirty in the same transaction; `emit_due_progress` then
writes one event per dirty broadcast at most every `broadcast_progress_seconds`. A change inside the
interval is not lost: the flag stays set and the workers' idle loop emits it once the interval is over."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.models import DELIVERED, FAILED, OPEN_STATES, READ, SENT, Broadcast, Delivery
from app.broadcast.schemas import ProgressOut
from app.events.service import emit
from app.stats.models import alerts_changed


async def progress_of(session: AsyncSession, broadcast_ids: Collection[int]) -> dict[int, ProgressOut]:
    """Counts over the current delivery of every recipient (a row replaced by a fallback does not count)."""
    if not broadcast_ids:
        return {}
    forwarded = func.count(Delivery.forwarded_at)
    rows = (await session.execute(
        select(Delivery.broadcast_id, Delivery.status, func.count(), forwarded)
        .where(Delivery.broadcast_id.in_(broadcast_ids), Delivery.superseded.is_(False))
        .group_by(Delivery.broadcast_id, Delivery.status))).all()
    counts: dict[int, dict[str, int]] = {bid: {} for bid in broadcast_ids}
    forwards: dict[int, int] = dict.fromkeys(broadcast_ids, 0)
    for broadcast_id, status, count, forwarded_count in rows:
        counts[broadcast_id][status] = count
        forwards[broadcast_id] += forwarded_count
    return {bid: _progress(counts[bid], forwards[bid]) for bid in broadcast_ids}


def _progress(counts: dict[str, int], forwarded: int) -> ProgressOut:
    pending = sum(counts.get(state, 0) for state in OPEN_STATES)
    delivered = counts.get(DELIVERED, 0) + counts.get(READ, 0)
    return ProgressOut(recipients=sum(counts.values()), pending=pending,
                       sent=counts.get(SENT, 0) + delivered, delivered=delivered, read=counts.get(READ, 0),
                       forwarded=forwarded, failed=counts.get(FAILED, 0), done=pending == 0)


async def mark_dirty(session: AsyncSession, broadcast_ids: Collection[int | None]) -> None:
    """Marks the broadcasts for a progress event, and queues their evaluation facts (app.stats.alert_facts)."""
    ids = sorted({bid for bid in broadcast_ids if bid is not None})
    if ids:
        await alerts_changed(session, ids)
        await session.execute(update(Broadcast).where(Broadcast.id.in_(ids), Broadcast.progress_dirty.is_(False))
                              .values(progress_dirty=True))


async def emit_due_progress(session: AsyncSession, interval_s: float, now: datetime, limit: int = 50) -> int:
    """Emits `broadcast.progress` for dirty broadcasts whose last event is older than the interval. Adds to
    the caller's transaction; returns how many it emitted."""
    await session.flush()  # the sessions do not autoflush: count what the caller changed
    due = (await session.scalars(
        select(Broadcast)
        .where(Broadcast.progress_dirty.is_(True),
               or_(Broadcast.progress_emitted_at.is_(None),
                   Broadcast.progress_emitted_at <= now - timedelta(seconds=interval_s)))
        .order_by(Broadcast.id).limit(limit).with_for_update(skip_locked=True))).all()
    if not due:
        return 0
    progress = await progress_of(session, [b.id for b in due])
    for broadcast in due:
        state = progress[broadcast.id]
        broadcast.progress_dirty, broadcast.progress_emitted_at = False, now
        if state.done and broadcast.finished_at is None:
            broadcast.finished_at = now
    for broadcast in due:  # events last: see app.events.notify on lock order
        emit(session, "broadcast.progress", {"broadcast_id": broadcast.id, "kind": broadcast.kind,
                                             **progress[broadcast.id].model_dump()},
             region_id=broadcast.region_id, wijk_code=_single(broadcast.wijkcodes))
    return len(due)


def _single(codes: list[str]) -> str | None:
    return codes[0] if len(codes) == 1 else None

