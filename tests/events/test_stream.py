"""The live event stream as a videowall, an operator and a beheerder see it, over a real websocket."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest
from websockets.exceptions import ConnectionClosed

from app.events.visibility import beheerder_audience
from tests.support import builders
from tests.support.events import (
    TEST_STREAM_CONFIG,
    EventSpec,
    StreamClient,
    commit_events,
    merged,
    open_raw,
)
from tests.support.http import bearer


async def _closed_with(ws, send: str | None) -> tuple[int, str]:
    if send is not None:
        await ws.send(send)
    with pytest.raises(ConnectionClosed) as closed:
        await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_bad_token_malformed_or_missing_hello_closes_4401_with_a_reason(server_url):
    code, reason = await _closed_with(await open_raw(server_url), json.dumps(
        {"type": "hello", "token": "mk_wall_not-a-real-token", "last_event_id": 0}))
    assert (code, reason) == (4401, "Dit token is onbekend.")

    code, reason = await _closed_with(await open_raw(server_url), "hallo?")
    assert code == 4401 and "hello" in reason

    started = time.monotonic()
    code, reason = await _closed_with(await open_raw(server_url), None)  # says nothing at all
    assert code == 4401 and "hello" in reason.lower()
    assert time.monotonic() - started < TEST_STREAM_CONFIG.hello_timeout + 2


async def test_wall_gets_live_events_and_a_replay_of_what_it_missed(app, open_stream):
    ams = await builders.region(app, "AMS")
    wall_token = (await builders.wall(app, name="Videowall meldkamer Amsterdam-Amstelland")).token
    wall = await open_stream(wall_token)
    assert wall.welcome["principal"] == {"kind": "wall", "name": "Videowall meldkamer Amsterdam-Amstelland",
                                         "role": "wall"}
    [first] = await commit_events(app, merged(ams, 7))
    committed = time.monotonic()
    [live] = await wall.events(1)
    assert time.monotonic() - committed < 3.0  # woken by the commit: the safety poll is a minute here
    assert live["id"] == first and live["type"] == "incident.merged" and live["data"] == {"incident_id": 7, "into": 8}
    assert live["at"].startswith(str(time.gmtime().tm_year))
    await wall.close()

    missed = await commit_events(app, merged(ams), merged(None))
    again = await open_stream(wall_token, last_event_id=first)
    assert again.welcome["last_event_id"] == missed[-1]
    assert [e["id"] for e in await again.events(2)] == missed
    [later] = await commit_events(app, merged(ams))
    assert [e["id"] for e in await again.events(1)] == [later]
    await again.nothing_more()


async def test_each_client_sees_only_its_own_events(app, open_stream):
    ams, mnl = await builders.region(app, "AMS"), await builders.region(app, "MNL")
    first_beheerder, second_beheerder = await builders.beheerder(app), await builders.beheerder(app)
    wall_token = (await builders.wall(app, region_code="AMS")).token
    wall = await open_stream(wall_token)
    operator = await open_stream((await builders.staff(app, "operator")).token)
    beheerder_a = await open_stream(first_beheerder.token)
    beheerder_b = await open_stream(second_beheerder.token)
    assert beheerder_a.welcome["principal"]["kind"] == "beheerder"

    to_a, to_b = beheerder_audience(first_beheerder.id), beheerder_audience(second_beheerder.id)
    ids = await commit_events(
        app, merged(mnl), merged(ams), merged(None), EventSpec(audience=to_a), EventSpec(audience=to_b),
        merged(ams), EventSpec(audience=to_a), EventSpec(audience=to_b))
    expected: dict[str, tuple[StreamClient, list[int]]] = {
        "wall": (wall, [ids[1], ids[2], ids[5]]),
        "operator": (operator, [ids[0], ids[1], ids[2], ids[5]]),
        "beheerder a": (beheerder_a, [ids[3], ids[6]]),
        "beheerder b": (beheerder_b, [ids[4], ids[7]]),
    }
    for name, (stream, wanted) in expected.items():
        assert [e["id"] for e in await stream.events(len(wanted))] == wanted, name
    for stream, _ in expected.values():
        await stream.nothing_more()

    replay = await open_stream(wall_token, last_event_id=0)
    assert [e["id"] for e in await replay.events(3)] == expected["wall"][1]
    await replay.nothing_more()
    replay_a = await open_stream(first_beheerder.token, last_event_id=0)
    assert replay_a.welcome["last_event_id"] == ids[6]
    assert [e["id"] for e in await replay_a.events(2)] == expected["beheerder a"][1]


@pytest.mark.parametrize("stream_config", [replace(TEST_STREAM_CONFIG, token_recheck_interval=0.2)],
                         indirect=True)
async def test_a_stream_closes_4401_once_its_token_is_revoked(app, client, open_stream):
    beheerder = await builders.beheerder(app)
    stream = await open_stream(beheerder.token)
    other = await open_stream((await builders.beheerder(app)).token)
    admin = bearer((await builders.staff(app, "admin")).token)
    tokens = (await client.get(f"/api/v1/admin/beheerders/{beheerder.id}/tokens", headers=admin)).json()
    assert (await client.delete(f"/api/v1/auth/tokens/{tokens[0]['id']}", headers=admin)).status_code == 200

    with pytest.raises(ConnectionClosed) as closed:
        await stream.events(1, within=5)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "Dit token is ingetrokken.")
    await other.nothing_more(0.6)  # three re-checks later the other beheerder still streams
    await other.close()
