"""The day report of an operation, counted by the database: participants, the reports tagged with it by
category, urgency, follow-up and result, the messages it sent (delivered, forwarded) per purpose, and the
median time from a report to the first operator action on it (its first terugkoppeling, or its closing)."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.models import DELIVERED, DONE_STATES, FAILED, READ, Delivery
from app.core.vocabulary import CATEGORY, FOLLOW_UP, PARTICIPANT_STATUS, RESULT, URGENCY
from app.intake.models import Report, ReportFeedback
from app.operations.models import Operation, OperationMessage
from app.operations.public import counts as public_counts
from app.operations.schemas import DayReportOut, MessageCounts, ParticipantCounts, PublicCounts
from app.operations.service import count_participants
from app.operations.times import local

UNKNOWN = "onbekend"


async def _counts_by(session: AsyncSession, operation_id: int, column: Any, *, only_set: bool = False
                     ) -> dict[str, int]:
    """Tagged reports per value of the column; without a value they count as "onbekend", or not at all."""
    query = select(func.coalesce(column, UNKNOWN), func.count()).where(Report.operation_id == operation_id)
    if only_set:
        query = query.where(column.is_not(None))
    rows = (await session.execute(query.group_by(column))).all()
    return {str(key): int(count) for key, count in rows}


async def _messages(session: AsyncSession, operation_id: int) -> dict[str, MessageCounts]:
    def where(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = (await session.execute(
        select(OperationMessage.purpose, func.count(OperationMessage.id.distinct()), func.count(Delivery.id),
               where(Delivery.status.in_(DONE_STATES)), where(Delivery.status.in_((DELIVERED, READ))),
               func.count(Delivery.forwarded_at), where(Delivery.status == FAILED))
        .join(Delivery, and_(Delivery.broadcast_id == OperationMessage.broadcast_id, Delivery.superseded.is_(False)))
        .where(OperationMessage.operation_id == operation_id).group_by(OperationMessage.purpose))).all()
    return {purpose: MessageCounts(messages=messages, recipients=recipients, sent=sent, delivered=delivered,
                                   forwarded=forwarded, failed=failed)
            for purpose, messages, recipients, sent, delivered, forwarded, failed in rows}


def _seconds(dialect: str, later: Any, earlier: Any) -> Any:
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def _median_seconds_to_action(session: AsyncSession, operation_id: int) -> tuple[float | None, int]:
    """The median over the reports that had an action, and how many those were."""
    first_feedback = (select(ReportFeedback.report_id, func.min(ReportFeedback.at).label("at"))
                      .group_by(ReportFeedback.report_id).subquery())
    feedback_first = and_(first_feedback.c.at.is_not(None),
                          or_(Report.closed_at.is_(None), first_feedback.c.at <= Report.closed_at))
    acted_at = case((feedback_first, first_feedback.c.at), else_=Report.closed_at)
    deltas = (select(_seconds(session.get_bind().dialect.name, acted_at, Report.received_at).label("seconds"))
              .select_from(Report).outerjoin(first_feedback, first_feedback.c.report_id == Report.id)
              .where(Report.operation_id == operation_id, acted_at.is_not(None)).subquery())
    ranked = select(deltas.c.seconds, func.row_number().over(order_by=deltas.c.seconds).label("rank"),
                    func.count().over().label("n")).subquery()
    middle = or_(ranked.c.rank == (ranked.c.n + 1) // 2, ranked.c.rank == (ranked.c.n + 2) // 2)
    query = select(func.avg(ranked.c.seconds), func.max(ranked.c.n)).where(middle)
    median, acted = (await session.execute(query)).one()
    return (round(float(median), 1) if median is not None else None), int(acted or 0)


async def day_report(session: AsyncSession, operation: Operation) -> DayReportOut:
    counts = (await count_participants(session, [operation.id]))[operation.id]
    by_category = await _counts_by(session, operation.id, Report.category)
    median, acted = await _median_seconds_to_action(session, operation.id)
    return DayReportOut(
        operation_id=operation.id, name=operation.name, kind=operation.kind, status=operation.status,
        starts_at=local(operation.starts_at), ends_at=local(operation.ends_at),
        participants=ParticipantCounts.of(counts),
        public_participants=PublicCounts.of((await public_counts(session, [operation.id]))[operation.id]),
        reports=sum(by_category.values()), reports_by_category=by_category,
        reports_by_urgency=await _counts_by(session, operation.id, Report.urgency),
        follow_ups=await _counts_by(session, operation.id, Report.follow_up, only_set=True),
        results=await _counts_by(session, operation.id, Report.result, only_set=True),
        messages=await _messages(session, operation.id), reports_with_action=acted, median_seconds_to_action=median)


PUBLIC_STATUS = {"consent_asked": "toestemming gevraagd", "joined": "doet mee", "left": "gestopt"}
PURPOSES = {"invitation": "uitnodigingen", "message": "berichten", "closing": "slotbericht", "answer": "antwoorden"}
MESSAGE_FIELDS = {"messages": "berichten", "recipients": "ontvangers", "sent": "verzonden", "delivered": "afgeleverd",
                  "forwarded": "doorgestuurd", "failed": "mislukt"}


def as_csv(report: DayReportOut) -> str:
    """One row per number: onderdeel, code, omschrijving, aantal (Dutch labels, for a spreadsheet)."""
    rows: list[tuple[str, str, str, Any]] = [("actie", "naam", report.name, report.operation_id)]
    rows += [("deelnemers", code, PARTICIPANT_STATUS.label(code) if code != "invited" else "uitgenodigd", value)
             for code, value in report.participants.model_dump().items()]
    rows += [("publiek", code, PUBLIC_STATUS[code], value)
             for code, value in report.public_participants.model_dump().items()]
    rows.append(("meldingen", "totaal", "meldingen", report.reports))
    for section, counts, vocabulary in (("categorie", report.reports_by_category, CATEGORY),
                                        ("urgentie", report.reports_by_urgency, URGENCY),
                                        ("opvolging", report.follow_ups, FOLLOW_UP),
                                        ("resultaat", report.results, RESULT)):
        rows += [(section, code, vocabulary.label(code), value) for code, value in sorted(counts.items())]
    for purpose, sent in sorted(report.messages.items()):
        rows += [(PURPOSES.get(purpose, purpose), field, label, getattr(sent, field))
                 for field, label in MESSAGE_FIELDS.items()]
    rows.append(("reactietijd", "mediaan_seconden", "mediaan tijd tot eerste actie (s)",
                 "" if report.median_seconds_to_action is None else report.median_seconds_to_action))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("onderdeel", "code", "omschrijving", "aantal"))
    writer.writerows(rows)
    return buffer.getvalue()
