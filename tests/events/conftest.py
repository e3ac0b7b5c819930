"""A real uvicorn server in the test's event loop, and websocket clients that speak the event protocol."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed

from app.events.hub import EventHub, StreamConfig
from tests.support.events import TEST_STREAM_CONFIG, StreamClient, open_raw
from tests.support.postgres import free_port


@pytest.fixture
def stream_config(request: pytest.FixtureRequest) -> StreamConfig:
    """TEST_STREAM_CONFIG, or what a test passes with `parametrize("stream_config", [...], indirect=True)`."""
    config: StreamConfig = getattr(request, "param", TEST_STREAM_CONFIG)
    return config


@pytest.fixture
async def server_url(app: FastAPI, stream_config: StreamConfig) -> AsyncIterator[str]:
    """Serves the app with uvicorn on a free port in this event loop, lifespan (and so the hub) included."""
    app.state.event_stream_config = stream_config
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on",
                                           timeout_graceful_shutdown=2))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    yield f"ws://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


@pytest.fixture
def hub(app: FastAPI, server_url: str) -> EventHub:
    result: EventHub = app.state.event_hub
    return result


@pytest.fixture
async def open_stream(server_url: str) -> AsyncIterator[Callable[..., Awaitable[StreamClient]]]:
    clients: list[StreamClient] = []

    async def opener(token: str, last_event_id: int | None = None, **kwargs: Any) -> StreamClient:
        client = StreamClient(await open_raw(server_url, **kwargs))
        clients.append(client)
        hello: dict[str, Any] = {"type": "hello", "token": token}
        if last_event_id is not None:
            hello["last_event_id"] = last_event_id
        await client.ws.send(json.dumps(hello))
        client.welcome = await client.message()
        assert client.welcome["type"] == "welcome", client.welcome
        return client

    yield opener
    for client in clients:
        try:
            await asyncio.wait_for(client.ws.close(), 2)
        except (TimeoutError, ConnectionClosed):
            client.ws.transport.abort()
