"""Login/logout for staff, who-am-i, and token revocation."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.auth import service
from app.auth.schemas import LoginRequest, LoginResponse, TokenOut, WhoAmI
from app.core.deps import SESSION_COOKIE, SessionDep, SettingsDep, allow, client_ip
from app.core.openapi import problems
from app.core.principal import Principal
from app.core.schemas import IdPath
from app.core.vocabulary import STAFF

router = APIRouter(prefix="/auth", tags=["aanmelden"])


@router.post("/login", response_model=LoginResponse, summary="Aanmelden als medewerker", responses=problems(401, 429))
async def login(body: LoginRequest, request: Request, response: Response, session: SessionDep,
                settings: SettingsDep) -> LoginResponse:
    user, issued = await service.login(session, settings, body.username, body.password, client_ip(request))
    response.set_cookie(
        SESSION_COOKIE, issued.token, httponly=True, samesite="strict",
        secure=settings.environment == "production", max_age=settings.staff_session_hours * 3600,
        path="/",
    )
    return LoginResponse(access_token=issued.token, role=user.role, expires_at=issued.record.expires_at,
                         display_name=user.display_name)


@router.post("/logout", status_code=204, summary="Afmelden")
async def logout(response: Response, session: SessionDep,
                 principal: Principal = allow(*STAFF)) -> Response:
    await service.logout(session, principal)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", response_model=WhoAmI, summary="Wie ben ik")
async def who_am_i(principal: Principal = allow(*STAFF, "beheerder", "wall")) -> WhoAmI:
    return WhoAmI(kind=principal.kind, id=principal.id, name=principal.name, role=principal.role,
                  wijkcodes=list(principal.wijkcodes), region_id=principal.region_id)


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Token intrekken (beheer)")
async def revoke(token_id: IdPath, session: SessionDep, principal: Principal = allow("admin")) -> TokenOut:
    token = await service.revoke_token(session, principal, token_id)
    return TokenOut.model_validate(token)
