"""Alerts from the meldkamer to the beheerders in the period: how many reached, were read and were passed on
to the groups, how long until 90% of an alert's recipients had it, and the coverage of each wijk (the share
of its groups with a beheerder who forwarded).

An alert counts for a wijk when one of its recipients runs a group there; a recipient's current delivery
counts (a row that a fallback channel replaced does not)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from app.broadcast.models import FAILED, OPEN_STATES, Broadcast, Delivery
from app.registry.models import Gemeente, Group, Wijk, beheerder_groups
from app.stats.portable import EMPTY, seconds_between, spreads
from app.stats.reports import share
from app.stats.scope import Scope

NINETY_PERCENT = 9, 10  # as a fraction, so that the rank is computed in integers on both engines


def _conditions(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [Delivery.purpose == "alert", Delivery.superseded.is_(False),
                  Broadcast.created_at >= scope.period.start, Broadcast.created_at < scope.period.end]
    if scope.wijkcodes is not None:
        conditions.append(Wijk.code.in_(sorted(scope.wijkcodes)))
    if scope.group_id is not None:
        conditions.append(Group.id == scope.group_id)
    return conditions


def _deliveries(*columns: Any) -> Select[Any]:
    """Alert deliveries with the groups (and their wijk) of their recipients."""
    return (select(*columns).select_from(Delivery)
            .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
            .join(beheerder_groups, beheerder_groups.c.beheerder_id == Delivery.beheerder_id)
            .join(Group, Group.id == beheerder_groups.c.group_id)
            .join(Wijk, Wijk.id == Group.wijk_id))


def _counts() -> list[Any]:
    def distinct_where(condition: ColumnElement[bool]) -> Any:
        return func.count(case((condition, Delivery.id)).distinct())

    return [func.count(Delivery.broadcast_id.distinct()).label("alerts"),
            func.count(Delivery.id.distinct()).label("recipients"),
            distinct_where(Delivery.delivered_at.is_not(None)).label("delivered"),
            distinct_where(Delivery.read_at.is_not(None)).label("read"),
            distinct_where(Delivery.forwarded_at.is_not(None)).label("forwarded"),
            distinct_where(Delivery.status == FAILED).label("failed"),
            distinct_where(Delivery.status.in_(OPEN_STATES)).label("pending")]


_COUNT_NAMES = ("alerts", "recipients", "delivered", "read", "forwarded", "failed", "pending")


def _as_counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in _COUNT_NAMES}


async def _coverage(session: AsyncSession, scope: Scope) -> dict[str, tuple[int, int]]:
    """Per wijk: (alert, group) pairs reached, and those where a beheerder of the group forwarded it."""
    forwarded = func.max(case((Delivery.forwarded_at.is_not(None), 1), else_=0))
    pairs = (_deliveries(Delivery.broadcast_id, Group.id.label("group_id"), Wijk.code.label("wijk"),
                         forwarded.label("forwarded"))
             .where(*_conditions(scope)).group_by(Delivery.broadcast_id, Group.id, Wijk.code)).subquery()
    rows = await session.execute(select(pairs.c.wijk, func.count(), func.sum(pairs.c.forwarded))
                                 .group_by(pairs.c.wijk))
    return {wijk: (int(reached), int(done or 0)) for wijk, reached, done in rows}


async def _time_to_ninety(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Per alert of the scope: the time from sending until ceil(90%) of its recipients had it delivered."""
    dialect = session.get_bind().dialect.name
    in_scope = _deliveries(Delivery.broadcast_id).where(*_conditions(scope)).distinct()
    delivery_order = (case((Delivery.delivered_at.is_(None), 1), else_=0), Delivery.delivered_at, Delivery.id)
    ranked = (select(Delivery.broadcast_id, Delivery.delivered_at, Broadcast.created_at,
                     func.row_number().over(partition_by=Delivery.broadcast_id, order_by=delivery_order).label("rn"),
                     func.count().over(partition_by=Delivery.broadcast_id).label("n"))
              .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
              .where(Delivery.purpose == "alert", Delivery.superseded.is_(False),
                     Delivery.broadcast_id.in_(in_scope))).subquery()
    numerator, denominator = NINETY_PERCENT
    needed = (ranked.c.n * numerator + denominator - 1) // denominator  # the ceiling, in integers
    durations = (select(seconds_between(ranked.c.delivered_at, ranked.c.created_at, dialect).label("seconds"))
                 .where(ranked.c.rn == needed, ranked.c.delivered_at.is_not(None))).subquery()
    spread = (await spreads(session, durations)).get(None, EMPTY)
    return {"alerts_reached": spread.n, "median_s": spread.as_json()["median_s"], "p90_s": spread.as_json()["p90_s"]}


async def alerts(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    totals = (await session.execute(_deliveries(*_counts()).where(*_conditions(scope)))).one()
    per_wijk_rows = (await session.execute(
        _deliveries(Wijk.code.label("wijk"), Wijk.name.label("wijk_name"), Gemeente.code.label("gemeente"),
                    *_counts())
        .join(Gemeente, Gemeente.id == Wijk.gemeente_id)
        .where(*_conditions(scope)).group_by(Wijk.code, Wijk.name, Gemeente.code).order_by(Wijk.code))).all()
    coverage = await _coverage(session, scope)
    per_wijk = []
    for row in per_wijk_rows:
        reached, forwarded = coverage.get(row.wijk, (0, 0))
        per_wijk.append({"wijkcode": row.wijk, "wijk": row.wijk_name, "gemeentecode": row.gemeente,
                         **_as_counts(row), "group_alerts": reached, "group_alerts_forwarded": forwarded,
                         "coverage": share(forwarded, reached)})
    counts = _as_counts(totals)
    return {**counts, "delivered_share": share(counts["delivered"], counts["recipients"]),
            "forwarded_share": share(counts["forwarded"], counts["recipients"]),
            "time_to_90_delivered": await _time_to_ninety(session, scope), "per_wijk": per_wijk}
