"""Fault drill: the photo disk is full. A report with a photo is still taken in (201), its photo is marked
failed, and the operator's queue shows that a photo is missing; a WhatsApp photo that cannot be stored is
tried again later, like a failed download, and shown as failed once it gives up."""

from __future__ import annotations

import errno
import json
from typing import Any

import pytest
from sqlalchemy import update

from app.intake import media, writer
from app.intake.models import Report, ReportPhoto
from tests.fakes.graph_api import image_message, webhook_payload
from tests.intake.test_whatsapp_webhook import _jpeg, _post, _rows, _sender, fake_graph, fetcher  # noqa: F401
from tests.support.http import bearer, login


def _disk_full(*_args: Any) -> str:
    raise OSError(errno.ENOSPC, "No space left on device")


async def _queue_report(client, demo, report_id: int) -> dict[str, Any]:
    queue = (await client.get("/api/v1/queue", headers=await login(client, demo["operator"]))).json()
    [report] = [r for incident in queue["items"] for r in incident["reports"] if r["id"] == report_id]
    return dict(report)


async def test_a_report_whose_photo_the_disk_refuses_is_kept_and_the_operator_sees_the_photo_failed(
        app, client, demo, settings, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(writer, "store_photo", _disk_full)
    beheerder = demo["beheerders"][0]
    report = {"text": "inbraak bezig op de zonnestein, foto van de auto", "group_id": beheerder["group_ids"][0]}
    response = await client.post("/api/v1/reports", headers=bearer(beheerder["token"]), files={
        "report": (None, json.dumps(report), "application/json"), "photos": ("auto.jpg", _jpeg(), "image/jpeg")})

    assert response.status_code == 201, response.text
    assert [photo["status"] for photo in response.json()["photos"]] == ["failed"]
    seen = await _queue_report(client, demo, response.json()["id"])
    assert seen["photo_ids"] == [] and seen["photos_failed"] == 1
    assert not settings.photo_dir.exists() or not any(settings.photo_dir.iterdir())  # no half-written file


async def test_a_whatsapp_photo_the_disk_refuses_is_retried_then_shown_as_failed(
        app, client, demo, fake_graph, fetcher, monkeypatch: pytest.MonkeyPatch):  # noqa: F811
    monkeypatch.setattr(media, "store_photo", _disk_full)
    fake_graph.add_media("MEDIA-FULL", _jpeg(), "image/jpeg")
    await _post(client, webhook_payload(messages=[image_message(await _sender(app), "MEDIA-FULL", caption="kijk")]))

    await fetcher.drain()
    [photo] = await _rows(app, ReportPhoto)
    assert photo.status == "pending" and "opslag mislukt" in (photo.last_error or "")  # the disk may be freed
    async with app.state.sessionmaker() as session:  # the retries have run out
        await session.execute(update(ReportPhoto).values(attempts=app.state.settings.media_max_attempts,
                                                         next_attempt_at=photo.created_at))
        await session.commit()
    await fetcher.drain()
    [photo] = await _rows(app, ReportPhoto)
    [report] = await _rows(app, Report)
    assert photo.status == "failed"
    assert (await _queue_report(client, demo, report.id))["photos_failed"] == 1
