"""Alerts from the meldkamer to the beheerders of one or more wijken: the rules, preview, sending (the
broadcast and all its outbox rows in one transaction), progress, and the beheerder's side."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.broadcast.channels import available_channels
from app.broadcast.config import BroadcastConfig, broadcast_config
from app.broadcast.models import FAILED, Broadcast, Delivery
from app.broadcast.outbox import Recipient, enqueue_alert, recipients_in
from app.broadcast.privacy import PrivacyWarning, check_text
from app.broadcast.progress import progress_of
from app.broadcast.schemas import (
    AlertOut,
    BroadcastDetail,
    BroadcastIn,
    BroadcastOut,
    FailedDeliveryOut,
    PreviewOut,
    RecipientOut,
    WarningOut,
)
from app.broadcast.targets import Circle, TargetWijk, resolve_wijken
from app.broadcast.tracking import mark_forwarded
from app.core.database import utcnow
from app.core.errors import InvalidInput, NotFound, ProblemError
from app.core.principal import Principal
from app.core.settings import Settings
from app.events.service import emit
from app.incidents.models import Incident
from app.intake.schemas import AMSTERDAM
from app.registry.models import Beheerder

PREVIEW_LIST_LIMIT = 500
MELDKAMER_ROLES = ("operator", "specialist", "admin")  # may see who did not get an alert


class PrivacyWarnings(ProblemError):
    def __init__(self, warnings: Sequence[PrivacyWarning]) -> None:
        codes = ", ".join(w.code for w in warnings)
        super().__init__(
            422, "Privacywaarschuwing",
            f"Controleer het bericht ({codes}). Pas de tekst aan, of bevestig bewust met confirm_warnings.",
            field="confirm_warnings", code="privacy_warnings",
            extra={"warnings": [_warning_out(w).model_dump() for w in warnings]})


@dataclass(frozen=True)
class Plan:
    message: str
    wijken: list[TargetWijk]
    recipients: list[Recipient]
    warnings: list[PrivacyWarning]

    @property
    def gemeentecodes(self) -> list[str]:
        return sorted({w.gemeentecode for w in self.wijken})

    @property
    def needs_specialist(self) -> bool:
        return len(self.gemeentecodes) > 1

    @property
    def region_id(self) -> int | None:
        regions = {w.region_id for w in self.wijken}
        return regions.pop() if len(regions) == 1 else None


def render(config: BroadcastConfig, kind: str, text: str, at: datetime) -> str:
    template = config.kinds[kind].template
    return template.replace("{tijd}", at.astimezone(AMSTERDAM).strftime("%H:%M")).replace("{text}", text)


def _check_kind(actor: Principal, kind: str, config: BroadcastConfig) -> None:
    if actor.role == "wijkagent" and kind not in config.wijkagent_kinds:
        allowed = " en ".join(sorted(config.wijkagent_kinds))
        raise ProblemError(403, "Geen toegang", f"Een wijkagent mag alleen {allowed} versturen.",
                           field="kind", code="kind_not_allowed")


def _check_area(actor: Principal, wijken: Sequence[TargetWijk]) -> None:
    if actor.role != "wijkagent":
        return
    outside = [w.code for w in wijken if w.code not in actor.wijkcodes]
    if outside:
        raise ProblemError(403, "Geen toegang", f"Een wijkagent mag alleen naar de eigen wijken sturen; niet naar "
                           f"{', '.join(outside)}.", field="target", code="wijk_not_allowed")


async def plan_broadcast(session: AsyncSession, actor: Principal, body: BroadcastIn, settings: Settings) -> Plan:
    """Everything a send needs, checked: role rules, target, recipients and the privacy warnings."""
    config = broadcast_config()
    _check_kind(actor, body.kind, config)
    circle = body.target.circle
    wijken = await resolve_wijken(
        session, wijkcodes=body.target.wijkcodes, gemeentecodes=body.target.gemeentecodes,
        circle=Circle(circle.lat, circle.lon, circle.radius_m) if circle else None)
    if not wijken:
        raise InvalidInput("Het doelgebied raakt geen enkele wijk.", field="target", code="empty_target")
    _check_area(actor, wijken)
    if body.incident_id is not None and await session.get(Incident, body.incident_id) is None:
        raise InvalidInput(f"Incident {body.incident_id} bestaat niet.", field="incident_id", code="unknown_incident")
    recipients = await recipients_in(session, [w.code for w in wijken], available_channels(settings))
    return Plan(render(config, body.kind, body.text, utcnow()), wijken, recipients, check_text(body.text))


def _warning_out(warning: PrivacyWarning) -> WarningOut:
    return WarningOut(code=warning.code, message=warning.message, matches=list(warning.matches))


def _per_channel(recipients: Sequence[Recipient]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for recipient in recipients:
        counts[recipient.channel] = counts.get(recipient.channel, 0) + 1
    return counts


async def preview(session: AsyncSession, actor: Principal, body: BroadcastIn, settings: Settings) -> PreviewOut:
    plan = await plan_broadcast(session, actor, body, settings)
    listed = plan.recipients[:PREVIEW_LIST_LIMIT]
    return PreviewOut(
        kind=body.kind, message=plan.message, wijkcodes=[w.code for w in plan.wijken],
        gemeentecodes=plan.gemeentecodes, recipients=len(plan.recipients), per_channel=_per_channel(plan.recipients),
        recipient_list=[RecipientOut(beheerder_id=r.beheerder_id, name=r.name, channel=r.channel) for r in listed],
        recipient_list_truncated=len(plan.recipients) > len(listed),
        warnings=[_warning_out(w) for w in plan.warnings], needs_specialist=plan.needs_specialist)


def _check_send(actor: Principal, body: BroadcastIn, plan: Plan) -> None:
    if plan.needs_specialist and actor.role != "specialist":
        raise ProblemError(403, "Geen toegang", "Een alarm naar meer dan één gemeente "
                           f"({', '.join(plan.gemeentecodes)}) vraagt de rol operationeel specialist.",
                           field="target", code="specialist_required")
    if not plan.recipients:
        raise InvalidInput("Er zijn geen actieve beheerders in dit gebied.", field="target", code="no_recipients")
    unconfirmed = [w for w in plan.warnings if w.code not in body.confirm_warnings]
    if unconfirmed:
        raise PrivacyWarnings(unconfirmed)


async def create_broadcast(session: AsyncSession, actor: Principal, body: BroadcastIn,
                           settings: Settings) -> Broadcast:
    """The broadcast, one outbox row per recipient, the audit entries and the event: one transaction."""
    plan = await plan_broadcast(session, actor, body, settings)
    _check_send(actor, body, plan)
    now = utcnow()
    broadcast = Broadcast(
        kind=body.kind, text=body.text, message=plan.message, target=body.target.model_dump(exclude_none=True),
        wijkcodes=[w.code for w in plan.wijken], gemeentecodes=plan.gemeentecodes, region_id=plan.region_id,
        incident_id=body.incident_id, created_by_id=actor.id if actor.is_staff else None, created_by_name=actor.name,
        created_at=now, confirmed_warnings=[w.code for w in plan.warnings], recipient_count=len(plan.recipients),
        progress_dirty=True)
    session.add(broadcast)
    await session.flush()
    await enqueue_alert(session, broadcast.id, plan.recipients, now)
    audit.record(session, actor, "broadcast.send", target_type="broadcast", target_id=broadcast.id, kind=body.kind,
                 wijkcodes=broadcast.wijkcodes, recipients=len(plan.recipients), incident_id=body.incident_id)
    if plan.warnings:
        audit.record(session, actor, "broadcast.privacy_override", target_type="broadcast", target_id=broadcast.id,
                     warnings=[w.code for w in plan.warnings])
    emit(session, "broadcast.created", {
        "broadcast_id": broadcast.id, "kind": body.kind, "wijkcodes": broadcast.wijkcodes,
        "recipients": len(plan.recipients), "created_by": actor.name, "incident_id": body.incident_id,
    }, region_id=plan.region_id, wijk_code=broadcast.wijkcodes[0] if len(broadcast.wijkcodes) == 1 else None)
    await session.commit()
    return broadcast


async def _per_channel_of(session: AsyncSession, broadcast_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    rows = (await session.execute(
        select(Delivery.broadcast_id, Delivery.channel, func.count())
        .where(Delivery.broadcast_id.in_(broadcast_ids), Delivery.superseded.is_(False))
        .group_by(Delivery.broadcast_id, Delivery.channel))).all()
    out: dict[int, dict[str, int]] = {bid: {} for bid in broadcast_ids}
    for broadcast_id, channel, count in rows:
        out[broadcast_id][channel] = count
    return out


async def broadcasts_out(session: AsyncSession, broadcasts: Sequence[Broadcast]) -> list[BroadcastOut]:
    ids = [b.id for b in broadcasts]
    progress = await progress_of(session, ids)
    channels = await _per_channel_of(session, ids)
    return [BroadcastOut(
        id=b.id, kind=b.kind, text=b.text, message=b.message, wijkcodes=b.wijkcodes, gemeentecodes=b.gemeentecodes,
        incident_id=b.incident_id, created_at=b.created_at, created_by=b.created_by_name,
        confirmed_warnings=b.confirmed_warnings, per_channel=channels[b.id], progress=progress[b.id],
        finished_at=b.finished_at) for b in broadcasts]


def _visible(actor: Principal) -> ColumnElement[bool]:
    """A wijkagent sees the alerts they sent; the meldkamer sees all."""
    return Broadcast.created_by_id == actor.id if actor.role == "wijkagent" else true()


async def list_broadcasts(session: AsyncSession, actor: Principal, *, limit: int,
                          offset: int) -> tuple[list[BroadcastOut], int]:
    rows = (await session.scalars(select(Broadcast).where(_visible(actor)).order_by(Broadcast.id.desc())
                                  .limit(limit).offset(offset))).all()
    total = await session.scalar(select(func.count()).select_from(Broadcast).where(_visible(actor)))
    return await broadcasts_out(session, rows), int(total or 0)


async def get_broadcast(session: AsyncSession, actor: Principal, broadcast_id: int) -> BroadcastDetail:
    broadcast = await session.scalar(select(Broadcast).where(Broadcast.id == broadcast_id, _visible(actor)))
    if broadcast is None:
        raise NotFound("Dit alarm")
    (out,) = await broadcasts_out(session, [broadcast])
    failed = await _failed_deliveries(session, broadcast_id) if actor.role in MELDKAMER_ROLES else None
    return BroadcastDetail(**out.model_dump(), failed_deliveries=failed)


async def _failed_deliveries(session: AsyncSession, broadcast_id: int) -> list[FailedDeliveryOut]:
    rows = (await session.execute(
        select(Delivery, Beheerder.name).join(Beheerder, Beheerder.id == Delivery.beheerder_id)
        .where(Delivery.broadcast_id == broadcast_id, Delivery.status == FAILED, Delivery.superseded.is_(False))
        .order_by(Delivery.id))).all()
    return [FailedDeliveryOut(delivery_id=d.id, beheerder_id=d.beheerder_id, beheerder_name=name, channel=d.channel,
                              attempts=d.attempts, error_code=d.error_code, error=d.last_error, failed_at=d.failed_at)
            for d, name in rows]


def _alert_out(delivery: Delivery, broadcast: Broadcast) -> AlertOut:
    return AlertOut(delivery_id=delivery.id, broadcast_id=broadcast.id, kind=broadcast.kind, message=broadcast.message,
                    channel=delivery.channel, status=delivery.status, created_at=delivery.created_at,
                    sent_at=delivery.sent_at, forwarded_at=delivery.forwarded_at, forwarded_via=delivery.forwarded_via)


def _own_alerts(beheerder_id: int) -> tuple[ColumnElement[bool], ...]:
    return (Delivery.beheerder_id == beheerder_id, Delivery.purpose == "alert", Delivery.superseded.is_(False))


async def list_alerts(session: AsyncSession, beheerder_id: int, *, limit: int,
                      offset: int) -> tuple[list[AlertOut], int]:
    rows = (await session.execute(
        select(Delivery, Broadcast).join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(*_own_alerts(beheerder_id)).order_by(Delivery.id.desc()).limit(limit).offset(offset))).all()
    total = await session.scalar(select(func.count()).select_from(Delivery).where(*_own_alerts(beheerder_id)))
    return [_alert_out(d, b) for d, b in rows], int(total or 0)


async def mark_alert_forwarded(session: AsyncSession, beheerder_id: int, delivery_id: int,
                               settings: Settings) -> AlertOut:
    """The beheerder says they passed the alert on; another beheerder's alert does not exist for them."""
    row = await session.scalar(
        select(Delivery).where(Delivery.id == delivery_id, Delivery.beheerder_id == beheerder_id,
                               Delivery.purpose == "alert").with_for_update())
    if row is None or row.broadcast_id is None:
        raise NotFound("Dit alarm")
    await mark_forwarded(session, row, "portal", settings)
    broadcast = await session.get(Broadcast, row.broadcast_id)
    assert broadcast is not None
    out = _alert_out(row, broadcast)
    await session.commit()
    return out

