"""A WhatsApp message from a beheerder may answer one of our messages rather than be a report. The intake asks
this flow first (its reply handler); whatever it does not handle becomes a report:

1. "ja"/"nee" (typed, or a quick-reply button) to an operation's invitation or messages: join, decline or
   leave it (app.operations.participation);
2. "ok", "doorgestuurd", 👍 in reply to an alert: the alert was passed on (app.broadcast.tracking).

A number that is no beheerder is asked by the public handler: an operation's keyword, the answer to its consent
text or STOP are handled here; a public participant's other messages become their reports
(app.operations.public)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.broadcast.tracking import ReplyHandler
from app.core.settings import Settings
from app.intake.inbound import PublicHandler
from app.intake.service import PublicReporter
from app.intake.whatsapp import InboundMessage
from app.operations import public
from app.operations.participation import answer_by_whatsapp
from app.operations.times import Clock


def reply_handler(settings: Settings, clock: Clock, alert_replies: ReplyHandler) -> ReplyHandler:
    async def on_message(session: AsyncSession, message: InboundMessage) -> bool:
        if await answer_by_whatsapp(session, message, settings, clock()):
            return True
        return await alert_replies(session, message)

    return on_message


def public_handler(settings: Settings, clock: Clock) -> PublicHandler:
    async def on_message(session: AsyncSession, message: InboundMessage) -> PublicReporter | bool:
        return await public.handle_message(session, message, settings, clock())

    return on_message
