"""Login, lockout, token issue/resolve/revoke."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.auth.models import ApiToken, StaffUser
from app.core.database import utcnow
from app.core.errors import InvalidInput, NotFound, ProblemError, Unauthorized
from app.core.principal import Principal
from app.core.pseudonym import audit_key, pseudonym
from app.core.security import hash_password, new_token, token_digest, verify_password
from app.core.settings import Settings
from app.core.vocabulary import STAFF
from app.events.service import emit_access_revoked
from app.registry.models import Beheerder, WallDisplay


@dataclass(frozen=True)
class IssuedToken:
    token: str
    record: ApiToken


class TooManyAttempts(ProblemError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            429,
            "Te veel mislukte inlogpogingen",
            "Dit account is tijdelijk geblokkeerd. Probeer het later opnieuw.",
            code="locked",
            headers={"Retry-After": str(retry_after_s)},
        )


LOGIN_FAILED = "login.failed"
# The audit target of a failed login: the keyed pseudonym of the name tried (app.core.pseudonym), whether or not
# it exists. Lockouts are counted by it; the name itself is not in the entry (docs/privacy.md).
LOGIN_NAME = "login_name"


def _login_key(settings: Settings, username: str) -> str:
    return pseudonym(audit_key(settings), username.strip().casefold()[:64])


async def login(
    session: AsyncSession, settings: Settings, username: str, password: str, source_ip: str | None
) -> tuple[StaffUser, IssuedToken]:
    """A name (known or not) is locked after `login_max_failures` failures within the lockout window, and an
    address after `login_address_max_failures`: both counted from the audit log, so that every process
    applies the same count and an unknown name cannot be told from a known one by its 429."""
    login_key = _login_key(settings, username)
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    wait = await _lockout_seconds(session, settings, username, login_key, source_ip)
    if wait is not None:
        _audit_refused(session, "login.locked", login_key, user, source_ip)
        await session.commit()
        raise TooManyAttempts(wait)
    if not verify_password(user.password_hash if user else None, password) or not user or not user.active:
        _audit_refused(session, LOGIN_FAILED, login_key, user, source_ip)
        await session.commit()
        raise Unauthorized("Gebruikersnaam of wachtwoord klopt niet.")
    issued = _issue(session, "staff_session", timedelta(hours=settings.staff_session_hours),
                    staff_user_id=user.id, label="login")
    actor = staff_principal(user, source_ip=source_ip)
    audit.record(session, actor, "login.success", target_type="staff_user", target_id=user.id)
    await session.commit()
    return user, issued


def _audit_refused(session: AsyncSession, action: str, login_key: str, user: StaffUser | None,
                   source_ip: str | None) -> None:
    """The account's name is kept (as a personal field, until `retention_login_name_days`) only when the name
    tried is an account's: a name no account has may be a password typed into the wrong field, and is kept
    only as the entry's pseudonym."""
    account = {"staff_user_id": user.id, "login_name": user.username} if user else {"staff_user_id": None}
    audit.record(session, None, action, target_type=LOGIN_NAME, target_id=login_key, source_ip=source_ip, **account)


async def _lockout_seconds(session: AsyncSession, settings: Settings, username: str, login_key: str,
                           source_ip: str | None) -> int | None:
    """Seconds until a login may be tried again, or None when it may be tried now."""
    window = timedelta(minutes=settings.login_lockout_minutes)
    since = utcnow() - window
    # A name's count starts again after its last successful login (an address's does not: one good account
    # must not reset a spray). Only a known name with its password has successes, so this reveals nothing.
    last_success = await session.scalar(select(func.max(AuditEntry.at)).where(
        AuditEntry.action == "login.success", AuditEntry.actor_name == username, AuditEntry.at > since))
    failures = select(AuditEntry.at).where(AuditEntry.action == LOGIN_FAILED)
    limits = [(failures.where(AuditEntry.target_type == LOGIN_NAME, AuditEntry.target_id == login_key,
                              AuditEntry.at > (last_success or since)), settings.login_max_failures)]
    if source_ip:
        limits.append((failures.where(AuditEntry.source_ip == source_ip, AuditEntry.at > since),
                       settings.login_address_max_failures))
    waits = []
    for query, limit in limits:
        times = (await session.scalars(query.order_by(AuditEntry.at.desc()).limit(limit))).all()
        if len(times) >= limit:  # locked until the oldest of the last `limit` failures leaves the window
            waits.append(int((times[-1] + window - utcnow()).total_seconds()) + 1)
    return max(waits) if waits else None


async def logout(session: AsyncSession, principal: Principal) -> None:
    if principal.token_id is not None:
        token = await session.get(ApiToken, principal.token_id)
        if token and token.revoked_at is None:
            token.revoked_at = utcnow()
            emit_access_revoked(session, token_ids=[token.id])
    audit.record(session, principal, "logout")
    await session.commit()


def _issue(session: AsyncSession, kind: str, lifetime: timedelta, *, label: str | None = None,
           staff_user_id: int | None = None, beheerder_id: int | None = None,
           wall_display_id: int | None = None) -> IssuedToken:
    token = new_token(kind)
    record = ApiToken(
        token_hash=token_digest(token), prefix=token[:10], kind=kind, label=label,
        staff_user_id=staff_user_id, beheerder_id=beheerder_id, wall_display_id=wall_display_id,
        created_at=utcnow(), expires_at=utcnow() + lifetime,
    )
    session.add(record)
    return IssuedToken(token=token, record=record)


def issue_beheerder_token(session: AsyncSession, settings: Settings, beheerder: Beheerder,
                          label: str | None = None, days: int | None = None) -> IssuedToken:
    lifetime = timedelta(days=days or settings.beheerder_token_days)
    return _issue(session, "beheerder", lifetime, beheerder_id=beheerder.id, label=label)


def issue_wall_token(session: AsyncSession, settings: Settings, wall: WallDisplay,
                     label: str | None = None) -> IssuedToken:
    return _issue(session, "wall", timedelta(days=settings.wall_token_days),
                  wall_display_id=wall.id, label=label)


async def revoke_token(session: AsyncSession, actor: Principal, token_id: int) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("Het token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        emit_access_revoked(session, token_ids=[token.id])
    audit.record(session, actor, "token.revoke", target_type="api_token", target_id=token.id,
                 token_kind=token.kind)
    await session.commit()
    return token


# One statement for every authenticated request: the token with whoever stands behind it. Built once: on
# the hot path, building a statement costs more than running it. (The intake's shared report limit runs it as
# a CTE, app.intake.ratelimit.)
TOKEN_LOOKUP = (
    select(ApiToken.id, ApiToken.kind, ApiToken.expires_at, ApiToken.revoked_at,
           StaffUser.id.label("staff_id"), StaffUser.username, StaffUser.role, StaffUser.wijkcodes,
           StaffUser.active.label("staff_active"),
           Beheerder.id.label("beheerder_id"), Beheerder.name.label("beheerder_name"),
           Beheerder.active.label("beheerder_active"),
           WallDisplay.id.label("wall_id"), WallDisplay.name.label("wall_name"), WallDisplay.region_id,
           WallDisplay.active.label("wall_active"))
    .outerjoin(StaffUser, StaffUser.id == ApiToken.staff_user_id)
    .outerjoin(Beheerder, Beheerder.id == ApiToken.beheerder_id)
    .outerjoin(WallDisplay, WallDisplay.id == ApiToken.wall_display_id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


async def resolve_token(session: AsyncSession | AsyncConnection, token: str, source_ip: str | None) -> Principal:
    """Turns a presented bearer token into a principal, or raises 401."""
    record = (await session.execute(TOKEN_LOOKUP, {"digest": token_digest(token)})).first()
    return principal_of(record, source_ip, utcnow())


def principal_of(record: Row[Any] | None, source_ip: str | None, now: datetime) -> Principal:
    """The principal of a TOKEN_LOOKUP row (None: no such token) at `now`, or 401."""
    if record is None:
        raise Unauthorized("Dit token is onbekend.")
    if record.revoked_at is not None:
        raise Unauthorized("Dit token is ingetrokken.")
    if record.expires_at <= now:
        raise Unauthorized("Dit token is verlopen.")
    principal = _principal_for(record, source_ip)
    if principal is None:
        raise Unauthorized("Het account achter dit token is niet actief.")
    return principal


def _principal_for(record: Row[Any], source_ip: str | None) -> Principal | None:
    if record.kind == "staff_session" and record.staff_id is not None and record.staff_active:
        return Principal(kind="staff", id=record.staff_id, name=record.username, role=record.role,
                         token_id=record.id, wijkcodes=tuple(record.wijkcodes or ()), source_ip=source_ip)
    if record.kind == "beheerder" and record.beheerder_id is not None and record.beheerder_active:
        return Principal(kind="beheerder", id=record.beheerder_id, name=record.beheerder_name, role="beheerder",
                         token_id=record.id, source_ip=source_ip)
    if record.kind == "wall" and record.wall_id is not None and record.wall_active:
        return Principal(kind="wall", id=record.wall_id, name=record.wall_name, role="wall", token_id=record.id,
                         region_id=record.region_id, source_ip=source_ip)
    return None


def staff_principal(user: StaffUser, *, token_id: int | None = None,
                    source_ip: str | None = None) -> Principal:
    return Principal(kind="staff", id=user.id, name=user.username, role=user.role, token_id=token_id,
                     wijkcodes=tuple(user.wijkcodes or ()), source_ip=source_ip)


async def create_staff_user(session: AsyncSession, actor: Principal | None, *, username: str,
                            display_name: str, role: str, password: str,
                            wijkcodes: list[str] | None = None) -> StaffUser:
    if role not in STAFF:
        raise InvalidInput(f"Onbekende rol '{role}'.", field="role")
    existing = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if existing is not None:
        raise ProblemError(409, "Conflict", f"Gebruikersnaam '{username}' bestaat al.", field="username",
                           code="duplicate")
    user = StaffUser(username=username, display_name=display_name, role=role,
                     password_hash=hash_password(password), wijkcodes=wijkcodes or [])
    session.add(user)
    await session.flush()
    audit.record(session, actor, "staff_user.create", target_type="staff_user", target_id=user.id,
                 role=role)
    return user


async def list_tokens(session: AsyncSession, *, beheerder_id: int | None = None,
                      kind: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if beheerder_id is not None:
        query = query.where(ApiToken.beheerder_id == beheerder_id)
    if kind:
        query = query.where(ApiToken.kind == kind)
    return list((await session.scalars(query)).all())


def is_expired(token: ApiToken, now: datetime | None = None) -> bool:
    return token.expires_at <= (now or utcnow())


async def list_staff_users(session: AsyncSession) -> list[StaffUser]:
    return list((await session.scalars(select(StaffUser).order_by(StaffUser.id))).all())
