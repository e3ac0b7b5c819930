"""Alerts from the meldkamer to the beheerders in the period: how many reached, were read and were passed on
to the groups, how long until 90% of an alert's recipients had it, and the coverage of each wijk (the share
of its groups with a beheerder who forwarded).

An alert counts for a wijk when one of its recipients runs a group there; a recipient's current delivery
counts (a row that a fallback channel replaced does not). Under an operation filter the alerts are that
operation's messages (broadcasts of kind "actie": invitation, messages, closing, answers) to beheerders.
The figures are sums over the alerts' facts (app.stats.alert_facts), except the totals of an area of several
wijken: a beheerder may run groups in two of them, so those are counted once each from the deliveries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement

from app.broadcast.models import FAILED, OPEN_STATES, Broadcast, Delivery
from app.operations.models import OperationMessage
from app.registry.models import Gemeente, Group, Wijk, beheerder_groups
from app.stats.models import AlertAreaFact, AlertFact
from app.stats.portable import EMPTY, spreads
from app.stats.reports import share
from app.stats.scope import Scope

COUNT_NAMES = ("recipients", "delivered", "read", "forwarded", "failed", "pending")


def _summed(table: type[AlertFact] | type[AlertAreaFact]) -> list[Any]:
    return [func.count().label("alerts"),
            *[func.sum(table.__table__.c[name]).label(name) for name in COUNT_NAMES]]


def _as_counts(row: Any) -> dict[str, int]:
    return {name: int(getattr(row, name) or 0) for name in ("alerts", *COUNT_NAMES)}


def _alerts_in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions = [AlertFact.created_at >= scope.period.start, AlertFact.created_at < scope.period.end,
                  AlertFact.recipients > 0]
    if scope.operation_id is not None:
        conditions.append(AlertFact.operation_id == scope.operation_id)
    return conditions


def _area_rows(scope: Scope) -> list[ColumnElement[bool]]:
    """The area facts of the scope: its group's rows under a group filter, its wijken's rows otherwise."""
    area = AlertAreaFact
    conditions = [area.created_at >= scope.period.start, area.created_at < scope.period.end]
    if scope.group_id is not None:
        conditions.append(area.group_id == scope.group_id)
    else:
        conditions.append(area.group_id.is_(None))
    if scope.wijkcodes is not None:
        conditions.append(area.wijk.in_(sorted(scope.wijkcodes)))
    if scope.operation_id is not None:
        conditions.append(area.operation_id == scope.operation_id)
    return conditions


def _whole_area(scope: Scope) -> bool:
    return scope.wijkcodes is None and scope.group_id is None


def _one_area(scope: Scope) -> bool:
    return scope.group_id is not None or (scope.wijkcodes is not None and len(scope.wijkcodes) == 1)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _from_deliveries(scope: Scope) -> Select[Any]:
    """The totals of an area of several wijken: each recipient who runs a group there once."""
    beheerders = (select(beheerder_groups.c.beheerder_id).join(Group, Group.id == beheerder_groups.c.group_id)
                  .join(Wijk, Wijk.id == Group.wijk_id).where(Wijk.code.in_(sorted(scope.wijkcodes or ()))))
    statement = (select(func.count(Delivery.broadcast_id.distinct()).label("alerts"), func.count().label("recipients"),
                        _count_if(Delivery.delivered_at.is_not(None)).label("delivered"),
                        _count_if(Delivery.read_at.is_not(None)).label("read"),
                        _count_if(Delivery.forwarded_at.is_not(None)).label("forwarded"),
                        _count_if(Delivery.status == FAILED).label("failed"),
                        _count_if(Delivery.status.in_(OPEN_STATES)).label("pending"))
                 .select_from(Delivery).join(Broadcast, Broadcast.id == Delivery.broadcast_id)
                 .where(Delivery.purpose == "alert", Delivery.superseded.is_(False),
                        Broadcast.created_at >= scope.period.start, Broadcast.created_at < scope.period.end,
                        Delivery.beheerder_id.in_(beheerders)))
    if scope.operation_id is not None:
        statement = statement.where(Delivery.broadcast_id.in_(
            select(OperationMessage.broadcast_id).where(OperationMessage.operation_id == scope.operation_id)))
    return statement


async def _totals(session: AsyncSession, scope: Scope) -> dict[str, int]:
    if _whole_area(scope):
        statement = select(*_summed(AlertFact)).where(*_alerts_in_scope(scope))
    elif _one_area(scope):
        statement = select(*_summed(AlertAreaFact)).where(*_area_rows(scope))
    else:
        statement = _from_deliveries(scope)
    return _as_counts((await session.execute(statement)).one())


async def _per_wijk(session: AsyncSession, scope: Scope) -> list[dict[str, Any]]:
    area = AlertAreaFact
    summed = (select(area.wijk, *_summed(area), func.sum(area.groups).label("groups"),
                     func.sum(area.groups_forwarded).label("groups_forwarded"))
              .where(*_area_rows(scope)).group_by(area.wijk)).subquery()
    rows = (await session.execute(
        select(summed, Wijk.name.label("wijk_name"), Gemeente.code.label("gemeente"))
        .join(Wijk, Wijk.code == summed.c.wijk).join(Gemeente, Gemeente.id == Wijk.gemeente_id)
        .order_by(summed.c.wijk))).all()
    return [{"wijkcode": row.wijk, "wijk": row.wijk_name, "gemeentecode": row.gemeente, **_as_counts(row),
             "group_alerts": int(row.groups or 0), "group_alerts_forwarded": int(row.groups_forwarded or 0),
             "coverage": share(int(row.groups_forwarded or 0), int(row.groups or 0))} for row in rows]


async def _time_to_ninety(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Per alert of the scope (one of its recipients runs a group there): the time from sending until
    ceil(90%) of all its recipients had it delivered."""
    conditions = _alerts_in_scope(scope)
    if not _whole_area(scope):
        conditions.append(AlertFact.broadcast_id.in_(select(AlertAreaFact.broadcast_id).where(*_area_rows(scope))))
    durations = select(AlertFact.ninety_s.label("seconds")).where(*conditions, AlertFact.ninety_s.is_not(None))
    spread = (await spreads(session, durations.subquery(), ["seconds"]))["seconds"].get(None, EMPTY).as_json()
    return {"alerts_reached": spread["n"], "median_s": spread["median_s"], "p90_s": spread["p90_s"]}


async def alerts(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    counts = await _totals(session, scope)
    return {**counts, "delivered_share": share(counts["delivered"], counts["recipients"]),
            "forwarded_share": share(counts["forwarded"], counts["recipients"]),
            "time_to_90_delivered": await _time_to_ninety(session, scope), "per_wijk": await _per_wijk(session, scope)}
