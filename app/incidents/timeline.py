"""An incident's timeline, from what is recorded anyway: its reports with the triage's suggestion, the audit
log's entries about it (claims, decisions with their reasons, merges, splits), the feedback its reporters got
with the delivery status, and the alerts sent for it. Oldest first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.auth.models import StaffUser
from app.broadcast.models import Broadcast, Delivery
from app.broadcast.progress import progress_of
from app.core.vocabulary import BROADCAST_KIND, CATEGORY, CHANNEL, FOLLOW_UP, RESULT, URGENCY, Vocabulary
from app.incidents.models import Incident
from app.incidents.schemas import TimelineEntry
from app.intake.models import Report, ReportFeedback
from app.registry.models import Group

MAX_ENTRIES = 1000
DELIVERY_STATUS = {"pending": "wacht op verzending", "sending": "wordt verzonden", "sent": "verzonden",
                   "delivered": "afgeleverd", "read": "gelezen", "failed": "mislukt"}
FIELD_NAMES = {"urgency": "urgentie", "category": "categorie", "offence": "delict", "wijk_code": "wijk",
               "lat": "locatie", "lon": "locatie", "follow_up": "opvolging", "result": "resultaat",
               "note_for_reporter": "terugkoppeling", "close": "afgesloten"}
OffenceLabel = Callable[[str], str]


async def timeline(session: AsyncSession, incident: Incident,
                   offence_label: OffenceLabel) -> tuple[list[TimelineEntry], int]:
    """The newest MAX_ENTRIES entries, oldest first, and how many there are in all."""
    reports = list(await session.scalars(select(Report).where(Report.incident_id == incident.id)
                                         .order_by(Report.received_at, Report.id)))
    entries = await _report_entries(session, reports, offence_label)
    entries += await _audit_entries(session, incident.id, offence_label)
    entries += await _feedback_entries(session, reports)
    entries += await _alert_entries(session, incident.id)
    entries.sort(key=lambda entry: entry.at)
    return entries[-MAX_ENTRIES:], len(entries)


async def _report_entries(session: AsyncSession, reports: Sequence[Report],
                          offence_label: OffenceLabel) -> list[TimelineEntry]:
    groups = dict((await session.execute(select(Group.id, Group.name).where(
        Group.id.in_({r.group_id for r in reports})))).tuples().all())
    entries: list[TimelineEntry] = []
    for report in reports:
        group = (groups.get(report.group_id, f"groep {report.group_id}") if report.group_id is not None
                 else "een groep die nog gekozen moet worden")
        entries.append(TimelineEntry(at=report.received_at, kind="melding", actor=group, text=report.text,
                                     case_number=report.case_number,
                                     title=f"Melding {report.case_number} ontvangen uit {group}"))
        if report.triage:
            entries.append(_suggestion(report, offence_label))
    return entries


def _suggestion(report: Report, offence_label: OffenceLabel) -> TimelineEntry:
    triage: dict[str, Any] = report.triage or {}
    labels = triage.get("labels") or {}
    what = [URGENCY.label(labels.get("urgency") or "none"), CATEGORY.label(labels["category"])
            if labels.get("category") else None, offence_label(labels["offence"]) if labels.get("offence") else None]
    reasons = "; ".join(str(reason.get("text", "")) for reason in triage.get("reasons") or [])
    return TimelineEntry(at=report.received_at, kind="voorstel", actor="triage", case_number=report.case_number,
                         title="Voorstel van de triage: " + " · ".join(part for part in what if part),
                         reason=reasons or None)


async def _audit_entries(session: AsyncSession, incident_id: int, offence_label: OffenceLabel) -> list[TimelineEntry]:
    rows = list(await session.scalars(
        select(AuditEntry).where(AuditEntry.target_type == "incident", AuditEntry.target_id == str(incident_id))
        .order_by(AuditEntry.at, AuditEntry.id)))
    names = await _display_names(session, {row.actor_id for row in rows if row.actor_type == "staff"})
    details = await audit.full_details(session, rows)
    entries = []
    for row in rows:
        actor = names.get(row.actor_id or 0, row.actor_name) if row.actor_type == "staff" else "systeem"
        entry = _audit_entry(row, details[row.id], actor, offence_label)
        if entry is not None:
            entries.append(entry)
    return entries


async def _display_names(session: AsyncSession, staff_ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in staff_ids if i is not None}
    if not ids:
        return {}
    return dict((await session.execute(select(StaffUser.id, StaffUser.display_name)
                                       .where(StaffUser.id.in_(ids)))).tuples().all())


def _audit_entry(row: AuditEntry, detail: dict[str, Any], actor: str | None,
                 offence_label: OffenceLabel) -> TimelineEntry | None:

    def entry(kind: Any, title: str, **more: Any) -> TimelineEntry:
        return TimelineEntry(at=row.at, kind=kind, title=title, actor=actor, **more)

    match row.action:
        case "incident.claim":
            return entry("claim", "Claim verlengd" if detail.get("extended") else "Geclaimd")
        case "incident.release":
            return entry("claim", "Claim losgelaten")
        case "incident.claim_expired":
            return entry("claim", "Claim verlopen")
        case "incident.update":
            return entry("besluit", _decision(detail, offence_label), reason=detail.get("reason"))
        case "incident.merge":
            merged = [int(i) for i in detail.get("merged") or []]
            return entry("samenvoeging", "Samengevoegd: " + ", ".join(f"#{i}" for i in merged) + " opgenomen",
                         incident_ids=merged)
        case "incident.merged_into":
            return entry("samenvoeging", f"Opgegaan in incident #{detail.get('into')}",
                         incident_ids=[int(detail["into"])] if detail.get("into") else [])
        case "incident.merge_undone":
            restored = [int(i) for i in detail.get("restored") or []]
            return entry("samenvoeging", "Samenvoegen ongedaan gemaakt: " + ", ".join(f"#{i}" for i in restored)
                         + " weer apart", incident_ids=restored)
        case "incident.split":
            new = detail.get("new_incident")
            count = len(detail.get("reports") or [])
            return entry("afsplitsing", f"{count} {'melding' if count == 1 else 'meldingen'} afgesplitst naar #{new}",
                         incident_ids=[int(new)] if new else [])
        case "incident.split_from":
            source = detail.get("source")
            return entry("afsplitsing", f"Afgesplitst uit incident #{source}",
                         incident_ids=[int(source)] if source else [])
    return None


def _decision(detail: dict[str, Any], offence_label: OffenceLabel) -> str:
    """"Besluit: urgentie: P1; delict: Woninginbraak" from what the operator set (older entries name the fields
    only)."""
    values: dict[str, Any] = detail.get("values") or {}
    fields = [str(field) for field in detail.get("fields") or [] if field != "lon"]  # lat stands for the point
    parts = [_field_value(name, values, offence_label) if name in values else FIELD_NAMES.get(name, name)
             for name in fields]
    return "Besluit: " + ("; ".join(parts) if parts else "gewijzigd")


_VOCABULARIES: dict[str, Vocabulary] = {"urgency": URGENCY, "category": CATEGORY, "follow_up": FOLLOW_UP,
                                        "result": RESULT}


def _field_value(name: str, values: dict[str, Any], offence_label: OffenceLabel) -> str:
    label, value = FIELD_NAMES.get(name, name), values.get(name)
    if name == "close":
        return "afgesloten" if value else "niet afgesloten"
    if name == "lat":
        return f"locatie {audit.PURGED}" if value == audit.PURGED else f"locatie {value}, {values.get('lon')}"
    if value is None:
        return f"{label} gewist"
    if name in _VOCABULARIES:
        return f"{label}: {_VOCABULARIES[name].label(str(value))}"
    if name == "offence":
        return f"{label}: {offence_label(str(value))}"
    return f"{label}: {value}"


async def _feedback_entries(session: AsyncSession, reports: Sequence[Report]) -> list[TimelineEntry]:
    by_id = {report.id: report for report in reports}
    if not by_id:
        return []
    feedback = list(await session.scalars(select(ReportFeedback).where(ReportFeedback.report_id.in_(by_id))
                                          .order_by(ReportFeedback.at, ReportFeedback.id)))
    deliveries: dict[int, list[Delivery]] = {}
    for delivery in await session.scalars(select(Delivery).where(Delivery.purpose == "feedback",
                                                                 Delivery.report_id.in_(by_id)).order_by(Delivery.id)):
        deliveries.setdefault(delivery.report_id or 0, []).append(delivery)
    names = await _display_names(session, {f.staff_user_id for f in feedback})
    return [
        TimelineEntry(at=f.at, kind="terugkoppeling", actor=names.get(f.staff_user_id or 0), text=f.text,
                      case_number=by_id[f.report_id].case_number,
                      title=f"Terugkoppeling aan de melder van {by_id[f.report_id].case_number}",
                      status=_delivery_status(deliveries.get(f.report_id, []), f.at))
        for f in feedback
    ]


def _delivery_status(deliveries: Sequence[Delivery], at: datetime) -> str:
    """The status of the message that carried feedback given at `at`: the delivery queued (or joined) then,
    or the fallback that took over when it failed."""
    queued = [d for d in deliveries if d.created_at <= at]
    if not queued:
        return "niet verstuurd"
    current = queued[-1]
    later = [d for d in deliveries if d.id > current.id]
    while current.superseded and later:
        current = later.pop(0)
    return f"{DELIVERY_STATUS.get(current.status, current.status)} ({CHANNEL.label(current.channel)})"


async def _alert_entries(session: AsyncSession, incident_id: int) -> list[TimelineEntry]:
    alerts = list(await session.scalars(select(Broadcast).where(Broadcast.incident_id == incident_id)
                                        .order_by(Broadcast.created_at)))
    progress = await progress_of(session, [a.id for a in alerts])
    entries = []
    for alert in alerts:
        p = progress[alert.id]
        status = f"afgeleverd {p.delivered}, doorgestuurd {p.forwarded} van {p.recipients}" + (
            f", {p.failed} mislukt" if p.failed else "")
        entries.append(TimelineEntry(
            at=alert.created_at, kind="alarm", actor=alert.created_by_name, text=alert.message, status=status,
            title=f"Alarm {BROADCAST_KIND.label(alert.kind)} naar {alert.recipient_count} beheerders"))
    return entries
