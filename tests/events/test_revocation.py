"""Revoking a token, or deactivating the account behind it, closes its open streams at once (not at the next
periodic re-check, which is a minute in these tests), also when another app process does the revoking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.core.settings import Settings
from app.factory import create_app
from tests.support.events import TEST_STREAM_CONFIG
from tests.support.http import bearer, login

SLOW_RECHECK = replace(TEST_STREAM_CONFIG, token_recheck_interval=60)
slow_recheck = pytest.mark.parametrize("stream_config", [SLOW_RECHECK], indirect=True)


async def _closed(stream) -> tuple[int, str]:
    with pytest.raises(ConnectionClosed) as closed:
        await stream.events(1, within=5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.fixture
async def other_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A second app instance: on PostgreSQL another process would do the same through NOTIFY."""
    other = create_app(settings, configure_logs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://other") as http:
        yield http
    await other.state.engine.dispose()


@slow_recheck
async def test_revoking_a_token_closes_its_stream_at_once(app, client, open_stream, demo):
    beheerder = demo["beheerders"][0]
    stream = await open_stream(beheerder["token"])
    other = await open_stream(demo["beheerders"][1]["token"])
    admin = await login(client, demo["admin"])
    tokens = (await client.get(f"/api/v1/admin/beheerders/{beheerder['id']}/tokens", headers=admin)).json()
    assert (await client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=admin)).status_code == 200

    assert await _closed(stream) == (4401, "Dit token is ingetrokken.")
    await other.nothing_more(0.5)
    await other.close()


@slow_recheck
async def test_a_revocation_by_another_instance_closes_the_stream_here(app, settings, other_client, open_stream,
                                                                       demo):
    if settings.is_sqlite:
        pytest.skip("several app processes share a database only on PostgreSQL")
    beheerder = demo["beheerders"][0]
    stream = await open_stream(beheerder["token"])
    admin = await login(other_client, demo["admin"])
    tokens = (await other_client.get(f"/api/v1/admin/beheerders/{beheerder['id']}/tokens", headers=admin)).json()
    assert (await other_client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=admin)).status_code == 200
    assert await _closed(stream) == (4401, "Dit token is ingetrokken.")


@slow_recheck
async def test_a_deactivated_wall_is_listed_its_stream_closes_and_its_token_stops_working(client, open_stream, demo):
    admin = await login(client, demo["admin"])
    [wall] = (await client.get("/api/v1/admin/walls", headers=admin)).json()
    assert wall["active"] is True and wall["token"] is None
    stream = await open_stream(demo["wall_token"])

    response = await client.patch(f"/api/v1/admin/walls/{wall['id']}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False

    assert await _closed(stream) == (4401, "Het account achter dit token is niet actief.")
    assert (await client.get("/api/v1/stats/overview", headers=bearer(demo["wall_token"]))).status_code == 401
    assert (await client.get("/api/v1/admin/walls", headers=admin)).json()[0]["active"] is False


@slow_recheck
async def test_a_deactivated_beheerder_loses_the_stream(client, open_stream, demo):
    beheerder = demo["beheerders"][0]
    stream = await open_stream(beheerder["token"])
    admin = await login(client, demo["admin"])
    response = await client.patch(f"/api/v1/admin/beheerders/{beheerder['id']}", json={"active": False},
                                  headers=admin)
    assert response.status_code == 200
    assert await _closed(stream) == (4401, "Het account achter dit token is niet actief.")


async def test_only_an_admin_may_deactivate_a_wall(client, demo):
    operator = await login(client, demo["operator"])
    response = await client.patch("/api/v1/admin/walls/1", json={"active": False}, headers=operator)
    assert response.status_code == 403
    admin = await login(client, demo["admin"])
    assert (await client.patch("/api/v1/admin/walls/999", json={"active": False}, headers=admin)).status_code == 404
