"""Reports whose group is still to be chosen (WhatsApp, from a beheerder with several groups).

A superbeheerder runs dozens of groups (report sec. 2.3) and WhatsApp gives them no way to name one, so such a
report goes in with `group_pending` and the beheerder is asked, over WhatsApp, to answer with the number of
the group ("Voor welke groep is uw melding ...? Antwoord met 1-5"); their numeric answer sets it. An operator
can set it too (PATCH /api/v1/reports/{id}). Meanwhile triage works from the text alone: a wijk named there,
else none. Choosing the group fills in the report's source wijk and region, its wijk when the text named no
place, and its incident's groups; the choice is audited."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.audit import service as audit
from app.broadcast.models import PENDING, Delivery
from app.core.database import utcnow
from app.core.errors import InvalidInput
from app.core.principal import Principal
from app.events.service import emit
from app.intake import service
from app.intake.models import Report
from app.intake.schemas import TEXT_MAX_CHARS
from app.intake.whatsapp import InboundMessage
from app.registry.models import Beheerder, Group, Wijk

# What else follows from a chosen group: the report's incident gets its group and place (app.flows.report_intake).
GroupChosen = Callable[[AsyncSession, Report], Awaitable[None]]
QUESTION = "group_question"  # the outbox purpose of these messages
ANSWER_WINDOW = timedelta(hours=24)  # WhatsApp's service window: the question cannot be older
_NUMBER = re.compile(r"(?:groep|nr\.?|nummer)?\s*(\d{1,3})\s*[.)!]?", re.IGNORECASE)
_KEYCAP_MARKS = str.maketrans("", "", "\ufe0f\u20e3")  # "3️⃣" is 3, U+FE0F, U+20E3


@dataclass(frozen=True)
class Answer:
    report_id: int
    chosen: bool  # False: the number was not one of the choices, and the beheerder was asked again


def chosen_number(text: str | None) -> int | None:
    """The number in an answer such as "3", "3.", "groep 3" or "3️⃣"; None for anything else."""
    match = _NUMBER.fullmatch((text or "").translate(_KEYCAP_MARKS).strip())
    return int(match.group(1)) if match else None


def question_text(case_number: str, names: list[str]) -> str:
    lines = [f"Voor welke groep is uw melding {case_number}? Antwoord met het nummer (1-{len(names)}):"]
    room = TEXT_MAX_CHARS - len(lines[0]) - 100  # what one WhatsApp message holds, with room for the last line
    for number, name in enumerate(names, start=1):
        line = f"{number}. {name}"
        if len(line) + 1 > room:
            lines.append(f"(en nog {len(names) - number + 1} groepen; staat de uwe er niet bij, dan kiest de "
                         "meldkamer)")
            break
        lines.append(line)
        room -= len(line) + 1
    return "\n".join(lines)


async def ask(session: AsyncSession, report: Report) -> None:
    """Sends the beheerder the question (through the outbox, over WhatsApp) and commits."""
    names = await _group_names(session, report.group_choices or [])
    _send(session, report, question_text(report.case_number, [names.get(g, f"groep {g}")
                                                              for g in report.group_choices or []]))
    await session.commit()


async def answer(session: AsyncSession, beheerder: Beheerder, message: InboundMessage,
                 on_chosen: GroupChosen | None) -> Answer | None:
    """Handles `message` when it answers a question about one of this beheerder's reports; None otherwise."""
    number = chosen_number(message.text) if message.kind == "text" else None
    if number is None:
        return None
    report = await _waiting_report(session, beheerder.id, message.reply_to_message_id)
    if report is None:
        return None
    choices = report.group_choices or []
    group = await group_of_beheerder(session, beheerder.id, choices[number - 1]) if 0 < number <= len(choices) \
        else None
    if group is None:
        _send(session, report, f"Nummer {number} staat niet in de lijst voor melding {report.case_number}. "
                               f"Antwoord met een nummer van 1 tot {len(choices)}.")
        await session.commit()
        return Answer(report.id, chosen=False)
    actor = Principal(kind="beheerder", id=beheerder.id, name=beheerder.name, role="beheerder")
    await choose_group(session, report, group, actor, on_chosen)
    _send(session, report, f"Dank u. Melding {report.case_number} staat nu bij {group.name}.")
    await session.commit()
    return Answer(report.id, chosen=True)


async def group_of_beheerder(session: AsyncSession, beheerder_id: int, group_id: int) -> Group | None:
    """One of the beheerder's active groups, with its wijk and gemeente; None when it is not theirs."""
    return await session.scalar(
        select(Group).where(Group.id == group_id, Group.active, Group.beheerders.any(Beheerder.id == beheerder_id))
        .options(selectinload(Group.wijk).selectinload(Wijk.gemeente)))


async def choose_for_report(session: AsyncSession, actor: Principal, report_id: int, group_id: int,
                            on_chosen: GroupChosen | None) -> Report:
    """Staff choose (or correct) a report's group: one of the active groups of the beheerder who sent it.
    Commits."""
    report = await service.get_report(session, report_id)
    group = await group_of_beheerder(session, report.beheerder_id, group_id) if report.beheerder_id else None
    if group is None:
        raise InvalidInput(f"Groep {group_id} is geen actieve groep van de beheerder die deze melding stuurde.",
                           field="group_id", code="unknown_group")
    await choose_group(session, report, group, actor, on_chosen)
    await session.commit()
    return report


async def choose_group(session: AsyncSession, report: Report, group: Group, actor: Principal,
                       on_chosen: GroupChosen | None) -> None:
    """Sets the report's group, and with it its source wijk and region; `on_chosen` updates its incident.
    Audited; adds to the caller's transaction."""
    previous = report.group_id
    report.group_id, report.group_pending = group.id, False
    report.source_wijk_code = group.wijk.code
    if report.region_id is None:
        report.region_id = group.wijk.gemeente.region_id
    if report.wijk_code is None and not _text_names_a_place(report.triage):
        report.wijk_code = group.wijk.code  # domain rule: no place in the text, so the group's wijk
    audit.record(session, actor, "report.group", target_type="report", target_id=report.id, group_id=group.id,
                 previous_group_id=previous)
    emit(session, "report.updated", {"report_id": report.id, "case_number": report.case_number,
                                     "group_id": group.id, "group_name": group.name, "group_pending": False,
                                     "wijkcode": report.source_wijk_code},
         region_id=report.region_id, wijk_code=report.source_wijk_code)
    if on_chosen is not None:
        await on_chosen(session, report)


def _text_names_a_place(suggestion: dict[str, Any] | None) -> bool:
    location = (suggestion or {}).get("location") or {}
    return location.get("method", "none") != "none" or bool(location.get("street"))


async def _waiting_report(session: AsyncSession, beheerder_id: int, reply_to: str | None) -> Report | None:
    """The report the question answered was about (a WhatsApp reply to it), else the beheerder's latest report
    still waiting for its group."""
    waiting = (Report.beheerder_id == beheerder_id, Report.group_pending,
               Report.received_at >= utcnow() - ANSWER_WINDOW)
    if reply_to:
        asked = await session.scalar(
            select(Report).join(Delivery, Delivery.report_id == Report.id)
            .where(Delivery.provider_message_id == reply_to, Delivery.purpose == QUESTION, *waiting))
        if asked is not None:
            return asked
    return await session.scalar(select(Report).where(*waiting).order_by(Report.id.desc()).limit(1))


async def _group_names(session: AsyncSession, group_ids: list[int]) -> dict[int, str]:
    rows = (await session.execute(select(Group.id, Group.name).where(Group.id.in_(group_ids)))).all()
    return {group_id: name for group_id, name in rows}


def _send(session: AsyncSession, report: Report, text: str) -> None:
    now = utcnow()
    session.add(Delivery(purpose=QUESTION, report_id=report.id, beheerder_id=report.beheerder_id, channel="whatsapp",
                         fallbacks=[], status=PENDING, parts=[], body=text, next_attempt_at=now, created_at=now))
