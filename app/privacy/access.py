"""Subject access: everything the system holds about one phone number, as a zip of JSON files and the photo
files. The number may be a beheerder's (registry, reports, photos and who viewed them, deliveries, answers)
or anyone who wrote to the WhatsApp number without being one (quarantine, status callbacks)."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.audit.models import AuditEntry
from app.auth.models import ApiToken
from app.broadcast.models import Broadcast, Delivery, WhatsAppWindow
from app.core.database import utcnow
from app.core.principal import Principal
from app.core.pseudonym import pseudonym
from app.intake.models import QuarantinedMessage, Report, ReportFeedback, ReportPhoto, WhatsAppStatus
from app.operations.models import Operation, OperationParticipant
from app.registry.models import Beheerder

PHOTO_VIEW = "photo.view"
SUBJECT_ACCESS = "privacy.subject_access"


@dataclass
class SubjectExport:
    """The export's parts: file name in the zip -> JSON content; and photo files: name in the zip -> path."""

    parts: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    def to_zip(self) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in self.parts.items():
                archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=2, default=_iso))
            for name, path in self.files.items():
                if path.is_file():
                    archive.write(path, name)
        return buffer.getvalue()


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


def phone_reference(key: bytes, phone: str) -> str:
    """How the audit log names the subject: not the number, which the log must not keep for ever, and not an
    unkeyed hash of it, which trying every mobile number would reverse; a keyed one (app.core.pseudonym)."""
    return pseudonym(key, phone)


async def export_subject(session: AsyncSession, photo_dir: Path, actor: Principal, phone: str, key: bytes) -> bytes:
    """The zip for `phone` (E.164); audited under the phone's pseudonym with `key`."""
    export = await collect(session, photo_dir, phone)
    audit.record(session, actor, SUBJECT_ACCESS, target_type="subject", target_id=phone_reference(key, phone),
                 beheerder_ids=export.parts["subject.json"]["beheerder_ids"],
                 counts={name: len(rows) for name, rows in export.parts.items() if isinstance(rows, list)})
    await session.commit()
    return await asyncio.to_thread(export.to_zip)


async def exports_of(session: AsyncSession, key: bytes, phone: str) -> list[dict[str, Any]]:
    """Who exported what the system holds about `phone`, and when: the audit entries under its pseudonym."""
    entries = (await session.scalars(select(AuditEntry).where(
        AuditEntry.target_type == "subject", AuditEntry.target_id == phone_reference(key, phone),
        AuditEntry.action == SUBJECT_ACCESS).order_by(AuditEntry.id))).all()
    return [{"at": entry.at, "actor_type": entry.actor_type, "actor_id": entry.actor_id,
             "actor_name": entry.actor_name} for entry in entries]


async def collect(session: AsyncSession, photo_dir: Path, phone: str) -> SubjectExport:
    beheerders = list((await session.scalars(select(Beheerder).where(Beheerder.phone == phone)
                                             .options(selectinload(Beheerder.groups)))).all())
    ids = [beheerder.id for beheerder in beheerders]
    reports = list((await session.scalars(select(Report).where(Report.beheerder_id.in_(ids)).order_by(Report.id)
                                          .options(selectinload(Report.photos)))).all())
    photos = [photo for report in reports for photo in report.photos]
    export = SubjectExport()
    export.parts["subject.json"] = {"phone": phone, "exported_at": utcnow(), "beheerder_ids": ids}
    export.parts["registry.json"] = [await _registry_entry(session, beheerder) for beheerder in beheerders]
    export.parts["reports.json"] = await _reports(session, reports)
    export.parts["photos.json"] = [_photo(photo, report.case_number) for report in reports for photo in report.photos]
    export.files = {_photo_file(photo): photo_dir / photo.stored_name for photo in photos if photo.stored_name}
    export.parts["photo_views.json"] = await _photo_views(session, [photo.id for photo in photos])
    export.parts["deliveries.json"] = await _deliveries(session, ids)
    export.parts["replies.json"] = await _replies(session, ids, phone)
    return export


async def _registry_entry(session: AsyncSession, beheerder: Beheerder) -> dict[str, Any]:
    tokens = (await session.scalars(select(ApiToken).where(ApiToken.beheerder_id == beheerder.id))).all()
    return {"id": beheerder.id, "name": beheerder.name, "phone": beheerder.phone,
            "whatsapp_user_id": beheerder.whatsapp_user_id, "email": beheerder.email,
            "channels": beheerder.channels, "active": beheerder.active, "created_at": beheerder.created_at,
            "groups": [{"id": group.id, "name": group.name} for group in beheerder.groups],
            "tokens": [{"prefix": token.prefix, "label": token.label, "created_at": token.created_at,
                        "expires_at": token.expires_at, "revoked_at": token.revoked_at,
                        "last_used_at": token.last_used_at} for token in tokens]}


async def _reports(session: AsyncSession, reports: Sequence[Report]) -> list[dict[str, Any]]:
    feedback = (await session.scalars(select(ReportFeedback).where(
        ReportFeedback.report_id.in_([report.id for report in reports])).order_by(ReportFeedback.id))).all()
    by_report: dict[int, list[dict[str, Any]]] = {}
    for row in feedback:
        by_report.setdefault(row.report_id, []).append({"at": row.at, "kind": row.kind, "text": row.text})
    return [{"case_number": report.case_number, "received_at": report.received_at, "channel": report.channel,
             "group_id": report.group_id, "text": report.text, "text_original": report.text_original,
             "observed_at": report.observed_at, "street": report.street, "house_number": report.house_number,
             "place": report.place, "lat": report.lat, "lon": report.lon, "status": report.status,
             "urgency": report.urgency, "category": report.category, "offence": report.offence,
             "follow_up": report.follow_up, "result": report.result, "purged_at": report.purged_at,
             "feedback": by_report.get(report.id, [])} for report in reports]


def _photo_file(photo: ReportPhoto) -> str:
    return f"photos/{photo.id}-{photo.stored_name}"


def _photo(photo: ReportPhoto, case_number: str) -> dict[str, Any]:
    return {"id": photo.id, "case_number": case_number, "status": photo.status, "media_type": photo.media_type,
            "width": photo.width, "height": photo.height, "size_bytes": photo.size_bytes,
            "gps_lat": photo.gps_lat, "gps_lon": photo.gps_lon, "created_at": photo.created_at,
            "file": _photo_file(photo) if photo.stored_name else None}


async def _photo_views(session: AsyncSession, photo_ids: list[int]) -> list[dict[str, Any]]:
    """Who looked at which of the photos: every staff view is audited (app.intake.router.get_photo)."""
    entries = (await session.scalars(select(AuditEntry).where(
        AuditEntry.action == PHOTO_VIEW, AuditEntry.target_type == "report_photo",
        AuditEntry.target_id.in_([str(photo_id) for photo_id in photo_ids])).order_by(AuditEntry.id))).all()
    return [{"photo_id": int(entry.target_id or 0), "at": entry.at, "viewer_type": entry.actor_type,
             "viewer_id": entry.actor_id, "viewer_name": entry.actor_name} for entry in entries]


async def _deliveries(session: AsyncSession, beheerder_ids: list[int]) -> list[dict[str, Any]]:
    rows = (await session.execute(
        select(Delivery, Broadcast.kind, Broadcast.message, Report.case_number)
        .outerjoin(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .outerjoin(Report, Report.id == Delivery.report_id)
        .where(Delivery.beheerder_id.in_(beheerder_ids)).order_by(Delivery.id))).all()
    return [{"id": delivery.id, "purpose": delivery.purpose, "alert_kind": kind, "case_number": case_number,
             "channel": delivery.channel, "status": delivery.status,
             "text": delivery.body if delivery.purpose == "feedback" else message,
             "created_at": delivery.created_at, "sent_at": delivery.sent_at, "delivered_at": delivery.delivered_at,
             "read_at": delivery.read_at, "failed_at": delivery.failed_at, "forwarded_at": delivery.forwarded_at,
             "forwarded_via": delivery.forwarded_via} for delivery, kind, message, case_number in rows]


async def _replies(session: AsyncSession, beheerder_ids: list[int], phone: str) -> dict[str, Any]:
    """What the number sent or was told besides reports: answers to operations, the last message outside a
    report, messages quarantined as from an unknown number, and WhatsApp's status callbacks naming it."""
    answers = (await session.execute(
        select(OperationParticipant, Operation.name).join(Operation, Operation.id == OperationParticipant.operation_id)
        .where(OperationParticipant.beheerder_id.in_(beheerder_ids)).order_by(OperationParticipant.id))).all()
    windows = (await session.scalars(select(WhatsAppWindow)
                                     .where(WhatsAppWindow.beheerder_id.in_(beheerder_ids)))).all()
    quarantined = (await session.scalars(select(QuarantinedMessage).where(QuarantinedMessage.sender == phone)
                                         .order_by(QuarantinedMessage.id))).all()
    statuses = (await session.scalars(select(WhatsAppStatus).where(WhatsAppStatus.recipient == phone)
                                      .order_by(WhatsAppStatus.id))).all()
    return {
        "operation_answers": [{"operation": name, "status": row.status, "answered_at": row.answered_at,
                               "answered_via": row.answered_via, "joined_at": row.joined_at} for row, name in answers],
        "last_whatsapp_message_at": [window.last_inbound_at for window in windows],
        "quarantined_messages": [{"received_at": row.received_at, "sender_name": row.sender_name, "kind": row.kind,
                                  "text": row.text, "reason": row.reason} for row in quarantined],
        "status_callbacks": [{"message_id": row.message_id, "status": row.status, "occurred_at": row.occurred_at}
                             for row in statuses],
    }
