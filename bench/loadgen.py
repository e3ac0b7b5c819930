"""A lean HTTP/1.1 load generator: keep-alive connections over asyncio streams, requests written as bytes.

httpx spends ~1 ms of CPU per request on this 2-core machine, which the server under test then lacks; a
benchmark of the server should not be a benchmark of its client. This one only does what the benchmarks
need: POST/GET with a body, a Content-Length (or chunked) response, the status and the body back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from urllib.parse import urlsplit


class ResponseError(RuntimeError):
    pass


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> Connection:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port or 80)
        return cls(reader, writer, parts.netloc)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        fields = {name.strip().lower(): value.strip() for name, _, value in
                  (line.partition(":") for line in header_lines if line)}
        if "content-length" in fields:
            return status, await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("transfer-encoding", "").lower() == "chunked":
            return status, await self._read_chunked()
        raise ResponseError(f"response without a length: {status_line}")

    async def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


class ConnectionPool:
    """Keep-alive connections handed out one request at a time (a connection is never shared mid-request).
    `max_idle`: a connection idle for longer is closed instead of reused (the server closes idle connections
    after 5 s; a load with pauses would otherwise write a request into a closed connection)."""

    def __init__(self, base_url: str, max_idle: float | None = None) -> None:
        self.base_url = base_url
        self.max_idle = max_idle
        self._idle: list[tuple[Connection, float]] = []

    async def _connection(self) -> Connection:
        while self._idle:
            connection, since = self._idle.pop()
            if self.max_idle is None or time.monotonic() - since <= self.max_idle:
                return connection
            await connection.close()
        return await Connection.open(self.base_url)

    async def request(self, method: str, path: str, body: bytes = b"",
                      headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        connection = await self._connection()
        try:
            result = await connection.request(method, path, body, headers)
        except BaseException:
            await connection.close()
            raise
        self._idle.append((connection, time.monotonic()))
        return result

    async def close(self) -> None:
        while self._idle:
            await self._idle.pop()[0].close()
