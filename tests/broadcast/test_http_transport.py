"""The outbox's lean HTTP/1.1 transport against a raw asyncio server: keep-alive, chunked answers, closed
connections, and the errors that tell "not sent" from "maybe sent"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from app.broadcast.http import LeanTransport, Poster
from tests.support.postgres import free_port

Answer = Callable[[bytes], bytes | None]  # request bytes -> raw response (None: never answer)


def fixed(status: int, body: bytes, *, close: bool = False, chunked: bool = False) -> Answer:
    def answer(_request: bytes) -> bytes:
        head = f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
        head += "Connection: close\r\n" if close else ""
        if chunked:
            half = len(body) // 2
            chunks = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:half], body[half:]))
            return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunks + b"0\r\n\r\n"
        return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    return answer


class RawServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                response = self.answer(request)
                if response is None:
                    await asyncio.sleep(10)
                    return
                writer.write(response)
                await writer.drain()
                if b"Connection: close" in response:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Answer], Awaitable[tuple[str, RawServer]]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer) -> tuple[str, RawServer]:
        raw = RawServer(answer)
        port = free_port()
        servers.append(await asyncio.start_server(raw.handle, "127.0.0.1", port))
        return f"http://127.0.0.1:{port}/v21.0/1/messages", raw

    yield start
    for server in servers:
        server.close()


async def _post(poster: Poster, url: str, body: bytes = b'{"x": 1}') -> httpx.Response:
    return await poster.post(httpx.URL(url), content=body, headers={"Content-Type": "application/json"})


async def test_requests_share_one_keep_alive_connection(serve):
    url, raw = await serve(fixed(200, b'{"messages": [{"id": "wamid.1"}]}'))
    poster = Poster(LeanTransport(2), timeout=2)
    answers = [await _post(poster, url) for _ in range(3)]
    await poster.aclose()

    assert [a.json()["messages"][0]["id"] for a in answers] == ["wamid.1"] * 3
    assert raw.connections == 1 and len(raw.requests) == 3
    assert raw.requests[0].startswith(b"POST /v21.0/1/messages HTTP/1.1\r\n") and raw.requests[0].endswith(b'{"x": 1}')


async def test_chunked_answers_and_closed_connections(serve):
    url, raw = await serve(fixed(400, b'{"error": {"code": 131026}}', close=True, chunked=True))
    poster = Poster(LeanTransport(2), timeout=2)
    first, second = await _post(poster, url), await _post(poster, url)
    await poster.aclose()

    assert first.status_code == second.status_code == 400
    assert first.json() == {"error": {"code": 131026}}
    assert raw.connections == 2  # the server closed the first one; it was not reused


async def test_no_connection_means_not_sent_and_no_answer_means_maybe_sent(serve):
    poster = Poster(LeanTransport(2), timeout=0.3)
    with pytest.raises(httpx.ConnectError):
        await _post(poster, f"http://127.0.0.1:{free_port()}/x")

    url, raw = await serve(lambda _request: None)
    with pytest.raises(httpx.ReadTimeout):
        await _post(poster, url)
    assert len(raw.requests) == 1  # it did arrive: the outbox treats a read timeout as an unknown outcome
    await poster.aclose()
