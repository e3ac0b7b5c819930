"""Backpressure and keep-alive: a client that stops reading must not hold up the others."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from tests.support import builders
from tests.support.events import (
    TEST_STREAM_CONFIG,
    EventSpec,
    commit_events,
    small_receive_buffer_socket,
)

BLOB = "x" * 16_000  # with compression off, 400 of these are far more than the socket buffers hold


async def _burst(app, region_id: int, transactions: int = 40, per_transaction: int = 10) -> list[int]:
    ids: list[int] = []
    for _ in range(transactions):
        ids += await commit_events(app, *[EventSpec(region_id=region_id, data={"blob": BLOB})
                                          for _ in range(per_transaction)])
        await asyncio.sleep(0.005)
    return ids


@pytest.mark.parametrize("stream_config", [replace(TEST_STREAM_CONFIG, queue_size=100)], indirect=True)
async def test_a_stuck_client_neither_delays_others_nor_loses_events(app, server_url, open_stream):
    ams = await builders.region(app, "AMS")
    operator_token = (await builders.staff(app, "operator")).token  # staff get the events whole, blobs too
    stuck = await open_stream(operator_token, sock=small_receive_buffer_socket(server_url),
                              max_queue=1, compression=None)
    healthy = await open_stream(operator_token, compression=None)
    ids = await _burst(app, ams)
    last_commit = time.monotonic()
    received = await healthy.events(len(ids), within=10)
    assert time.monotonic() - last_commit < 5.0
    assert [e["id"] for e in received] == ids and healthy.resyncs == []

    # The stuck client now reads again: it was told to resync, then caught up from the database.
    caught_up = await stuck.events(len(ids), within=20)
    assert [e["id"] for e in caught_up] == ids  # every event once, in order
    assert len(stuck.resyncs) >= 1
    assert stuck.resyncs[0]["last_event_id"] in [0, *ids]


@pytest.mark.parametrize("stream_config", [replace(TEST_STREAM_CONFIG, send_timeout=0.5)], indirect=True)
async def test_a_client_that_takes_nothing_for_the_send_timeout_is_dropped(app, server_url, hub, open_stream):
    ams = await builders.region(app, "AMS")
    operator_token = (await builders.staff(app, "operator")).token  # staff get the events whole, blobs too
    stuck = await open_stream(operator_token, sock=small_receive_buffer_socket(server_url),
                              max_queue=1, compression=None)
    healthy = await open_stream(operator_token, compression=None)
    assert hub.subscriber_count == 2
    ids = await _burst(app, ams, transactions=20)
    assert [e["id"] for e in await healthy.events(len(ids), within=10)] == ids
    async with asyncio.timeout(5):
        while hub.subscriber_count > 1:  # noqa: ASYNC110  (polling the server's state from the outside)
            await asyncio.sleep(0.05)
    stuck.ws.transport.abort()


@pytest.mark.parametrize("stream_config", [replace(TEST_STREAM_CONFIG, ping_interval=0.3)], indirect=True)
async def test_an_idle_client_gets_application_pings(app, open_stream):
    await builders.region(app, "AMS")
    wall = await open_stream((await builders.wall(app, region_code="AMS")).token)
    assert wall.welcome["ping_interval"] == 0.3
    started = time.monotonic()
    assert await wall.message(within=2) == {"type": "ping"}
    assert await wall.message(within=2) == {"type": "ping"}
    assert 0.4 < time.monotonic() - started < 1.5
