"""The retention purge: text, photos (on disk too), notes and phone numbers go after their period, also from
the event log, the outbox and the labelled examples, while the evaluation's monthly figures stay the same."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.broadcast.models import Delivery
from app.cli import cli
from app.core.database import utcnow
from app.core.settings import get_settings
from app.events.models import Event
from app.incidents.models import Incident
from app.intake.models import QuarantinedMessage, Report, ReportFeedback, ReportPhoto, WhatsAppStatus
from app.learning.models import LabelledExample
from app.privacy.job import PurgeJob
from app.privacy.retention import KINDS, purge
from tests.support import builders
from tests.support.builders import ScriptedReport
from tests.support.http import bearer
from tests.support.privacy import report_with_photo

SECRET_TEXT = "Man met rode jas probeert deuren bij Dorpsstraat 12, telefoon 0612345678"
NOTE = "Agent Jansen heeft de buurman gesproken."
STATUS_PHONE = "+31612345678"
SIGHTING = (52.293908, 4.811651)  # Zonnestein, Westwijk: where the reporter stood
AFTER_PERIOD = timedelta(days=29)


async def _personal_report(app: FastAPI, client, beheerder: builders.BeheerderAccount,
                           operator: builders.StaffAccount) -> dict[str, Any]:
    """A report with a photo through the REST intake, an operator's decision with a note for the reporter, a
    status callback that names a phone number and a message from an unknown number: all of it now."""
    report = await report_with_photo(client, beheerder.token, SECRET_TEXT, point=SIGHTING)
    async with app.state.sessionmaker() as session:
        incident_id = await session.scalar(select(Report.incident_id).where(Report.id == report["id"]))
        session.add(WhatsAppStatus(message_id="wamid.1", recipient=STATUS_PHONE, status="delivered",
                                   occurred_at=utcnow()))
        session.add(QuarantinedMessage(channel="whatsapp", external_id="wa:1", sender=STATUS_PHONE,
                                       sender_name="Onbekend", kind="text", text="hallo politie", reason="onbekend"))
        await session.commit()
    decided = await client.patch(f"/api/v1/incidents/{incident_id}", headers=bearer(operator.token),
                                 json={"category": "signalement", "urgency": "P3", "reason": "Dader is al weg",
                                       "note_for_reporter": NOTE})
    assert decided.status_code == 200, decided.text
    return {"report_id": report["id"], "incident_id": incident_id}


async def _personal_data(app: FastAPI, report_id: int, incident_id: int) -> dict[str, Any]:
    async with app.state.sessionmaker() as session:
        report = await session.get(Report, report_id)
        incident = await session.get(Incident, incident_id)
        events = [json.dumps(data) for data in await session.scalars(select(Event.data))]
        location = (report.triage or {}).get("location") or {}
        return {
            "reasons": [reason["text"] for reason in (report.triage or {}).get("reasons", [])],
            "text": report.text, "text_original": report.text_original, "house_number": report.house_number,
            "summary": incident.summary, "override_reason": incident.override_reason,
            "photo_rows": await session.scalar(select(func.count()).select_from(ReportPhoto)
                                               .where(ReportPhoto.report_id == report_id)),
            "feedback": list(await session.scalars(select(ReportFeedback.text)
                                                   .where(ReportFeedback.report_id == report_id))),
            "outbox": list(await session.scalars(select(Delivery.body).where(Delivery.report_id == report_id))),
            "examples": list(await session.scalars(select(LabelledExample.text)
                                                   .where(LabelledExample.report_id == report_id))),
            "events_with_text": sum("Dorpsstraat" in data or "Jansen" in data for data in events),
            "points": {"report": (report.lat, report.lon), "resolved": (report.point_lat, report.point_lon),
                       "triage": (location.get("lat"), location.get("lon")), "incident": (incident.lat, incident.lon)},
            "events_with_point": sum(str(SIGHTING[0]) in data for data in events),
            "wijk": (report.wijk_code, incident.wijk_code), "street": report.street,
            "status_phones": list(await session.scalars(select(WhatsAppStatus.recipient))),
            "quarantine": await session.scalar(select(func.count()).select_from(QuarantinedMessage)),
        }


def _scripted(group_id: int, beheerder_id: int) -> list[ScriptedReport]:
    start = datetime(2026, 1, 3, 9, tzinfo=UTC)
    categories = ["signalement", "delict", "verdachte_situatie", "overig"]
    return [ScriptedReport(group_id=group_id, beheerder_id=beheerder_id, wijkcode=builders.WESTWIJK,
                           received_at=start + timedelta(days=5 * n, hours=n), category=categories[n % 4],
                           offence="autokraak" if n % 3 == 0 else None, urgency="P2" if n % 2 else "P3",
                           follow_up="surveillance" if n % 2 else None, result="aanhouding" if n % 5 == 0 else None,
                           first_action_after=timedelta(minutes=n + 1),
                           follow_up_after=timedelta(minutes=2 * n + 3) if n % 2 else None,
                           feedback_delivered_after=timedelta(minutes=3 * n + 4) if n % 2 else None)
            for n in range(12)]


async def _stats(client, analyst: builders.StaffAccount) -> dict[str, Any]:
    response = await client.get("/api/v1/stats", params={"from": "2026-01-01", "to": "2026-02-28"},
                                headers=bearer(analyst.token))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
async def world(app: FastAPI, client) -> dict[str, Any]:
    beheerder = await builders.beheerder(app)
    operator = await builders.staff(app, "operator")
    analyst = await builders.staff(app, "analyst")
    await builders.scripted_history(app, _scripted(beheerder.group_ids[0], beheerder.id), operator_id=operator.id)
    personal = await _personal_report(app, client, beheerder, operator)
    return {"beheerder": beheerder, "operator": operator, "analyst": analyst, **personal}


async def test_purge_removes_text_photos_notes_and_numbers_everywhere_and_keeps_the_figures(app, client, world,
                                                                                            settings):
    before = await _personal_data(app, world["report_id"], world["incident_id"])
    assert before["text"] == SECRET_TEXT and before["house_number"] == "12" and before["photo_rows"] == 1
    assert any("jas" in reason for reason in before["reasons"])  # the reasons quote the text
    assert any(NOTE in text for text in before["feedback"]) and any(NOTE in (b or "") for b in before["outbox"])
    assert before["examples"] and before["events_with_text"] and before["status_phones"] == [STATUS_PHONE]
    assert all(point == SIGHTING for point in before["points"].values()) and before["events_with_point"]
    assert before["street"] == "Dorpsstraat"
    photo_files = list(settings.photo_dir.iterdir())
    assert len(photo_files) == 1
    figures = await _stats(client, world["analyst"])

    result = await purge(app.state.sessionmaker, settings, utcnow() + AFTER_PERIOD, source="test")

    after = await _personal_data(app, world["report_id"], world["incident_id"])
    assert after["text"] == after["text_original"] == after["summary"] == "" and after["house_number"] is None
    assert after["override_reason"] is None and after["photo_rows"] == 0 and not any(after["reasons"])
    assert not any(after["feedback"]) and not any(after["outbox"]) and not any(after["examples"])
    assert after["events_with_text"] == 0 and after["status_phones"] == [None] and after["quarantine"] == 0
    assert list(settings.photo_dir.iterdir()) == []
    assert all(point == (None, None) for point in after["points"].values()) and after["events_with_point"] == 0
    assert after["wijk"] == before["wijk"] == (builders.WESTWIJK, builders.WESTWIJK)
    assert after["street"] is None and result.counts["locations"] == 1
    assert result.counts["photos"] == 1 and result.counts["report_texts"] == 13  # 12 scripted, 1 real
    assert await _stats(client, world["analyst"]) == figures


async def test_nothing_is_due_inside_the_period(app, world, settings):
    result = await purge(app.state.sessionmaker, settings, utcnow() + timedelta(days=27), source="test")
    after = await _personal_data(app, world["report_id"], world["incident_id"])
    assert after["text"] == SECRET_TEXT and after["photo_rows"] == 1
    assert result.counts["report_texts"] == 12  # only the scripted reports of early 2026


async def test_dry_run_counts_what_a_purge_removes_and_changes_nothing(app, client, world, settings):
    later = utcnow() + AFTER_PERIOD
    await client.post("/api/v1/auth/login", json={"username": world["operator"].username, "password": "fout"})
    before = await _personal_data(app, world["report_id"], world["incident_id"])
    dry = await purge(app.state.sessionmaker, settings, later, dry_run=True, source="test")
    assert await _personal_data(app, world["report_id"], world["incident_id"]) == before
    assert len(list(settings.photo_dir.iterdir())) == 1
    real = await purge(app.state.sessionmaker, settings, later, source="test")
    assert dry.counts == real.counts
    assert all(dry.counts[kind] > 0 for kind in KINDS)


async def test_a_purge_stopped_between_batches_completes_when_run_again(app, world, settings):
    later = utcnow() + AFTER_PERIOD
    small = settings.model_copy(update={"retention_batch": 2})

    async def crash(kind: str) -> None:
        raise RuntimeError(f"stopped after a batch of {kind}")

    with pytest.raises(RuntimeError):
        await purge(app.state.sessionmaker, small, later, source="test", after_batch=crash)
    async with app.state.sessionmaker() as session:
        purged = await session.scalar(select(func.count()).select_from(Report).where(Report.text == ""))
    assert purged == 2  # one batch went through, the rest did not
    await purge(app.state.sessionmaker, small, later, source="test")
    after = await _personal_data(app, world["report_id"], world["incident_id"])
    assert after["text"] == "" and after["photo_rows"] == 0 and after["events_with_text"] == 0
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report).where(Report.text != "")) == 0
    again = await purge(app.state.sessionmaker, small, later, source="test")
    assert not any(again.counts.values())


async def test_a_kept_incident_survives_until_its_own_period(app, client, world, settings):
    kept = await client.post(f"/api/v1/incidents/{world['incident_id']}/keep", headers=bearer(world["operator"].token),
                             json={"reason": "Lopend onderzoek woninginbraken"})
    assert kept.status_code == 200, kept.text
    await purge(app.state.sessionmaker, settings, utcnow() + AFTER_PERIOD, source="test")
    survived = await _personal_data(app, world["report_id"], world["incident_id"])
    assert survived["text"] == SECRET_TEXT and survived["photo_rows"] == 1
    assert len(list(settings.photo_dir.iterdir())) == 1
    await purge(app.state.sessionmaker, settings,
                utcnow() + timedelta(days=settings.retention_kept_days + 1), source="test")
    gone = await _personal_data(app, world["report_id"], world["incident_id"])
    assert gone["text"] == "" and gone["photo_rows"] == 0


async def test_keeping_is_for_operators_and_audited(app, client, world):
    analyst = await client.post(f"/api/v1/incidents/{world['incident_id']}/keep",
                                headers=bearer(world["analyst"].token), json={"reason": "onderzoek"})
    assert analyst.status_code == 403
    missing = await client.post("/api/v1/incidents/999999/keep", headers=bearer(world["operator"].token),
                                json={"reason": "onderzoek"})
    assert missing.status_code == 404
    await client.post(f"/api/v1/incidents/{world['incident_id']}/keep", headers=bearer(world["operator"].token),
                      json={"reason": "onderzoek"})
    audit = await client.get("/api/v1/admin/audit", params={"action": "incident.keep"},
                             headers=bearer((await builders.staff(app, "admin")).token))
    assert [entry["target_id"] for entry in audit.json()] == [str(world["incident_id"])]


async def test_the_daily_job_purges_on_its_clock_and_is_audited(app, client, world, settings):
    job = PurgeJob(app.state.sessionmaker, settings, lambda: utcnow() + AFTER_PERIOD)
    await job.run()
    after = await _personal_data(app, world["report_id"], world["incident_id"])
    assert after["text"] == "" and after["photo_rows"] == 0
    audit = await client.get("/api/v1/admin/audit", params={"action": "privacy.purge"},
                             headers=bearer((await builders.staff(app, "admin")).token))
    [entry] = audit.json()
    assert entry["detail"]["source"] == "job" and entry["detail"]["counts"]["photos"] == 1


async def test_the_purge_command_prints_per_kind_what_it_would_purge_and_then_purges(app, world, settings,
                                                                                     monkeypatch):
    monkeypatch.setenv("MELDKAMER_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MELDKAMER_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        dry = await asyncio.to_thread(runner.invoke, cli, ["purge", "--dry-run"])
        real = await asyncio.to_thread(runner.invoke, cli, ["purge"])
    finally:
        get_settings.cache_clear()
    assert dry.exit_code == 0 and real.exit_code == 0, dry.output + real.output
    # the real report of today is inside the period; the twelve scripted ones of early 2026 are not
    assert "report_texts: 12 would purge" in dry.output and "report_texts: 12 purged" in real.output
    assert [line.split(":")[0] for line in dry.output.splitlines()] == list(KINDS)
    after = await _personal_data(app, world["report_id"], world["incident_id"])
    assert after["text"] == SECRET_TEXT


async def test_two_app_processes_purge_once_per_period(app, client, world, settings):
    """Every process runs the daily job; started together, one purges and writes the audit entry, the other
    skips. A period later the other may take its turn."""
    later = utcnow() + AFTER_PERIOD
    jobs = [PurgeJob(app.state.sessionmaker, settings, lambda: later) for _ in range(2)]
    results = await asyncio.gather(*(job.run() for job in jobs))
    assert sorted(result is None for result in results) == [False, True]
    admin = bearer((await builders.staff(app, "admin")).token)
    audit = await client.get("/api/v1/admin/audit", params={"action": "privacy.purge"}, headers=admin)
    assert len(audit.json()) == 1
    assert await jobs[1].run() is None and await jobs[0].run() is None  # nobody again inside the period

    next_period = PurgeJob(app.state.sessionmaker, settings,
                           lambda: later + timedelta(hours=settings.retention_purge_hours))
    assert await next_period.run() is not None
    audit = await client.get("/api/v1/admin/audit", params={"action": "privacy.purge"}, headers=admin)
    assert len(audit.json()) == 2


async def test_the_console_reads_whether_and_until_when_an_incident_is_kept(app, client, world, settings):
    status_url = f"/api/v1/incidents/{world['incident_id']}/keep"
    before = await client.get(status_url, headers=bearer(world["analyst"].token))
    assert before.status_code == 200, before.text
    assert before.json()["kept"] is False and before.json()["keep_until"] is None
    assert before.json()["kept_days"] == settings.retention_kept_days
    kept = await client.post(status_url, headers=bearer(world["operator"].token),
                             json={"reason": "Lopend onderzoek woninginbraken"})
    after = (await client.get(status_url, headers=bearer(world["operator"].token))).json()
    assert after["kept"] is True and after["keep_until"] == kept.json()["keep_until"]
    assert after["reason"] == "Lopend onderzoek woninginbraken" and after["marked_by"]
    beheerder = await client.get(status_url, headers=bearer(world["beheerder"].token))
    assert beheerder.status_code in (403, 404)
    missing = await client.get("/api/v1/incidents/999999/keep", headers=bearer(world["operator"].token))
    assert missing.status_code == 404
