"""A report accepted by the intake is triaged, placed in an incident, and announced.

The intake's writer (app.intake.writer) runs these steps for each new report, inside the transaction that
writes it, so a report is never committed without its suggestion and its incident:

1. triage: the engine's suggestion over the knowledge base, stored on the report (app.triage);
2. placement: the open incident close in space, time and content that the report joins, or a new one
   (app.incidents.service.place_in_incidents: a batch's reports in order, as if they came one by one);
3. the operation: a report from a participant of an open operation is tagged with it
   (app.operations.participation.operations_of_reporters); a public participant's report (one who joined by
   the operation's keyword, app.operations.public) arrives tagged;
4. once the report and its photos are inserted: the incident's event for walls and consoles
   (`incident.created` or `incident.updated`); the intake adds `report.created` itself.

A WhatsApp photo fetched after its report was written (app.intake.media) comes back here too: it may
become the card photo of the report's incident, and walls are told. So does a report whose group was chosen
after it was written (app.intake.group_choice): its incident lists that group, and takes its wijk and region
when it had none.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from app.events.service import NewEvent
from app.incidents import service as incidents
from app.intake.models import Report
from app.intake.service import Announce
from app.operations.participation import operations_of_reporters
from app.triage.engine import triage
from app.triage.knowledge import KnowledgeBase
from app.triage.runner import TriageRunner, apply_suggestion, facts_for


class ReportIntakeFlow:
    """Implements app.intake.service.IntakeSteps, the media fetcher's photo hook and the group choice's hook."""

    def __init__(self, runner: TriageRunner) -> None:
        self.runner = runner

    async def knowledge_base(self, session: AsyncSession) -> KnowledgeBase:
        return await self.runner.knowledge_base(session)

    async def triage_and_place(self, connection: AsyncConnection, reports: Sequence[Report],
                               kb: KnowledgeBase) -> list[Announce]:
        for report in reports:
            apply_suggestion(report, triage(facts_for(report), kb))
        placements = await incidents.place_in_incidents(connection, reports)
        # a public participant's report comes with its operation
        from_beheerders = [report for report in reports if report.beheerder_id is not None]
        operations = await operations_of_reporters(
            connection, [(report.beheerder_id, report.received_at) for report in from_beheerders
                         if report.beheerder_id is not None])
        for report, operation_id in zip(from_beheerders, operations, strict=True):
            report.operation_id = operation_id
        first_photos: dict[int, int] = {}

        def announcer(placement: incidents.Placement, report: Report) -> Announce:
            async def announce() -> list[NewEvent]:
                return [await incidents.placement_event(connection, placement, report, first_photos)]
            return announce

        return [announcer(placement, report) for placement, report in zip(placements, reports, strict=True)]

    async def photo_stored(self, session: AsyncSession, report: Report, photo_id: int) -> None:
        if report.incident_id is not None:
            await incidents.show_photo(session, report.incident_id, photo_id)

    async def group_chosen(self, session: AsyncSession, report: Report) -> None:
        await incidents.report_group_chosen(session, report)
