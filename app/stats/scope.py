"""Which reports and alerts an evaluation covers: the period, the area filters, an operation and the caller's
own area.

Every area filter (region, gemeente, wijk, group) becomes a set of wijkcodes, so that reports (by the wijk of
the group that forwarded them) and alerts (by the wijken of the recipients' groups) are cut the same way. A
wijkagent sees only their own wijken: asking for another is refused, asking for none gives their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ProblemError
from app.core.principal import Principal
from app.operations.models import Operation
from app.registry.models import Gemeente, Group, Region, Wijk
from app.stats.period import Period


@dataclass(frozen=True)
class AreaFilter:
    region: str | None = None  # region code
    gemeente: str | None = None  # gemeentecode
    wijk: str | None = None  # wijkcode
    group: int | None = None  # group id
    operation: int | None = None  # operation id

    def as_json(self) -> dict[str, Any]:
        return {"region": self.region, "gemeente": self.gemeente, "wijk": self.wijk, "group": self.group,
                "operation": self.operation}


@dataclass(frozen=True)
class Scope:
    period: Period
    wijkcodes: frozenset[str] | None  # None: every wijk
    group_id: int | None = None
    area: AreaFilter = field(default_factory=AreaFilter)
    operation_id: int | None = None  # only the reports tagged with this operation, and its messages


def _unknown(what: str, value: object, name: str) -> ProblemError:
    return ProblemError(422, f"Onbekende {what}", f"{what.capitalize()} '{value}' bestaat niet.", field=name,
                        code=f"unknown_{name}")


async def _check_operation(session: AsyncSession, operation_id: int) -> None:
    if await session.scalar(select(Operation.id).where(Operation.id == operation_id)) is None:
        raise ProblemError(404, "Onbekende actie", f"Actie {operation_id} bestaat niet.", field="operation",
                           code="unknown_operation")


def _outside_own_area(value: object, name: str) -> ProblemError:
    return ProblemError(403, "Geen toegang", f"Een wijkagent ziet alleen de cijfers van de eigen wijken; "
                        f"{value} hoort daar niet bij.", field=name, code="wijk_not_allowed")


async def _wijken_of_region(session: AsyncSession, code: str) -> set[str]:
    region_id = await session.scalar(select(Region.id).where(Region.code == code))
    if region_id is None:
        raise _unknown("regio", code, "region")
    rows = await session.scalars(select(Wijk.code).join(Gemeente).where(Gemeente.region_id == region_id))
    return set(rows)


async def _wijken_of_gemeente(session: AsyncSession, code: str) -> set[str]:
    gemeente_id = await session.scalar(select(Gemeente.id).where(Gemeente.code == code))
    if gemeente_id is None:
        raise _unknown("gemeente", code, "gemeente")
    return set(await session.scalars(select(Wijk.code).where(Wijk.gemeente_id == gemeente_id)))


async def _wijk(session: AsyncSession, code: str) -> set[str]:
    if await session.scalar(select(Wijk.id).where(Wijk.code == code)) is None:
        raise _unknown("wijk", code, "wijk")
    return {code}


async def _wijk_of_group(session: AsyncSession, group_id: int) -> set[str]:
    code = await session.scalar(select(Wijk.code).join(Group, Group.wijk_id == Wijk.id).where(Group.id == group_id))
    if code is None:
        raise _unknown("groep", group_id, "group")
    return {code}


def _narrow(current: set[str] | None, wijkcodes: set[str]) -> set[str]:
    return wijkcodes if current is None else current & wijkcodes


async def resolve_scope(session: AsyncSession, principal: Principal, period: Period, area: AreaFilter) -> Scope:
    """The scope of a request, or a problem: an unknown region, gemeente, wijk or group (422), an unknown
    operation (404), or a wijkagent asking for a wijk or group outside their own wijken (403)."""
    if area.operation is not None:
        await _check_operation(session, area.operation)
    wijkcodes: set[str] | None = None
    if area.region is not None:
        wijkcodes = _narrow(wijkcodes, await _wijken_of_region(session, area.region))
    if area.gemeente is not None:
        wijkcodes = _narrow(wijkcodes, await _wijken_of_gemeente(session, area.gemeente))
    if area.wijk is not None:
        wijkcodes = _narrow(wijkcodes, await _wijk(session, area.wijk))
    if area.group is not None:
        group_wijk = await _wijk_of_group(session, area.group)
        if principal.role == "wijkagent" and not group_wijk <= set(principal.wijkcodes):
            raise _outside_own_area(f"groep {area.group}", "group")
        wijkcodes = _narrow(wijkcodes, group_wijk)
    if principal.role == "wijkagent":
        if area.wijk is not None and area.wijk not in principal.wijkcodes:
            raise _outside_own_area(f"wijk {area.wijk}", "wijk")
        wijkcodes = _narrow(wijkcodes, set(principal.wijkcodes))
    return Scope(period, frozenset(wijkcodes) if wijkcodes is not None else None, area.group, area, area.operation)


async def areas(session: AsyncSession, principal: Principal) -> dict[str, list[dict[str, Any]]]:
    """What the caller can filter on: the regions, gemeenten, wijken and groups with reports they may see, and
    the operations."""
    wijk_rows = select(Wijk.code, Wijk.name, Gemeente.code, Gemeente.name, Region.code, Region.name).join(
        Gemeente, Gemeente.id == Wijk.gemeente_id).outerjoin(Region, Region.id == Gemeente.region_id)
    if principal.role == "wijkagent":
        wijk_rows = wijk_rows.where(Wijk.code.in_(sorted(principal.wijkcodes)))
    wijken = (await session.execute(wijk_rows.order_by(Gemeente.name, Wijk.name))).all()
    codes = [row[0] for row in wijken]
    groups = (await session.execute(
        select(Group.id, Group.name, Wijk.code).join(Wijk, Wijk.id == Group.wijk_id)
        .where(Wijk.code.in_(codes)).order_by(Group.name, Group.id))).all()
    operations = await _operations(session, principal)
    regions = {row[4]: row[5] for row in wijken if row[4]}
    gemeenten = {row[2]: (row[3], row[4]) for row in wijken}
    return {
        "regions": [{"code": code, "name": name} for code, name in sorted(regions.items())],
        "gemeenten": [{"code": code, "name": name, "region": region}
                      for code, (name, region) in sorted(gemeenten.items(), key=lambda item: item[1][0])],
        "wijken": [{"code": row[0], "name": row[1], "gemeente": row[2]} for row in wijken],
        "groups": [{"id": group_id, "name": name, "wijkcode": code} for group_id, name, code in groups],
        "operations": operations,
    }


async def _operations(session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """The operations to filter on, newest first; a wijkagent's: those in their own wijken."""
    rows = (await session.execute(select(Operation.id, Operation.name, Operation.starts_at, Operation.wijkcodes)
                                  .order_by(Operation.starts_at.desc(), Operation.id.desc()))).all()
    own = set(principal.wijkcodes) if principal.role == "wijkagent" else None
    return [{"id": operation_id, "name": name, "starts": starts_at.isoformat()}
            for operation_id, name, starts_at, wijkcodes in rows if own is None or own & set(wijkcodes or [])]
