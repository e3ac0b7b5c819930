"""Smaller edges of the intake: emoji keep their joiners, booleans and times are taken strictly, an
acknowledgement is no report, and photo files left by a crash are swept away."""

from __future__ import annotations

import io
import json
import os
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.intake.models import Report
from app.intake.orphans import sweep_orphan_photos
from app.intake.whatsapp import compute_signature
from tests.fakes.graph_api import text_message, webhook_payload
from tests.support.http import bearer, problem
from tests.support.settings import TEST_SECRETS

pytestmark = pytest.mark.db
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one emoji: man, ZWJ, woman, ZWJ, girl


def _single_group_beheerder(demo) -> dict:
    return next(b for b in demo["beheerders"] if len(b["group_ids"]) == 1)


async def _reports(app) -> list[Report]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def test_a_zero_width_joiner_inside_an_emoji_is_kept_and_elsewhere_removed(client, demo):
    token = bearer(_single_group_beheerder(demo)["token"])
    response = await client.post("/api/v1/reports", headers=token,
                                 json={"text": f"{FAMILY} gezin zoekt hun hond, in\u200dbraak? nee"})
    assert response.status_code == 201, response.text
    assert response.json()["text"] == f"{FAMILY} gezin zoekt hun hond, inbraak? nee"


@pytest.mark.parametrize("value", ["yes", "ja", 1, "true"])
async def test_called_112_takes_only_true_or_false(app, client, demo, value):
    token = bearer(_single_group_beheerder(demo)["token"])
    response = await client.post("/api/v1/reports", headers=token, json={"text": "Inbraak", "called_112": value})
    assert response.status_code == 422
    assert problem(response)["field"] == "called_112"
    assert await _reports(app) == []
    accepted = await client.post("/api/v1/reports", headers=token, json={"text": "Inbraak", "called_112": True})
    assert accepted.status_code == 201 and accepted.json()["called_112"] is True


async def test_an_observation_in_year_one_is_refused(app, client, demo):
    token = bearer(_single_group_beheerder(demo)["token"])
    response = await client.post("/api/v1/reports", headers=token,
                                 json={"text": "Inbraak", "observed_at": "0001-01-01T00:00:00Z"})
    assert response.status_code == 422
    body = problem(response)
    assert body["field"] == "observed_at" and "jaar" in body["detail"]
    assert await _reports(app) == []


async def test_doorgestuurd_in_reply_to_something_that_is_not_an_alert_is_no_report(app, client, demo):
    wa_id = _single_group_beheerder(demo)["phone"].lstrip("+")
    message = text_message(wa_id, "Doorgestuurd!", message_id="wamid.ack")
    message["context"] = {"from": wa_id, "id": "wamid.a-message-of-a-member"}
    raw = json.dumps(webhook_payload(messages=[message])).encode()
    response = await client.post("/webhooks/whatsapp", content=raw, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": compute_signature(raw, TEST_SECRETS["whatsapp_app_secret"])})
    assert response.status_code == 200 and response.json()["messages"] == ["reply"]
    assert await _reports(app) == []


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 160, 60)).save(buffer, "PNG")
    return buffer.getvalue()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


async def test_photo_files_that_no_committed_report_names_are_swept_after_the_grace_period(app, client, demo,
                                                                                          settings):
    token = bearer(_single_group_beheerder(demo)["token"])
    response = await client.post("/api/v1/reports", headers=token, files=[("photos", ("f.png", _png(), "image/png"))],
                                 data={"report": json.dumps({"text": "verdachte auto, zie foto"})})
    assert response.status_code == 201, response.text
    photo_dir = Path(settings.photo_dir)
    [kept] = list(photo_dir.iterdir())
    crashed = photo_dir / "0123456789abcdef0123456789abcdef.jpg"  # written, but its report never committed
    half_written = photo_dir / ".upload-x1y2z3.tmp"
    just_written = photo_dir / "fedcba9876543210fedcba9876543210.jpg"  # its report may be committing now
    for path in (crashed, half_written, just_written):
        path.write_bytes(b"\xff\xd8 not much of a photo")
    for path in (kept, crashed, half_written):
        _age(path, 2 * 3600)

    deleted = await sweep_orphan_photos(app.state.sessionmaker, photo_dir, grace_seconds=3600)

    assert sorted(deleted) == sorted([crashed.name, half_written.name])
    assert sorted(p.name for p in photo_dir.iterdir()) == sorted([kept.name, just_written.name])
    photo = response.json()["photos"][0]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 1
    staff_view = await client.get(f"/api/v1/reports/{response.json()['id']}", headers=token)
    assert staff_view.json()["photos"][0]["id"] == photo["id"]
