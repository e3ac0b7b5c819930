"""The claim runs every second for as long as the app runs: its per-person checks must be index ranges over the
rows that can matter (sending, pending, sent within the pair interval), not every delivery the person ever had,
or each claim grows with the year's history (the 30-minute soak showed it)."""

import sqlite3
from datetime import datetime

import pytest
from sqlalchemy.dialects import sqlite

from app.broadcast.worker import _due_statement


def _plan(database_file: str) -> list[str]:
    compiled = _due_statement().params(now=datetime(2026, 1, 1), pair_cutoff=datetime(2026, 1, 1), limit=10).compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True})
    values = [str(compiled.params[key]) if isinstance(compiled.params[key], datetime) else compiled.params[key]
              for key in compiled.positiontup or []]
    with sqlite3.connect(database_file) as connection:
        return [row[3] for row in connection.execute("EXPLAIN QUERY PLAN " + str(compiled), values)]


async def test_the_claim_checks_a_person_by_index_ranges_not_their_history(app, settings):
    if not settings.is_sqlite:
        pytest.skip("the plan is read from SQLite; PostgreSQL plans by statistics")
    plan = _plan(settings.database_url.split("///", 1)[1])
    person_lookups = [step for step in plan if step.startswith("SEARCH deliveries_")]
    assert len(person_lookups) == 2, plan
    assert any("status=?" in step for step in person_lookups), plan
    assert any("sending_since>?" in step for step in person_lookups), plan
