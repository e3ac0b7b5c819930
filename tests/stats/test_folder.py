"""The background folder computes queued facts without a request, so the next evaluation has nothing to do."""

from __future__ import annotations

from sqlalchemy import func, select

from app.stats.folder import FactFolder
from app.stats.models import FactChange, ReportFact
from tests.support.http import post_report, westwijk_beheerders


async def test_the_folder_computes_the_facts_of_new_reports_and_empties_the_queue(app, client, demo):
    report = await post_report(client, westwijk_beheerders(demo)[0], "Gisteren fiets gestolen bij het Westwijkplein")

    folded = await FactFolder(app.state.sessionmaker).fold()

    assert folded >= 1
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(FactChange)) == 0
        fact = await session.get(ReportFact, report["id"])
    assert fact is not None and fact.category and fact.wijk == "WK036204"
