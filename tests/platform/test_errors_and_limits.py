"""Wrong requests get problem+json with a Dutch title and the field named; nothing is half written."""

from __future__ import annotations

from sqlalchemy import func, select

from app.registry.models import Group
from tests.support import builders
from tests.support.http import bearer, problem


async def _group_count(app) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count(Group.id))) or 0)


async def test_a_2_mb_body_is_refused_with_413_and_nothing_is_written(app, client):
    await builders.wijk(app, "WK036204")
    admin = bearer((await builders.staff(app, "admin")).token)
    before = await _group_count(app)
    body = '{"name": "' + "x" * 2_000_000 + '", "wijkcode": "WK036204"}'
    response = await client.post("/api/v1/admin/groups", content=body,
                                 headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 413
    assert problem(response)["title"] == "Verzoek te groot"
    assert await _group_count(app) == before


async def test_a_streamed_body_without_length_is_cut_off_at_the_limit(app, client):
    await builders.wijk(app, "WK036204")
    admin = bearer((await builders.staff(app, "admin")).token)
    before = await _group_count(app)

    async def chunks():
        yield b'{"name": "'
        for _ in range(40):
            yield b"x" * 65536
        yield b'", "wijkcode": "WK036204"}'

    response = await client.post("/api/v1/admin/groups", content=chunks(),
                                 headers={**admin, "Content-Type": "application/json"})
    assert problem(response)["status"] == 413
    assert await _group_count(app) == before


async def test_malformed_json_is_400_in_dutch(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    response = await client.post("/api/v1/admin/groups", content=b'{"name": ',
                                 headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    body = problem(response)
    assert body["title"] == "Ongeldige JSON" and body["field"] == "body"


async def test_wrong_type_names_the_field(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    response = await client.post("/api/v1/admin/groups",
                                 json={"name": "X", "wijkcode": "WK036204", "member_count": "veel"},
                                 headers=admin)
    body = problem(response)
    assert response.status_code == 422
    assert body["title"] == "Ongeldige invoer" and body["field"] == "member_count"
    assert "geheel getal" in body["detail"]


async def test_missing_field_and_unknown_wijk_are_named(app, client):
    admin = bearer((await builders.staff(app, "admin")).token)
    missing = problem(await client.post("/api/v1/admin/groups", json={"wijkcode": "WK036204"}, headers=admin))
    assert missing["field"] == "name" and "verplicht" in missing["detail"]
    unknown = problem(await client.post("/api/v1/admin/groups", json={"name": "X", "wijkcode": "WK999999"},
                                        headers=admin))
    assert unknown["field"] == "wijkcode" and "WK999999" in unknown["detail"]


async def test_failed_request_leaves_no_partial_rows(app, client):
    """A beheerder with one valid and one unknown group is refused whole: no beheerder row remains."""
    admin = bearer((await builders.staff(app, "admin")).token)
    group = await builders.group(app)
    response = await client.post("/api/v1/admin/beheerders", headers=admin, json={
        "name": "Half", "phone": "0612999999", "group_ids": [group.id, 999999]})
    assert problem(response)["field"] == "group_ids"
    listed = (await client.get("/api/v1/admin/beheerders?limit=500", headers=admin)).json()["items"]
    assert "Half" not in {b["name"] for b in listed}


async def test_unknown_path_and_method_are_problem_json(client):
    assert problem(await client.get("/api/v1/bestaat-niet"))["title"] == "Niet gevonden"
    assert problem(await client.put("/healthz"))["title"] == "Methode niet toegestaan"


async def test_every_response_carries_a_request_id(client):
    response = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert len((await client.get("/healthz")).headers["x-request-id"]) == 32
