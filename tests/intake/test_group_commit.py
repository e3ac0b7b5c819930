"""Group commit: reports that arrive together share one transaction, yet each is answered on its own, in
order, and one bad report never takes its neighbours down with it."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from app.core.errors import Conflict, InvalidInput
from app.events.models import Event
from app.incidents.models import Incident
from app.intake.models import Report
from app.intake.photos import sanitise_photo
from app.intake.schemas import ReportIn
from app.intake.service import IntakeRequest, Written, request_hash
from tests.support import builders
from tests.support.http import bearer


def _request(beheerder: builders.BeheerderAccount, text: str, group_id: int | None = None,
             **extra: Any) -> IntakeRequest:
    body = ReportIn(text=text, group_id=group_id or beheerder.group_ids[0])
    return IntakeRequest(beheerder_id=beheerder.id, channel="api", body=body, request_hash=request_hash(body),
                         **extra)


async def _write_together(app, requests: list[IntakeRequest]) -> list[Written | BaseException]:
    """All requests reach the writer before it runs, as when they arrive in the same instant."""
    return await asyncio.gather(*[app.state.intake_writer.write(r) for r in requests], return_exceptions=True)


def _count_commits(app) -> list[int]:
    committed = [0]

    @event.listens_for(app.state.engine.sync_engine, "commit")
    def _count(_connection) -> None:
        committed[0] += 1

    return committed


async def _rows(app, model) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _photo() -> Any:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 40)).save(buffer, "PNG")
    return sanitise_photo(buffer.getvalue(), max_bytes=1_000_000, max_pixels=10_000_000)


async def test_reports_arriving_together_share_one_transaction_and_keep_their_order(app):
    beheerders = [await builders.beheerder(app) for _ in range(4)]
    requests = [_request(beheerders[i % 4], f"Verdachte man bij de schuurtjes, melding {i}") for i in range(12)]
    commits = _count_commits(app)
    answers = await _write_together(app, requests)
    assert commits[0] == 1
    assert all(isinstance(answer, Written) and answer.created for answer in answers), answers
    numbers = [int(answer.report.case_number.rsplit("-", 1)[1]) for answer in answers]  # type: ignore[union-attr]
    assert numbers == list(range(1, 13))  # arrival order, no gaps
    async with app.state.sessionmaker() as session:
        stored = (await session.execute(select(Report.case_number, Report.text, Report.incident_id)
                                        .order_by(Report.id))).all()
        created = await session.scalar(select(func.count()).where(Event.type == "report.created"))
    assert [row.text for row in stored] == [r.body.text for r in requests]
    assert all(row.incident_id is not None for row in stored)
    assert created == 12


async def test_reports_in_one_batch_join_an_incident_opened_earlier_in_the_same_batch(app):
    beheerder = await builders.beheerder(app)
    text = "Nu inbraak bezig aan de {}, twee mannen met een breekijzer bij de achterdeur"
    answers = await _write_together(app, [_request(beheerder, text.format(street)) for street in ("Oude Waal",) * 3])
    incident_ids = {answer.report.incident_id for answer in answers}  # type: ignore[union-attr]
    assert len(incident_ids) == 1
    async with app.state.sessionmaker() as session:
        incident = await session.get(Incident, incident_ids.pop())
    assert incident is not None and incident.report_count == 3


async def test_a_request_refused_in_a_batch_does_not_disturb_the_others(app):
    mine = await builders.beheerder(app)
    foreign = (await builders.beheerder(app)).group_ids[0]
    requests = [_request(mine, "Man kijkt bij woningen naar binnen"),
                _request(mine, "Verdacht busje in de straat", group_id=foreign),
                _request(mine, "Jongens proberen fietsen open te breken")]
    answers = await _write_together(app, requests)
    assert isinstance(answers[1], InvalidInput) and answers[1].field == "group_id"
    assert [int(a.report.case_number[-6:]) for a in (answers[0], answers[2])] == [1, 2]  # type: ignore[union-attr]
    assert await _rows(app, Report) == 2


async def test_a_report_that_fails_while_written_fails_alone_and_leaves_no_files(app, settings, monkeypatch):
    beheerder = await builders.beheerder(app)
    steps = app.state.intake_writer.steps
    real_step = steps.triage_and_place

    async def triage_and_place(connection, reports, kb):
        if any("KAPOT" in report.text for report in reports):
            raise RuntimeError("triage broke on this report")
        return await real_step(connection, reports, kb)

    monkeypatch.setattr(steps, "triage_and_place", triage_and_place)
    requests = [_request(beheerder, "Man met breekijzer bij de garageboxen", photos=[_photo()]),
                _request(beheerder, "KAPOT: deze melding laat het schrijven mislukken", photos=[_photo()]),
                _request(beheerder, "Verdachte auto rijdt stapvoets door de wijk", photos=[_photo()])]
    answers = await _write_together(app, requests)
    assert isinstance(answers[1], RuntimeError)
    assert isinstance(answers[0], Written) and isinstance(answers[2], Written)
    # the rollback gave #2 back (reports with photos queue once their files are written, in either order)
    assert sorted(int(a.report.case_number[-6:]) for a in (answers[0], answers[2])) == [1, 2]
    assert await _rows(app, Report) == 2
    assert len(list(Path(settings.photo_dir).iterdir())) == 2  # the failed report's photo is gone
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).where(Event.type == "report.created")) == 2


async def test_identical_requests_in_one_batch_make_one_report(app):
    beheerder = await builders.beheerder(app)
    requests = [_request(beheerder, "Inbraak bezig", idempotency_key="same-key") for _ in range(4)]
    answers = await _write_together(app, requests)
    assert all(isinstance(answer, Written) for answer in answers), answers
    assert len({answer.report_id for answer in answers}) == 1  # type: ignore[union-attr]
    assert sum(answer.created for answer in answers) == 1  # type: ignore[union-attr]
    assert await _rows(app, Report) == 1


async def test_a_batch_answers_each_idempotency_key_for_its_own_sender(app):
    first, second = await builders.beheerder(app), await builders.beheerder(app)
    [earlier] = await _write_together(app, [_request(first, "Inbraak bezig", idempotency_key="k1")])
    assert isinstance(earlier, Written)
    answers = await _write_together(app, [
        _request(first, "Inbraak bezig", idempotency_key="k1"),  # a repeat: the earlier report
        _request(first, "Iets anders", idempotency_key="k1"),  # the same key for another report
        _request(second, "Inbraak bezig", idempotency_key="k1"),  # another sender's key of the same name
        _request(first, "Nieuwe melding", idempotency_key="k2"),
    ])
    assert isinstance(answers[0], Written) and not answers[0].created and answers[0].report_id == earlier.report_id
    assert isinstance(answers[1], Conflict) and answers[1].field == "Idempotency-Key"
    assert all(isinstance(a, Written) and a.created for a in (answers[2], answers[3])), answers
    assert await _rows(app, Report) == 3


@pytest.mark.parametrize("count", [8])
async def test_simultaneous_posts_are_all_answered_with_their_own_report(app, client, count):
    beheerders = [await builders.beheerder(app) for _ in range(4)]
    responses = await asyncio.gather(*[
        client.post("/api/v1/reports", headers=bearer(beheerders[i % len(beheerders)].token),
                    json={"text": f"Verdacht persoon bij de speeltuin ({i})",
                          "group_id": beheerders[i % len(beheerders)].group_ids[0]})
        for i in range(count)])
    assert [r.status_code for r in responses] == [201] * count
    assert [r.json()["text"] for r in responses] == [f"Verdacht persoon bij de speeltuin ({i})" for i in range(count)]
    assert len({r.json()["case_number"] for r in responses}) == count
