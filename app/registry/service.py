"""Registry rules: regions, gemeenten, wijken, streets, groups, beheerders and wall displays."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.auth import service as auth_service
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.principal import Principal
from app.core.settings import Settings
from app.events.service import emit_access_revoked
from app.registry.models import Beheerder, Gemeente, Group, Region, WallDisplay, Wijk
from app.registry.schemas import (
    BeheerderIn,
    BeheerderOut,
    BeheerderPatch,
    GroupIn,
    GroupOut,
    GroupPatch,
    WallPatch,
    WijkDetail,
    WijkOut,
    WijkPatch,
)

# ---- read models -------------------------------------------------------------------------------


def group_out(group: Group) -> GroupOut:
    return GroupOut(
        id=group.id, name=group.name, wijkcode=group.wijk.code, wijk_name=group.wijk.name,
        member_count=group.member_count, active=group.active,
        beheerder_ids=sorted(b.id for b in group.beheerders),
    )


def beheerder_out(beheerder: Beheerder) -> BeheerderOut:
    return BeheerderOut(
        id=beheerder.id, name=beheerder.name, phone=beheerder.phone, whatsapp_user_id=beheerder.whatsapp_user_id,
        email=beheerder.email, channels=list(beheerder.channels or []), active=beheerder.active,
        group_ids=sorted(g.id for g in beheerder.groups),
        wijkcodes=sorted({g.wijk.code for g in beheerder.groups}),
        created_at=beheerder.created_at,
    )


def wijk_out(wijk: Wijk, group_count: int = 0, *, detail: bool = False) -> WijkOut:
    fields = dict(
        id=wijk.id, code=wijk.code, name=wijk.name, gemeente_code=wijk.gemeente.code,
        gemeente_name=wijk.gemeente.name, centroid_lat=wijk.centroid_lat, centroid_lon=wijk.centroid_lon,
        households=wijk.households, group_count=group_count,
    )
    return WijkDetail(**fields, geometry=wijk.geometry) if detail else WijkOut(**fields)


_GROUP_LOAD = (selectinload(Group.wijk), selectinload(Group.beheerders))
_BEHEERDER_LOAD = (selectinload(Beheerder.groups).selectinload(Group.wijk),)

# ---- regions, gemeenten, wijken ----------------------------------------------------------------


async def list_regions(session: AsyncSession) -> Sequence[Region]:
    return (await session.scalars(select(Region).order_by(Region.code))).all()


async def create_region(session: AsyncSession, actor: Principal, code: str, name: str,
                        gemeentecodes: list[str]) -> Region:
    if await session.scalar(select(Region).where(Region.code == code)):
        raise Conflict(f"Regio '{code}' bestaat al.", field="code")
    region = Region(code=code, name=name)
    session.add(region)
    await session.flush()
    for gemeente in await _gemeenten_by_codes(session, gemeentecodes):
        gemeente.region_id = region.id
    audit.record(session, actor, "region.create", target_type="region", target_id=region.id, code=code)
    await session.commit()
    return region


async def _gemeenten_by_codes(session: AsyncSession, codes: list[str]) -> list[Gemeente]:
    found = list((await session.scalars(select(Gemeente).where(Gemeente.code.in_(codes)))).all())
    missing = sorted(set(codes) - {g.code for g in found})
    if missing:
        raise InvalidInput(f"Onbekende gemeente(n): {', '.join(missing)}.", field="gemeentecodes")
    return found


def _matches(words: str | None, *columns: Any) -> list[ColumnElement[bool]]:
    """A search box: every word occurs (case-insensitively) in one of the columns."""
    return [or_(*(func.lower(column).contains(word, autoescape=True) for column in columns))
            for word in (words or "").lower().split()]


async def _count(session: AsyncSession, query: Select[Any]) -> int:
    return await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


async def list_gemeenten(session: AsyncSession, *, q: str | None = None, limit: int, offset: int
                         ) -> tuple[Sequence[Gemeente], int]:
    query = select(Gemeente).where(*_matches(q, Gemeente.name, Gemeente.code))
    rows = (await session.scalars(query.order_by(Gemeente.code).limit(limit).offset(offset))).all()
    return rows, await _count(session, query)


async def list_wijken(session: AsyncSession, gemeente_code: str | None = None, *, q: str | None = None,
                      limit: int, offset: int) -> tuple[list[WijkOut], int]:
    """A page of wijken (by code) with their number of active groups; `q` searches name, code and gemeente."""
    chosen = select(Wijk.id).join(Wijk.gemeente).where(*_matches(q, Wijk.name, Wijk.code, Gemeente.name))
    if gemeente_code:
        chosen = chosen.where(Gemeente.code == gemeente_code)
    page = chosen.order_by(Wijk.code).limit(limit).offset(offset).subquery()
    counts = (
        select(Group.wijk_id, func.count(Group.id).label("n"))
        .where(Group.active, Group.wijk_id.in_(select(page.c.id))).group_by(Group.wijk_id)
    ).subquery()
    # Plain columns, not ORM objects: a thousand wijken (an older client's whole list) stay cheap to build.
    query = (
        select(Wijk.id, Wijk.code, Wijk.name, Gemeente.code.label("gemeente_code"),
               Gemeente.name.label("gemeente_name"), Wijk.centroid_lat, Wijk.centroid_lon, Wijk.households,
               func.coalesce(counts.c.n, 0).label("group_count"))
        .join(Wijk.gemeente)
        .outerjoin(counts, counts.c.wijk_id == Wijk.id)
        .where(Wijk.id.in_(select(page.c.id)))
        .order_by(Wijk.code)
    )
    items = [WijkOut.model_validate(dict(row)) for row in (await session.execute(query)).mappings()]
    return items, await _count(session, chosen)


async def get_wijk(session: AsyncSession, code: str) -> Wijk:
    wijk = await session.scalar(
        select(Wijk).where(Wijk.code == code).options(selectinload(Wijk.gemeente))
    )
    if wijk is None:
        raise NotFound(f"Wijk '{code}'")
    return wijk


async def update_wijk(session: AsyncSession, actor: Principal, code: str, body: WijkPatch) -> WijkOut:
    wijk = await get_wijk(session, code)
    changes = body.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(wijk, key, value)
    audit.record(session, actor, "wijk.update", target_type="wijk", target_id=wijk.code, **changes)
    await session.commit()
    return wijk_out(await get_wijk(session, code), detail=True)


async def _wijk_for_input(session: AsyncSession, code: str, field: str = "wijkcode") -> Wijk:
    wijk = await session.scalar(select(Wijk).where(Wijk.code == code))
    if wijk is None:
        raise InvalidInput(f"Onbekende wijkcode '{code}'.", field=field)
    return wijk


# ---- groups --------------------------------------------------------------------------------------


async def list_groups(session: AsyncSession, *, wijkcode: str | None, q: str | None = None, limit: int,
                      offset: int) -> tuple[list[GroupOut], int]:
    query = select(Group).join(Group.wijk).where(*_matches(q, Group.name))
    if wijkcode:
        query = query.where(Wijk.code == wijkcode)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(query.options(*_GROUP_LOAD).order_by(Group.id).limit(limit).offset(offset))
    return [group_out(g) for g in rows], total


async def get_group(session: AsyncSession, group_id: int) -> Group:
    group = await session.scalar(select(Group).where(Group.id == group_id).options(*_GROUP_LOAD))
    if group is None:
        raise NotFound("De groep")
    return group


async def create_group(session: AsyncSession, actor: Principal, body: GroupIn) -> GroupOut:
    wijk = await _wijk_for_input(session, body.wijkcode)
    group = Group(name=body.name, wijk_id=wijk.id, member_count=body.member_count)
    session.add(group)
    await session.flush()
    audit.record(session, actor, "group.create", target_type="group", target_id=group.id, name=body.name)
    await session.commit()
    return group_out(await get_group(session, group.id))


async def update_group(session: AsyncSession, actor: Principal, group_id: int, body: GroupPatch) -> GroupOut:
    group = await get_group(session, group_id)
    changes = body.model_dump(exclude_unset=True)
    if "wijkcode" in changes:
        group.wijk_id = (await _wijk_for_input(session, changes.pop("wijkcode"))).id
    for key, value in changes.items():
        setattr(group, key, value)
    audit.record(session, actor, "group.update", target_type="group", target_id=group.id,
                 fields=sorted(body.model_dump(exclude_unset=True)))
    await session.commit()
    session.expunge(group)
    return group_out(await get_group(session, group_id))


# ---- beheerders ----------------------------------------------------------------------------------


async def list_beheerders(session: AsyncSession, *, wijkcode: str | None, q: str | None = None, limit: int,
                          offset: int) -> tuple[list[BeheerderOut], int]:
    """A page of beheerders by id; `q` searches name, phone number and e-mail address."""
    query = select(Beheerder).where(*_matches(q, Beheerder.name, Beheerder.phone, Beheerder.email))
    if wijkcode:
        query = query.where(Beheerder.groups.any(Group.wijk.has(Wijk.code == wijkcode)))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.options(*_BEHEERDER_LOAD).order_by(Beheerder.id).limit(limit).offset(offset)
    )
    return [beheerder_out(b) for b in rows], total


async def get_beheerder(session: AsyncSession, beheerder_id: int) -> Beheerder:
    beheerder = await session.scalar(
        select(Beheerder).where(Beheerder.id == beheerder_id).options(*_BEHEERDER_LOAD)
    )
    if beheerder is None:
        raise NotFound("De beheerder")
    return beheerder


async def _groups_by_ids(session: AsyncSession, ids: list[int]) -> list[Group]:
    groups = list((await session.scalars(select(Group).where(Group.id.in_(ids)))).all())
    missing = sorted(set(ids) - {g.id for g in groups})
    if missing:
        raise InvalidInput(f"Onbekende groep(en): {', '.join(map(str, missing))}.", field="group_ids")
    return groups


async def _ensure_phone_free(session: AsyncSession, phone: str | None, own_id: int | None = None) -> None:
    if not phone:
        return
    other = await session.scalar(select(Beheerder.id).where(Beheerder.phone == phone))
    if other is not None and other != own_id:
        raise Conflict("Dit telefoonnummer hoort al bij een andere beheerder.", field="phone")


async def _ensure_whatsapp_user_free(session: AsyncSession, user_id: str | None, own_id: int | None = None) -> None:
    if not user_id:
        return
    other = await session.scalar(select(Beheerder.id).where(Beheerder.whatsapp_user_id == user_id))
    if other is not None and other != own_id:
        raise Conflict("Deze WhatsApp-gebruiker (BSUID) hoort al bij een andere beheerder.", field="whatsapp_user_id")


async def create_beheerder(session: AsyncSession, actor: Principal, body: BeheerderIn) -> BeheerderOut:
    await _ensure_phone_free(session, body.phone)
    await _ensure_whatsapp_user_free(session, body.whatsapp_user_id)
    beheerder = Beheerder(name=body.name, phone=body.phone, whatsapp_user_id=body.whatsapp_user_id, email=body.email,
                          channels=list(body.channels), active=body.active)
    beheerder.groups = await _groups_by_ids(session, body.group_ids)
    session.add(beheerder)
    await session.flush()
    audit.record(session, actor, "beheerder.create", target_type="beheerder", target_id=beheerder.id)
    await session.commit()
    return beheerder_out(await get_beheerder(session, beheerder.id))


async def update_beheerder(session: AsyncSession, actor: Principal, beheerder_id: int,
                           body: BeheerderPatch) -> BeheerderOut:
    beheerder = await get_beheerder(session, beheerder_id)
    changes = body.model_dump(exclude_unset=True)
    if "phone" in changes:
        await _ensure_phone_free(session, changes["phone"], beheerder.id)
    if "whatsapp_user_id" in changes:
        await _ensure_whatsapp_user_free(session, changes["whatsapp_user_id"], beheerder.id)
    if "group_ids" in changes:
        beheerder.groups = await _groups_by_ids(session, changes.pop("group_ids"))
    if changes.get("active") is False and beheerder.active:
        emit_access_revoked(session, principal=("beheerder", beheerder.id))
    for key, value in changes.items():
        setattr(beheerder, key, list(value) if key == "channels" else value)
    audit.record(session, actor, "beheerder.update", target_type="beheerder", target_id=beheerder.id,
                 fields=sorted(body.model_dump(exclude_unset=True)))
    await session.commit()
    session.expunge(beheerder)
    return beheerder_out(await get_beheerder(session, beheerder_id))


async def issue_token_for_beheerder(session: AsyncSession, settings: Settings, actor: Principal,
                                    beheerder_id: int, label: str | None,
                                    days: int | None) -> auth_service.IssuedToken:
    beheerder = await get_beheerder(session, beheerder_id)
    issued = auth_service.issue_beheerder_token(session, settings, beheerder, label=label, days=days)
    await session.flush()
    audit.record(session, actor, "token.issue", target_type="beheerder", target_id=beheerder.id,
                 token_id=issued.record.id)
    await session.commit()
    return issued


async def beheerder_group(session: AsyncSession, beheerder_id: int, group_id: int) -> Group:
    """A group of this beheerder; another beheerder's group is 'not found', not 'forbidden'."""
    group = await session.scalar(
        select(Group)
        .where(Group.id == group_id, Group.beheerders.any(Beheerder.id == beheerder_id))
        .options(*_GROUP_LOAD)
    )
    if group is None:
        raise NotFound("De groep")
    return group


# ---- wall displays -------------------------------------------------------------------------------


async def create_wall(session: AsyncSession, settings: Settings, actor: Principal, name: str,
                      region_code: str) -> tuple[WallDisplay, str]:
    region = await session.scalar(select(Region).where(Region.code == region_code))
    if region is None:
        raise InvalidInput(f"Onbekende regio '{region_code}'.", field="region_code")
    wall = WallDisplay(name=name, region_id=region.id)
    session.add(wall)
    await session.flush()
    issued = auth_service.issue_wall_token(session, settings, wall, label=name)
    audit.record(session, actor, "wall.create", target_type="wall_display", target_id=wall.id)
    await session.commit()
    return wall, issued.token


async def update_wall(session: AsyncSession, actor: Principal, wall_id: int,
                      body: WallPatch) -> tuple[WallDisplay, str]:
    """Renames or (de)activates a wall. A deactivated wall's token is refused and its open streams close."""
    query = select(WallDisplay, Region.code).join(Region).where(WallDisplay.id == wall_id)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("De videowall")
    wall, region_code = row
    changes = body.model_dump(exclude_unset=True)
    if changes.get("active") is False and wall.active:
        emit_access_revoked(session, principal=("wall", wall.id))
    for key, value in changes.items():
        setattr(wall, key, value)
    audit.record(session, actor, "wall.update", target_type="wall_display", target_id=wall.id, fields=sorted(changes))
    await session.commit()
    return wall, region_code


async def list_walls(session: AsyncSession) -> list[tuple[WallDisplay, str]]:
    rows = await session.execute(
        select(WallDisplay, Region.code).join(Region).order_by(WallDisplay.id)
    )
    return [(wall, code) for wall, code in rows.all()]
