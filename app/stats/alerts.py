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
from sqlalchemy.sql.selectable import Subquery

from app.broadcast.models import FAILED, OPEN_STATES, Broadcast, Delivery
from app.registry.models import Gemeente, Group, Wijk, beheerder_groups
from app.stats.portable import EMPTY, seconds_between, spreads
from app.stats.reports import share
from app.stats.scope import Scope

NINETY_PERCENT = 9, 10  # as a fraction, so that the rank is computed in integers on both engines


def _recipient_wijken(scope: Scope) -> Subquery:
    """(beheerder, wijk) once for every wijk of the scope where the beheerder runs a group (of the scope)."""
    pairs = (select(beheerder_groups.c.beheerder_id.label("beheerder_id"), Wijk.code.label("wijk"))
             .join(Group, Group.id == beheerder_groups.c.group_id).join(Wijk, Wijk.id == Group.wijk_id))
    if scope.wijkcodes is not None:
        pairs = pairs.where(Wijk.code.in_(sorted(scope.wijkcodes)))
    if scope.group_id is not None:
        pairs = pairs.where(Group.id == scope.group_id)
    return pairs.distinct().subquery()


def _sent_in_period(scope: Scope) -> list[ColumnElement[bool]]:
    return [Delivery.purpose == "alert", Delivery.superseded.is_(False),
            Broadcast.created_at >= scope.period.start, Broadcast.created_at < scope.period.end]


def _deliveries(*columns: Any) -> Select[Any]:
    return select(*columns).select_from(Delivery).join(Broadcast, Broadcast.id == Delivery.broadcast_id)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _counts() -> list[Any]:
    return [func.count(Delivery.broadcast_id.distinct()).label("alerts"), func.count().label("recipients"),
            _count_if(Delivery.delivered_at.is_not(None)).label("delivered"),
            _count_if(Delivery.read_at.is_not(None)).label("read"),
            _count_if(Delivery.forwarded_at.is_not(None)).label("forwarded"),
            _count_if(Delivery.status == FAILED).label("failed"),
            _count_if(Delivery.status.in_(OPEN_STATES)).label("pending")]


_COUNT_NAMES = ("alerts", "recipients", "delivered", "read", "forwarded", "failed", "pending")


def _as_counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in _COUNT_NAMES}


async def _coverage(session: AsyncSession, scope: Scope) -> dict[str, tuple[int, int]]:
    """Per wijk: (alert, group) pairs reached, and those where a beheerder of the group forwarded it."""
    forwarded = func.max(case((Delivery.forwarded_at.is_not(None), 1), else_=0))
    groups = select(beheerder_groups.c.beheerder_id, Group.id.label("group_id"), Wijk.code.label("wijk")).join(
        Group, Group.id == beheerder_groups.c.group_id).join(Wijk, Wijk.id == Group.wijk_id)
    if scope.wijkcodes is not None:
        groups = groups.where(Wijk.code.in_(sorted(scope.wijkcodes)))
    if scope.group_id is not None:
        groups = groups.where(Group.id == scope.group_id)
    reached = groups.subquery()
    pairs = (_deliveries(Delivery.broadcast_id, reached.c.group_id, reached.c.wijk, forwarded.label("forwarded"))
             .join(reached, reached.c.beheerder_id == Delivery.beheerder_id).where(*_sent_in_period(scope))
             .group_by(Delivery.broadcast_id, reached.c.group_id, reached.c.wijk)).subquery()
    rows = await session.execute(select(pairs.c.wijk, func.count(), func.sum(pairs.c.forwarded))
                                 .group_by(pairs.c.wijk))
    return {wijk: (int(reached_pairs), int(done or 0)) for wijk, reached_pairs, done in rows}


async def _time_to_ninety(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Per alert of the scope: the time from sending until ceil(90%) of its recipients had it delivered."""
    dialect = session.get_bind().dialect.name
    recipients = _recipient_wijken(scope)
    in_scope = (_deliveries(Delivery.broadcast_id).join(recipients, recipients.c.beheerder_id == Delivery.beheerder_id)
                .where(*_sent_in_period(scope)).distinct())
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
    spread = (await spreads(session, durations, ["seconds"]))["seconds"].get(None, EMPTY).as_json()
    return {"alerts_reached": spread["n"], "median_s": spread["median_s"], "p90_s": spread["p90_s"]}


async def alerts(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    recipients = _recipient_wijken(scope)
    scoped = Delivery.beheerder_id.in_(select(recipients.c.beheerder_id))
    totals = (await session.execute(_deliveries(*_counts()).where(*_sent_in_period(scope), scoped))).one()
    per_wijk_rows = (await session.execute(
        _deliveries(Wijk.code.label("wijk"), Wijk.name.label("wijk_name"), Gemeente.code.label("gemeente"),
                    *_counts())
        .join(recipients, recipients.c.beheerder_id == Delivery.beheerder_id)
        .join(Wijk, Wijk.code == recipients.c.wijk).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
        .where(*_sent_in_period(scope)).group_by(Wijk.code, Wijk.name, Gemeente.code).order_by(Wijk.code))).all()
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
