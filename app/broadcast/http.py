"""A lean HTTP/1.1 keep-alive transport for httpx, for the outbox's high-rate POSTs to one provider.

httpx's default transport (httpcore over anyio) costs most of a millisecond of CPU per request: two writes
per request (headers, then body), a socket-liveness check (getpeername + poll) of every pooled connection on
every request, and anyio's cancellation scopes around each read and write. At the WhatsApp rate of 1,000
messages per second that is the whole CPU. This transport keeps a few persistent asyncio connections per
origin, writes each request in one go, and parses responses with h11 (the same parser httpcore uses).

Semantics the outbox relies on: `httpx.ConnectError` / `ConnectTimeout` / `PoolTimeout` mean the request
was not sent; any error after the write (`ReadTimeout`, `RemoteProtocolError`) means it may have been."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import deque
from typing import Any, cast

import h11
import httpx

_READ_SIZE = 65536


class _Connection(asyncio.Protocol):
    """One keep-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = h11.Connection(h11.CLIENT)
        self.closed = False
        self._waiter: asyncio.Future[tuple[int, list[tuple[bytes, bytes]], bytes]] | None = None
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    # --- asyncio callbacks -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.receive_data(data)
            self._pump()
        except h11.RemoteProtocolError as exc:
            self._fail(httpx.RemoteProtocolError(str(exc)))

    def eof_received(self) -> bool | None:
        with contextlib.suppress(h11.RemoteProtocolError):
            self.parser.receive_data(b"")
            self._pump()
        self._fail(httpx.RemoteProtocolError("server closed the connection"))
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(httpx.RemoteProtocolError(f"connection lost: {exc!r}"))

    # --- parsing ----------------------------------------------------------------------------------

    def _pump(self) -> None:
        while True:
            event = self.parser.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self._status, self._headers = event.status_code, list(event.headers)
            elif isinstance(event, h11.Data):
                self._body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                if self._waiter is not None and not self._waiter.done():
                    self._waiter.set_result((self._status, self._headers, b"".join(self._body)))
                return
            elif isinstance(event, h11.ConnectionClosed):
                self._fail(httpx.RemoteProtocolError("server closed the connection"))
                return

    def _fail(self, error: Exception) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()

    # --- one exchange -----------------------------------------------------------------------------

    async def exchange(self, request: h11.Request, body: bytes,
                       read_timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self.transport is not None
        self._status, self._headers, self._body = 0, [], []
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            data = self.parser.send(request) or b""
            if body:
                data += self.parser.send(h11.Data(data=body)) or b""
            data += self.parser.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:  # nothing was written
            self._fail(httpx.LocalProtocolError(str(exc)))
            raise httpx.LocalProtocolError(str(exc)) from exc
        self.transport.write(data)
        try:
            async with asyncio.timeout(read_timeout):
                result = await self._waiter
        except TimeoutError:
            self._fail(httpx.ReadTimeout("no answer in time"))
            raise httpx.ReadTimeout("no answer within the read timeout") from None
        except BaseException:  # cancelled mid-exchange: the connection is in an unknown state
            self._fail(httpx.RemoteProtocolError("exchange abandoned"))
            raise
        if self.parser.our_state is h11.DONE and self.parser.their_state is h11.DONE:
            self.parser.start_next_cycle()
        else:
            self._fail(httpx.RemoteProtocolError("connection not reusable"))
        return result


class LeanTransport(httpx.AsyncBaseTransport):
    """Keeps up to `max_connections` connections per origin; callers beyond that wait their turn."""

    def __init__(self, max_connections: int = 8, ssl_context: ssl.SSLContext | None = None) -> None:
        self._max = max_connections
        self._ssl_context = ssl_context
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._slots: dict[tuple[str, str, int], asyncio.Semaphore] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        origin = (request.url.scheme, request.url.host, request.url.port or (443 if request.url.scheme == "https"
                                                                            else 80))
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        slots = self._slots.setdefault(origin, asyncio.Semaphore(self._max))
        try:
            async with asyncio.timeout(timeouts.get("pool")):
                await slots.acquire()
        except TimeoutError:
            raise httpx.PoolTimeout("no free connection in time") from None
        try:
            connection = await self._connection(origin, timeouts.get("connect"))
            body = request.read()
            target = request.url.raw_path
            headers = [(k, v) for k, v in request.headers.raw if k.lower() not in (b"connection",)]
            status, response_headers, content = await connection.exchange(
                h11.Request(method=request.method, target=target, headers=headers), body, timeouts.get("read"))
            if not connection.closed:
                self._idle.setdefault(origin, deque()).append(connection)
        finally:
            slots.release()
        return httpx.Response(status, headers=response_headers, content=content, request=request)

    async def _connection(self, origin: tuple[str, str, int], connect_timeout: float | None) -> _Connection:
        idle = self._idle.setdefault(origin, deque())
        while idle:
            connection = idle.popleft()
            if not connection.closed:
                return connection
        scheme, host, port = origin
        context = self._ssl() if scheme == "https" else None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(connect_timeout):
                _, protocol = await loop.create_connection(_Connection, host, port, ssl=context,
                                                           server_hostname=host if context else None)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"no connection to {host}:{port} in time") from None
        except OSError as exc:
            raise httpx.ConnectError(f"no connection to {host}:{port}: {exc}") from exc
        return protocol

    def _ssl(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context()  # loads the CA bundle once, not per connection
        return self._ssl_context

    async def aclose(self) -> None:
        for idle in self._idle.values():
            while idle:
                connection = idle.popleft()
                if connection.transport is not None:
                    connection.transport.close()


class Poster:
    """POSTs straight through an httpx transport. The client layer (cookies, auth, redirects, event hooks,
    header merging) is not used by these calls and costs about a tenth of the per-message CPU."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout: float) -> None:
        self.transport = transport
        self._timeouts = {"connect": min(5.0, timeout), "read": timeout, "write": timeout, "pool": timeout}

    async def post(self, url: httpx.URL, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        request = httpx.Request("POST", url, headers=headers, content=content, extensions={"timeout": self._timeouts})
        response = await self.transport.handle_async_request(request)
        try:
            await response.aread()
        finally:
            await response.aclose()
        return response

    async def aclose(self) -> None:
        await self.transport.aclose()
