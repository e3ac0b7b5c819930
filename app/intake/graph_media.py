"""Download of WhatsApp media (photos sent to the business number) from Meta's Graph API.

Two steps, both with the bearer token: ``GET {base}/{media_id}`` answers
``{"messaging_product", "url", "mime_type", "sha256", "file_size", "id"}``; a GET of that short-lived
``url`` answers the bytes. One attempt runs both steps, so a retry also fetches a fresh URL.

Retries (tenacity, waiting `app.core.retry.next_attempt_delay`) on HTTP 429, 5xx, timeouts and transport
errors, honouring ``Retry-After`` (capped at `max_delay`). Any other 4xx, an unusable metadata answer or a file
over `max_bytes` raises `MediaPermanentError` at once; running out of attempts raises
`MediaTemporaryError`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Self

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from app.core.retry import next_attempt_delay

SleepFunc = Callable[[float], Awaitable[None]]


class MediaError(Exception):
    """Base class; `status_code` is the HTTP status of the failing response, if there was one."""

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class MediaPermanentError(MediaError):
    """Retrying will not help (unknown media id, bad token, file too large, nonsense answer)."""


class MediaTemporaryError(MediaError):
    """Still failing after the last attempt; the caller may try again later."""


class _Retryable(Exception):
    def __init__(self, message: str, *, status_code: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status_code = status_code
        self.retry_after = retry_after


@dataclass(frozen=True)
class DownloadedMedia:
    content: bytes
    mime_type: str
    sha256: str | None


@dataclass(frozen=True)
class _MediaInfo:
    url: str
    mime_type: str | None
    sha256: str | None
    file_size: int | None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def sha256_matches(expected: str, content: bytes) -> bool | None:
    """Compare Meta's sha256 (hex or base64) with the content; None when the format is unknown."""
    digest = hashlib.sha256(content).digest()
    candidate = expected.strip()
    if len(candidate) == 64:
        try:
            return bytes.fromhex(candidate) == digest
        except ValueError:
            pass
    try:
        decoded = base64.b64decode(candidate, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded == digest if len(decoded) == 32 else None


def _classify(response: httpx.Response, what: str) -> None:
    status = response.status_code
    if status < 400:
        return
    if status == 429 or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise _Retryable(f"{what}: HTTP {status}", status_code=status, retry_after=retry_after)
    raise MediaPermanentError(f"{what}: HTTP {status}", status_code=status)


def _media_info(payload: Any, media_id: str) -> _MediaInfo:
    if not isinstance(payload, dict) or not isinstance(payload.get("url"), str) or not payload["url"]:
        raise MediaPermanentError(f"media {media_id}: metadata without a download url")
    mime = payload.get("mime_type")
    sha = payload.get("sha256")
    size = payload.get("file_size")
    try:
        file_size = int(size) if isinstance(size, int | str) and not isinstance(size, bool) else None
    except ValueError:
        file_size = None
    return _MediaInfo(
        url=payload["url"],
        mime_type=mime if isinstance(mime, str) and mime else None,
        sha256=sha if isinstance(sha, str) and sha else None,
        file_size=file_size,
    )


class GraphMediaClient:
    def __init__(
        self,
        base_url: str,
        access_token: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        client: httpx.AsyncClient | None = None,
        sleep: SleepFunc = asyncio.sleep,
        max_bytes: int | None = None,
        max_delay: float = 30.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._timeout = httpx.Timeout(timeout)
        self._max_attempts = max_attempts
        self._backoff_base = backoff_base
        self._sleep = sleep
        self._max_bytes = max_bytes
        self._max_delay = max_delay
        self._jitter = jitter
        self._owns_client = client is None
        self._client = client if client is not None else httpx.AsyncClient(timeout=self._timeout)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def download(self, media_id: str) -> DownloadedMedia:
        if not media_id or "/" in media_id or "?" in media_id or media_id in (".", ".."):
            raise MediaPermanentError(f"invalid media id: {media_id!r}")
        retrying = AsyncRetrying(stop=stop_after_attempt(self._max_attempts), wait=self._wait,
                                 retry=retry_if_exception_type(_Retryable), sleep=self._sleep, reraise=True)
        try:
            return await retrying(self._attempt, media_id)
        except _Retryable as exc:
            raise MediaTemporaryError(
                f"media {media_id}: gave up after {self._max_attempts} attempts ({exc})",
                status_code=exc.status_code,
            ) from exc

    def _wait(self, state: RetryCallState) -> float:
        """The backoff, or longer when the server asks for it (Retry-After), never over `max_delay`."""
        delay = next_attempt_delay(state.attempt_number, base=self._backoff_base, cap=self._max_delay,
                                   jitter=self._jitter())
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, _Retryable) and failure.retry_after is not None:
            delay = max(delay, failure.retry_after)
        return min(delay, self._max_delay)

    async def _attempt(self, media_id: str) -> DownloadedMedia:
        info = await self._fetch_info(media_id)
        if self._max_bytes is not None and info.file_size is not None and info.file_size > self._max_bytes:
            raise MediaPermanentError(f"media {media_id}: {info.file_size} bytes is over the limit")
        content, content_type = await self._fetch_bytes(info.url, media_id)
        if info.sha256 is not None and sha256_matches(info.sha256, content) is False:
            raise _Retryable(f"media {media_id}: sha256 mismatch")
        mime = info.mime_type or content_type or "application/octet-stream"
        return DownloadedMedia(content=content, mime_type=mime, sha256=info.sha256)

    async def _fetch_info(self, media_id: str) -> _MediaInfo:
        what = f"media {media_id} metadata"
        try:
            response = await self._client.get(
                f"{self._base_url}/{media_id}", headers=self._headers, timeout=self._timeout
            )
        except httpx.TransportError as exc:  # includes timeouts
            raise _Retryable(f"{what}: {type(exc).__name__}") from exc
        _classify(response, what)
        try:
            payload = response.json()
        except ValueError as exc:
            raise MediaPermanentError(f"{what}: answer is not JSON") from exc
        return _media_info(payload, media_id)

    async def _fetch_bytes(self, url: str, media_id: str) -> tuple[bytes, str | None]:
        what = f"media {media_id} download"
        try:
            request = self._client.build_request("GET", url, headers=self._headers, timeout=self._timeout)
            response = await self._client.send(request, stream=True, follow_redirects=True)
            try:
                _classify(response, what)
                content = await self._read_limited(response, what)
            finally:
                await response.aclose()
        except httpx.TransportError as exc:
            raise _Retryable(f"{what}: {type(exc).__name__}") from exc
        content_type = response.headers.get("Content-Type")
        return content, content_type.split(";")[0].strip() if content_type else None

    async def _read_limited(self, response: httpx.Response, what: str) -> bytes:
        chunks: list[bytes] = []
        total = 0
        async for chunk in response.aiter_bytes():
            total += len(chunk)
            if self._max_bytes is not None and total > self._max_bytes:
                raise MediaPermanentError(f"{what}: more than {self._max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
