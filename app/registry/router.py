"""Admin API for the registry, and the beheerder's own view of it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth import service as auth_service
from app.auth.schemas import IssuedTokenOut, StaffUserCreate, StaffUserOut, TokenOut
from app.core.deps import SessionDep, SettingsDep, allow
from app.core.errors import InvalidInput
from app.core.openapi import request_body
from app.core.principal import Principal
from app.core.schemas import IdPath, Offset, Page
from app.core.vocabulary import STAFF
from app.registry import imports, service
from app.registry.schemas import (
    BeheerderIn,
    BeheerderOut,
    BeheerderPatch,
    GemeenteOut,
    GroupIn,
    GroupOut,
    GroupPatch,
    ImportResult,
    MeOut,
    MyGroupOut,
    RegionIn,
    RegionOut,
    TokenRequest,
    WallIn,
    WallOut,
    WallPatch,
    WijkDetail,
    WijkOut,
    WijkPatch,
)

admin_router = APIRouter(prefix="/admin", tags=["registratie (beheer)"])
me_router = APIRouter(tags=["beheerder"])
Limit = Annotated[int, Query(ge=1, le=500)]
# Gemeenten and wijken come as plain lists (the country has ~340 and ~3,300; older clients read a list), a page of
# 100 unless asked for up to a thousand, with their number in the X-Total-Count header.
AreaLimit = Annotated[int, Query(ge=1, le=1000)]
AREA_PAGE = 100
Search = Annotated[str | None, Query(max_length=100, description="woorden die alle voorkomen (naam, code, ...)")]
TOTAL_HEADER = "X-Total-Count"


@admin_router.get("/regions", response_model=list[RegionOut])
async def list_regions(session: SessionDep, _: Principal = allow("admin")) -> list[RegionOut]:
    return [RegionOut.model_validate(r) for r in await service.list_regions(session)]


@admin_router.post("/regions", response_model=RegionOut, status_code=201)
async def create_region(body: RegionIn, session: SessionDep, actor: Principal = allow("admin")) -> RegionOut:
    region = await service.create_region(session, actor, body.code, body.name, body.gemeentecodes)
    return RegionOut.model_validate(region)


@admin_router.get("/gemeenten", response_model=list[GemeenteOut],
                  summary="Gemeenten, per pagina (het aantal staat in de header X-Total-Count)")
async def list_gemeenten(session: SessionDep, response: Response, q: Search = None, limit: AreaLimit = AREA_PAGE,
                         offset: Offset = 0, _: Principal = allow("admin")) -> list[GemeenteOut]:
    gemeenten, total = await service.list_gemeenten(session, q=q, limit=limit, offset=offset)
    response.headers[TOTAL_HEADER] = str(total)
    return [GemeenteOut.model_validate(g) for g in gemeenten]


@admin_router.get("/wijken", response_model=list[WijkOut],
                  summary="Wijken, per pagina (het aantal staat in de header X-Total-Count)")
async def list_wijken(session: SessionDep, response: Response, gemeente: str | None = None, q: Search = None,
                      limit: AreaLimit = AREA_PAGE, offset: Offset = 0, _: Principal = allow(*STAFF)) -> list[WijkOut]:
    wijken, total = await service.list_wijken(session, gemeente, q=q, limit=limit, offset=offset)
    response.headers[TOTAL_HEADER] = str(total)
    return wijken


@admin_router.get("/wijken/{code}", response_model=WijkDetail)
async def get_wijk(code: str, session: SessionDep, _: Principal = allow(*STAFF)) -> WijkOut:
    return service.wijk_out(await service.get_wijk(session, code), detail=True)


@admin_router.patch("/wijken/{code}", response_model=WijkDetail)
async def update_wijk(code: str, body: WijkPatch, session: SessionDep, actor: Principal = allow("admin")) -> WijkOut:
    return await service.update_wijk(session, actor, code, body)


@admin_router.get("/groups", response_model=Page[GroupOut])
async def list_groups(session: SessionDep, wijkcode: str | None = None, q: Search = None, limit: Limit = 100,
                      offset: Offset = 0, _: Principal = allow("admin", "operator", "specialist",
                                                                "wijkagent")) -> Page[GroupOut]:
    items, total = await service.list_groups(session, wijkcode=wijkcode, q=q, limit=limit, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@admin_router.post("/groups", response_model=GroupOut, status_code=201)
async def create_group(body: GroupIn, session: SessionDep, actor: Principal = allow("admin")) -> GroupOut:
    return await service.create_group(session, actor, body)


@admin_router.get("/groups/{group_id}", response_model=GroupOut)
async def get_group(group_id: IdPath, session: SessionDep, _: Principal = allow("admin")) -> GroupOut:
    return service.group_out(await service.get_group(session, group_id))


@admin_router.patch("/groups/{group_id}", response_model=GroupOut)
async def update_group(group_id: IdPath, body: GroupPatch, session: SessionDep,
                       actor: Principal = allow("admin")) -> GroupOut:
    return await service.update_group(session, actor, group_id, body)


@admin_router.post("/import/groups", response_model=ImportResult,
                   summary="CSV-overzicht van groepen en beheerders importeren (van de gemeente)",
                   openapi_extra=request_body(media={"text/csv": {"schema": {"type": "string"}}},
                                              description="Kolommen: " + ", ".join(imports.GROUP_CSV_COLUMNS)))
async def import_groups_csv(request: Request, session: SessionDep,
                            actor: Principal = allow("admin")) -> ImportResult:
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("Het CSV-bestand moet UTF-8 zijn.", field="csv") from exc
    if "\x00" in text:
        raise InvalidInput("Het CSV-bestand bevat een NUL-teken (U+0000).", field="csv")
    return await imports.import_groups(session, actor, imports.parse_groups_csv(text))


@admin_router.get("/beheerders", response_model=Page[BeheerderOut])
async def list_beheerders(session: SessionDep, wijkcode: str | None = None, q: Search = None, limit: Limit = 100,
                          offset: Offset = 0, _: Principal = allow("admin")) -> Page[BeheerderOut]:
    items, total = await service.list_beheerders(session, wijkcode=wijkcode, q=q, limit=limit, offset=offset)
    return Page(items=items, total=total, limit=limit, offset=offset)


@admin_router.post("/beheerders", response_model=BeheerderOut, status_code=201)
async def create_beheerder(body: BeheerderIn, session: SessionDep,
                           actor: Principal = allow("admin")) -> BeheerderOut:
    return await service.create_beheerder(session, actor, body)


@admin_router.get("/beheerders/{beheerder_id}", response_model=BeheerderOut)
async def get_beheerder(beheerder_id: IdPath, session: SessionDep, _: Principal = allow("admin")) -> BeheerderOut:
    return service.beheerder_out(await service.get_beheerder(session, beheerder_id))


@admin_router.patch("/beheerders/{beheerder_id}", response_model=BeheerderOut)
async def update_beheerder(beheerder_id: IdPath, body: BeheerderPatch, session: SessionDep,
                           actor: Principal = allow("admin")) -> BeheerderOut:
    return await service.update_beheerder(session, actor, beheerder_id, body)


@admin_router.post("/beheerders/{beheerder_id}/tokens", response_model=IssuedTokenOut, status_code=201,
                   summary="API-token voor een beheerder (wordt één keer getoond)")
async def issue_beheerder_token(beheerder_id: IdPath, body: TokenRequest, session: SessionDep,
                                settings: SettingsDep, actor: Principal = allow("admin")) -> IssuedTokenOut:
    issued = await service.issue_token_for_beheerder(session, settings, actor, beheerder_id, body.label,
                                                     body.days)
    return IssuedTokenOut(**TokenOut.model_validate(issued.record).model_dump(), token=issued.token)


@admin_router.get("/beheerders/{beheerder_id}/tokens", response_model=list[TokenOut])
async def list_beheerder_tokens(beheerder_id: IdPath, session: SessionDep,
                                _: Principal = allow("admin")) -> list[TokenOut]:
    await service.get_beheerder(session, beheerder_id)
    tokens = await auth_service.list_tokens(session, beheerder_id=beheerder_id)
    return [TokenOut.model_validate(t) for t in tokens]


@admin_router.get("/staff", response_model=list[StaffUserOut])
async def list_staff(session: SessionDep, _: Principal = allow("admin")) -> list[StaffUserOut]:
    return [StaffUserOut.model_validate(u) for u in await auth_service.list_staff_users(session)]


@admin_router.post("/staff", response_model=StaffUserOut, status_code=201)
async def create_staff(body: StaffUserCreate, session: SessionDep,
                       actor: Principal = allow("admin")) -> StaffUserOut:
    user = await auth_service.create_staff_user(session, actor, username=body.username,
                                                display_name=body.display_name, role=body.role,
                                                password=body.password, wijkcodes=body.wijkcodes)
    await session.commit()
    return StaffUserOut.model_validate(user)


@admin_router.get("/walls", response_model=list[WallOut])
async def list_walls(session: SessionDep, _: Principal = allow("admin")) -> list[WallOut]:
    return [WallOut(id=w.id, name=w.name, region_code=code, active=w.active)
            for w, code in await service.list_walls(session)]


@admin_router.post("/walls", response_model=WallOut, status_code=201,
                   summary="Videowall aanmaken; het alleen-lezen token wordt één keer getoond")
async def create_wall(body: WallIn, session: SessionDep, settings: SettingsDep,
                      actor: Principal = allow("admin")) -> WallOut:
    wall, token = await service.create_wall(session, settings, actor, body.name, body.region_code)
    return WallOut(id=wall.id, name=wall.name, region_code=body.region_code, active=wall.active, token=token)


@admin_router.patch("/walls/{wall_id}", response_model=WallOut,
                    summary="Videowall hernoemen of uitzetten (het token werkt dan niet meer)")
async def update_wall(wall_id: IdPath, body: WallPatch, session: SessionDep,
                      actor: Principal = allow("admin")) -> WallOut:
    wall, region_code = await service.update_wall(session, actor, wall_id, body)
    return WallOut(id=wall.id, name=wall.name, region_code=region_code, active=wall.active)


@me_router.get("/me", response_model=MeOut, summary="Mijn gegevens en groepen (beheerder)")
async def me(session: SessionDep, principal: Principal = allow("beheerder")) -> MeOut:
    beheerder = await service.get_beheerder(session, principal.id)
    groups = [service.group_out(await service.get_group(session, g.id)) for g in beheerder.groups]
    return MeOut(id=beheerder.id, name=beheerder.name, phone=beheerder.phone,
                 channels=list(beheerder.channels), groups=groups)


@me_router.get("/me/groups/{group_id}", response_model=MyGroupOut, summary="Eén van mijn groepen")
async def my_group(group_id: IdPath, session: SessionDep, principal: Principal = allow("beheerder")) -> MyGroupOut:
    return service.group_out(await service.beheerder_group(session, principal.id, group_id))
