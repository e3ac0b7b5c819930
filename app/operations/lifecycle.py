"""gepland -> open -> gesloten, by the clock (the sweeper) or by hand; each step with its event in the same
transaction. Closing sends every participant the closing message once: it is written in the transaction
that moves the status, and only a row that was not yet closed moves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.database import utcnow
from app.core.principal import Principal
from app.core.settings import Settings
from app.events.service import emit
from app.operations import channel
from app.operations.models import Operation
from app.operations.times import local

CLOCK = "klok"  # closed_by_name when the end time closed it
SWEEP_BATCH = 100


def event_data(operation: Operation, **extra: Any) -> dict[str, Any]:
    return {"operation_id": operation.id, "name": operation.name, "kind": operation.kind,
            "status": operation.status, "wijkcodes": list(operation.wijkcodes),
            "starts_at": local(operation.starts_at).isoformat(), "ends_at": local(operation.ends_at).isoformat(),
            **extra}


def emit_operation(session: AsyncSession, event_type: str, operation: Operation, **extra: Any) -> None:
    codes = operation.wijkcodes
    emit(session, f"operation.{event_type}", event_data(operation, **extra), region_id=operation.region_id,
         wijk_code=codes[0] if len(codes) == 1 else None)


def open_operation(session: AsyncSession, operation: Operation, now: datetime) -> None:
    operation.status, operation.opened_at = "open", now
    emit_operation(session, "opened", operation)


async def close_operation(session: AsyncSession, operation: Operation, now: datetime, settings: Settings, *,
                          by: Principal | None, text: str | None = None,
                          confirmed_warnings: tuple[str, ...] = ()) -> int | None:
    """Closes it and sends the closing message to everyone who takes part; the broadcast id, or None when
    nobody took part."""
    operation.status, operation.closed_at = "gesloten", now
    operation.closed_by_name, operation.closing_text = (by.name if by is not None else CLOCK), text
    recipients = await channel.joined_recipients(session, operation.id, settings)
    public = await channel.joined_public(session, operation.id)
    broadcast_id = None
    if recipients or public:
        broadcast = await channel.send(session, operation, recipients, text=text or "",
                                       message=channel.closing_text(operation, text), purpose="closing", sender=by,
                                       now=utcnow(), confirmed_warnings=confirmed_warnings, public_ids=public)
        broadcast_id = broadcast.id
    emit_operation(session, "closed", operation, closed_by=operation.closed_by_name, participants=len(recipients),
                   public_participants=len(public))
    return broadcast_id


async def advance(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Opens the operations whose start has come and closes those whose end has; commits. Returns how many
    moved. Rows another process is moving are skipped (PostgreSQL) and looked at again next time."""
    due = (await session.scalars(
        select(Operation).where(Operation.status != "gesloten",
                                (Operation.ends_at <= now) | ((Operation.status == "gepland")
                                                              & (Operation.starts_at <= now)))
        .order_by(Operation.id).limit(SWEEP_BATCH).with_for_update(skip_locked=True))).all()
    for operation in due:
        if operation.ends_at <= now:
            await close_operation(session, operation, now, settings, by=None)
        else:
            open_operation(session, operation, now)
    await session.commit()
    return len(due)
