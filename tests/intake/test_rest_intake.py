"""REST intake for beheerders: what they send is kept once, numbered, answered in Dutch, and never lost."""

from __future__ import annotations

import asyncio
import io
import json
import time
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select

from app.core.database import utcnow
from app.intake.models import Report, ReportPhoto
from app.intake.ratelimit import SharedRateLimiter
from tests.support import builders
from tests.support.http import bearer, problem


async def _multi_group_beheerder(app) -> builders.BeheerderAccount:
    groups = [(await builders.group(app)).id for _ in range(2)]
    return await builders.beheerder(app, group_ids=groups)


async def _count(app, model=Report) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _jpeg_with_exif_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (52.0, 22.0, 19.0), 3: "E", 4: (4.0, 54.0, 8.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"private comment")
    return buffer.getvalue()


async def test_json_report_is_committed_numbered_and_acknowledged(app, client):
    beheerder = await builders.beheerder(app)
    response = await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={
        "text": "Twee mannen kijken in auto's aan de Oude Waal", "called_112": False,
        "location": {"street": "Oude Waal", "house_number": "12"}})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "ontvangen"
    assert body["case_number"].startswith(f"MK-{utcnow().year}-") and len(body["case_number"]) == 14
    assert body["group_id"] == beheerder.group_ids[0]
    assert body["location"]["street"] == "Oude Waal"
    assert await _count(app) == 1


async def test_case_numbers_count_up(app, client):
    token = bearer((await builders.beheerder(app)).token)
    numbers = [(await client.post("/api/v1/reports", headers=token, json={"text": f"melding {i}"})).json()
               ["case_number"] for i in range(3)]
    assert [int(n.rsplit("-", 1)[1]) for n in numbers] == [1, 2, 3]


async def test_text_is_normalised_and_the_original_kept(app, client):
    token = bearer((await builders.beheerder(app)).token)
    original = "  Verda\u0301chte man\u0007 bij de school\u200b  "
    body = (await client.post("/api/v1/reports", headers=token, json={"text": original})).json()
    assert body["text"] == "Verdáchte man bij de school"
    async with app.state.sessionmaker() as session:
        stored = await session.get(Report, body["id"])
        assert stored.text_original == original


async def test_same_idempotency_key_and_body_returns_the_first_report(app, client):
    headers = {**bearer((await builders.beheerder(app)).token), "Idempotency-Key": "abc-1"}
    first = await client.post("/api/v1/reports", headers=headers, json={"text": "inbraak bezig"})
    second = await client.post("/api/v1/reports", headers=headers, json={"text": "inbraak bezig"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    other = await client.post("/api/v1/reports", headers=headers, json={"text": "iets anders"})
    assert other.status_code == 409 and problem(other)["field"] == "Idempotency-Key"
    assert await _count(app) == 1


async def test_two_simultaneous_identical_posts_create_one_row(app, client):
    headers = {**bearer((await builders.beheerder(app)).token), "Idempotency-Key": "race-1"}
    responses = await asyncio.gather(*[
        client.post("/api/v1/reports", headers=headers, json={"text": "tegelijk verstuurd"}) for _ in range(5)])
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await _count(app) == 1


async def test_group_choice_rules(app, client):
    multi = await _multi_group_beheerder(app)
    token = bearer(multi.token)
    missing = await client.post("/api/v1/reports", headers=token, json={"text": "x"})
    assert problem(missing)["field"] == "group_id" and "meerdere" in problem(missing)["detail"]
    chosen = await client.post("/api/v1/reports", headers=token,
                               json={"text": "x", "group_id": multi.group_ids[1]})
    assert chosen.json()["group_id"] == multi.group_ids[1]
    foreign = (await builders.beheerder(app)).group_ids[0]
    for group_id in (foreign, 999999):
        response = await client.post("/api/v1/reports", headers=token, json={"text": "x", "group_id": group_id})
        assert response.status_code == 422 and problem(response)["field"] == "group_id"


async def test_bad_input_gets_a_dutch_problem_and_writes_nothing(app, client):
    token = bearer((await builders.beheerder(app)).token)
    future = (utcnow() + timedelta(hours=1)).isoformat()
    cases = [
        ({"text": ""}, "text"),
        ({"text": "   \u0007 "}, "text"),
        ({"text": "x" * 100_000}, "text"),
        ({"text": "x", "observed_at": future}, "observed_at"),
        ({"text": "x", "location": {"lat": 52.5, "lon": 3.5}}, "location"),  # North Sea
        ({"text": "x", "location": {"lat": 50.85, "lon": 4.35}}, "location"),  # Brussels
        ({"text": "x", "location": {"lat": 52.37}}, "location"),
        ({"text": "x", "called_112": "misschien"}, "called_112"),
        ({"txt": "x"}, "text"),
    ]
    for payload, field in cases:
        response = await client.post("/api/v1/reports", headers=token, json=payload)
        body = problem(response)
        assert response.status_code == 422, payload
        assert body["title"] == "Ongeldige invoer" and body["field"].startswith(field), (payload, body)
    malformed = await client.post("/api/v1/reports", headers={**token, "Content-Type": "application/json"},
                                  content=b'{"text": "abc"')
    assert malformed.status_code == 400 and problem(malformed)["title"] == "Ongeldige JSON"
    assert await _count(app) == 0


async def test_naive_observed_at_is_dutch_local_time(app, client):
    token = bearer((await builders.beheerder(app)).token)
    body = (await client.post("/api/v1/reports", headers=token,
                              json={"text": "x", "observed_at": "2026-07-01T21:30:00"})).json()
    assert body["observed_at"].startswith("2026-07-01T19:30:00")


async def test_photo_is_stored_without_exif_and_gps_is_kept_as_candidate(app, client, settings):
    token = bearer((await builders.beheerder(app)).token)
    files = [("photos", ("foto.jpg", _jpeg_with_exif_gps(), "image/jpeg"))]
    response = await client.post("/api/v1/reports", headers=token, files=files,
                                 data={"report": json.dumps({"text": "verdachte auto, zie foto"})})
    assert response.status_code == 201, response.text
    photo = response.json()["photos"][0]
    assert photo["status"] == "stored" and photo["media_type"] == "image/jpeg"
    stored_files = list(Path(settings.photo_dir).iterdir())
    assert len(stored_files) == 1
    raw = stored_files[0].read_bytes()
    assert b"SecretCam" not in raw and b"private comment" not in raw
    assert len(Image.open(io.BytesIO(raw)).getexif()) == 0
    async with app.state.sessionmaker() as session:
        row = await session.get(ReportPhoto, photo["id"])
        assert abs(row.gps_lat - 52.3719) < 0.001 and abs(row.gps_lon - 4.9022) < 0.001


async def test_fake_and_truncated_images_are_refused_and_nothing_is_left(app, client, settings):
    token = bearer((await builders.beheerder(app)).token)
    good = _jpeg_with_exif_gps()
    for name, data in [("nep.jpg", b"this is not an image"), ("half.jpg", good[: len(good) // 2])]:
        files = [("photos", (name, good, "image/jpeg")), ("photos", (name, data, "image/jpeg"))]
        response = await client.post("/api/v1/reports", headers=token, files=files,
                                     data={"report": json.dumps({"text": "met foto"})})
        body = problem(response)
        assert response.status_code == 422 and body["field"] == "photos[1]" and body["title"] == "Foto geweigerd"
    assert await _count(app) == 0
    assert not settings.photo_dir.exists() or not any(settings.photo_dir.iterdir())


async def test_too_many_photos_and_missing_json_part(app, client):
    token = bearer((await builders.beheerder(app)).token)
    photo = _jpeg_with_exif_gps()
    five = [("photos", (f"{i}.jpg", photo, "image/jpeg")) for i in range(5)]
    response = await client.post("/api/v1/reports", headers=token, files=five,
                                 data={"report": json.dumps({"text": "x"})})
    assert response.status_code in (400, 422)
    assert problem(response)
    no_json = await client.post("/api/v1/reports", headers=token, files=five[:1])
    assert problem(no_json)["field"] == "report"


async def test_photos_are_for_staff_only_and_each_view_is_audited(app, client):
    beheerder = await builders.beheerder(app)
    created = (await client.post("/api/v1/reports", headers=bearer(beheerder.token),
                                 files=[("photos", ("f.jpg", _jpeg_with_exif_gps(), "image/jpeg"))],
                                 data={"report": json.dumps({"text": "foto"})})).json()
    url = f"/api/v1/reports/{created['id']}/photos/{created['photos'][0]['id']}"
    assert (await client.get(url, headers=bearer(beheerder.token))).status_code == 403
    assert (await client.get(url)).status_code == 401
    operator = bearer((await builders.staff(app, "operator")).token)
    photo = await client.get(url, headers=operator)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    admin = bearer((await builders.staff(app, "admin")).token)
    views = (await client.get("/api/v1/admin/audit?action=photo.view", headers=admin)).json()
    assert views[0]["actor_name"] == "operator" and views[0]["detail"]["report_id"] == created["id"]


async def test_beheerder_sees_own_reports_and_another_ones_is_404(app, client):
    first, second = await builders.beheerder(app), await builders.beheerder(app)
    own = (await client.post("/api/v1/reports", headers=bearer(first.token),
                             json={"text": "eigen melding", "group_id": first.group_ids[0]})).json()
    listed = (await client.get("/api/v1/reports", headers=bearer(first.token))).json()
    assert [r["id"] for r in listed["items"]] == [own["id"]] and listed["total"] == 1
    assert listed["items"][0]["feedback"] == []
    response = await client.get(f"/api/v1/reports/{own['id']}", headers=bearer(second.token))
    assert response.status_code == 404 and problem(response)["title"] == "Niet gevonden"
    assert (await client.get("/api/v1/reports", headers=bearer(second.token))).json()["total"] == 0


async def test_rate_limit_answers_429_with_retry_after(app, client):
    token = bearer((await builders.beheerder(app)).token)
    statuses = [(await client.post("/api/v1/reports", headers=token, json={"text": f"m{i}"})).status_code
                for i in range(app.state.settings.intake_burst + 1)]
    assert statuses[:-1] == [201] * app.state.settings.intake_burst
    last = await client.post("/api/v1/reports", headers=token, json={"text": "nog een"})
    assert last.status_code == 429 and int(last.headers["retry-after"]) >= 1
    assert problem(last)["title"] == "Te veel meldingen"


async def test_a_refused_token_takes_none_of_the_beheerders_reports(app, client):
    beheerder, admin = await builders.beheerder(app), bearer((await builders.staff(app, "admin")).token)
    tokens_url = f"/api/v1/admin/beheerders/{beheerder.id}/tokens"
    new_token = (await client.post(tokens_url, headers=admin, json={"label": "nieuw toestel"})).json()
    old = [t for t in (await client.get(tokens_url, headers=admin)).json() if t["id"] != new_token["id"]]
    assert (await client.delete(f"/api/v1/auth/tokens/{old[0]['id']}", headers=admin)).status_code == 200
    frozen, burst = time.time(), 2  # a stopped clock: no slot comes back while the test runs
    app.state.intake_rate_limiter = SharedRateLimiter(app.state.read_engine, 30, burst, clock=lambda: frozen)
    refused = [(await client.post("/api/v1/reports", headers=bearer(beheerder.token), json={"text": f"m{i}"}))
               for i in range(burst + 1)]
    assert {r.status_code for r in refused} == {401}
    operator = await client.post("/api/v1/reports", headers=admin, json={"text": "geen beheerder"})
    assert operator.status_code == 403
    statuses = [(await client.post("/api/v1/reports", headers=bearer(new_token["token"]),
                                   json={"text": f"n{i}"})).status_code for i in range(burst + 1)]
    assert statuses == [201] * burst + [429]


async def test_report_creation_writes_an_event_in_the_same_transaction(app, client):
    from app.events.models import Event

    body = (await client.post("/api/v1/reports", headers=bearer((await builders.beheerder(app)).token),
                              json={"text": "inbraak"})).json()
    async with app.state.sessionmaker() as session:
        events = (await session.scalars(select(Event).where(Event.type == "report.created"))).all()
    assert [e.data["case_number"] for e in events] == [body["case_number"]]
