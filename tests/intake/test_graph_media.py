import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from app.intake.graph_media import (
    DownloadedMedia,
    GraphMediaClient,
    MediaPermanentError,
    MediaTemporaryError,
    parse_retry_after,
    sha256_matches,
)
from tests.fakes.graph_api import FakeGraphApi, run_fake_graph_server

BASE = "https://graph.example.test/v21.0"
TOKEN = "EAAG-test-token"
MEDIA_ID = "1013859600285441"
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg but bytes are bytes"
DOWNLOAD_URL = (
    "https://lookaside.example.test/whatsapp_business/attachments/?mid=1013859600285441&ext=1&hash=h"
)

Step = httpx.Response | Exception


def metadata(content: bytes = PHOTO, **overrides: object) -> httpx.Response:
    body = {
        "messaging_product": "whatsapp",
        "url": DOWNLOAD_URL,
        "mime_type": "image/jpeg",
        "sha256": hashlib.sha256(content).hexdigest(),
        "file_size": len(content),
        "id": MEDIA_ID,
        **overrides,
    }
    return httpx.Response(200, json=body)


def blob(content: bytes = PHOTO) -> httpx.Response:
    return httpx.Response(200, content=content, headers={"Content-Type": "image/jpeg"})


class Script:
    """A MockTransport handler answering metadata and download requests from two scripted queues."""

    def __init__(self, meta: list[Step], download: list[Step] | None = None) -> None:
        self.meta = list(meta)
        self.download = list(download or [])
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.download if request.url.host.startswith("lookaside") else self.meta
        step = queue.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(
    script: Callable[[httpx.Request], httpx.Response],
    sleeps: Sleeps,
    *,
    max_attempts: int = 4,
    backoff_base: float = 0.5,
    max_bytes: int | None = None,
    max_delay: float = 30.0,
    jitter: Callable[[], float] = lambda: 0.0,
) -> GraphMediaClient:
    return GraphMediaClient(
        BASE,
        TOKEN,
        client=httpx.AsyncClient(transport=httpx.MockTransport(script)),
        sleep=sleeps,
        max_attempts=max_attempts,
        backoff_base=backoff_base,
        max_bytes=max_bytes,
        max_delay=max_delay,
        jitter=jitter,
    )


async def test_download_after_a_500_and_a_timeout() -> None:
    timeout = httpx.ReadTimeout("read timed out")
    script = Script(
        meta=[httpx.Response(500, json={"error": {"code": 1}}), timeout, metadata()], download=[blob()]
    )
    sleeps = Sleeps()

    media = await make_client(script, sleeps).download(MEDIA_ID)

    assert media == DownloadedMedia(PHOTO, "image/jpeg", hashlib.sha256(PHOTO).hexdigest())
    assert len(sleeps.calls) == 2
    assert sleeps.calls[0] < sleeps.calls[1]  # exponential backoff
    assert [r.url.path for r in script.requests] == [f"/v21.0/{MEDIA_ID}"] * 3 + [
        "/whatsapp_business/attachments/"
    ]


async def test_404_is_permanent_without_retry() -> None:
    script = Script(meta=[httpx.Response(404, json={"error": {"code": 100}})])
    sleeps = Sleeps()

    with pytest.raises(MediaPermanentError) as caught:
        await make_client(script, sleeps).download(MEDIA_ID)

    assert caught.value.status_code == 404
    assert len(script.requests) == 1
    assert sleeps.calls == []


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_other_client_errors_are_permanent(status: int) -> None:
    script = Script(meta=[metadata()], download=[httpx.Response(status)])

    with pytest.raises(MediaPermanentError):
        await make_client(script, Sleeps()).download(MEDIA_ID)


async def test_bearer_token_on_both_requests() -> None:
    script = Script(meta=[metadata()], download=[blob()])

    await make_client(script, Sleeps()).download(MEDIA_ID)

    assert len(script.requests) == 2
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in script.requests)
    assert str(script.requests[1].url) == DOWNLOAD_URL


async def test_retry_after_is_honoured_on_429() -> None:
    script = Script(meta=[httpx.Response(429, headers={"Retry-After": "7"}), metadata()], download=[blob()])
    sleeps = Sleeps()

    await make_client(script, sleeps).download(MEDIA_ID)

    assert sleeps.calls == [7.0]


async def test_retry_after_is_capped() -> None:
    script = Script(
        meta=[httpx.Response(503, headers={"Retry-After": "3600"}), metadata()], download=[blob()]
    )
    sleeps = Sleeps()

    await make_client(script, sleeps, max_delay=20.0).download(MEDIA_ID)

    assert sleeps.calls == [20.0]


async def test_gives_up_after_max_attempts() -> None:
    script = Script(meta=[httpx.Response(502)] * 4)
    sleeps = Sleeps()

    with pytest.raises(MediaTemporaryError) as caught:
        await make_client(script, sleeps, max_attempts=4, backoff_base=0.5).download(MEDIA_ID)

    assert caught.value.status_code == 502
    assert len(script.requests) == 4
    assert sleeps.calls == [0.25, 0.5, 1.0]  # jitter 0: half of 0.5 * 2**n


async def test_jitter_stays_within_the_backoff_step() -> None:
    script = Script(meta=[httpx.ConnectError("refused")] * 3)
    sleeps = Sleeps()

    with pytest.raises(MediaTemporaryError):
        await make_client(script, sleeps, max_attempts=3, backoff_base=1.0, jitter=lambda: 1.0).download(
            MEDIA_ID
        )

    assert sleeps.calls == [1.0, 2.0]


async def test_download_failure_fetches_a_fresh_url() -> None:
    script = Script(meta=[metadata(), metadata()], download=[httpx.Response(500), blob()])

    media = await make_client(script, Sleeps()).download(MEDIA_ID)

    assert media.content == PHOTO
    assert len(script.requests) == 4


async def test_checksum_mismatch_is_retried() -> None:
    script = Script(meta=[metadata(), metadata()], download=[blob(b"corrupted in transit"), blob()])

    media = await make_client(script, Sleeps()).download(MEDIA_ID)

    assert media.content == PHOTO


async def test_too_large_is_permanent() -> None:
    script = Script(meta=[metadata(file_size=None)], download=[blob(PHOTO * 100)])

    with pytest.raises(MediaPermanentError):
        await make_client(script, Sleeps(), max_bytes=len(PHOTO) * 10).download(MEDIA_ID)


async def test_declared_size_over_limit_is_permanent_before_download() -> None:
    script = Script(meta=[metadata(file_size=10_000_000)])

    with pytest.raises(MediaPermanentError):
        await make_client(script, Sleeps(), max_bytes=1_000_000).download(MEDIA_ID)

    assert len(script.requests) == 1


async def test_metadata_without_url_is_permanent() -> None:
    script = Script(meta=[httpx.Response(200, json={"id": MEDIA_ID})])

    with pytest.raises(MediaPermanentError):
        await make_client(script, Sleeps()).download(MEDIA_ID)


async def test_mime_type_falls_back_to_content_type() -> None:
    script = Script(meta=[metadata(mime_type=None, sha256=None)], download=[blob()])

    media = await make_client(script, Sleeps()).download(MEDIA_ID)

    assert media.mime_type == "image/jpeg"
    assert media.sha256 is None


@pytest.mark.parametrize("bad_id", ["", "../me", "1?x=1", ".."])
async def test_invalid_media_ids_are_refused(bad_id: str) -> None:
    with pytest.raises(MediaPermanentError):
        await make_client(Script(meta=[]), Sleeps()).download(bad_id)


async def test_own_client_is_closed() -> None:
    async with GraphMediaClient(BASE, TOKEN) as client:
        assert client is not None


def test_parse_retry_after() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (parse_retry_after(later) or 0) <= 31


def test_sha256_matches_hex_and_base64() -> None:
    digest = hashlib.sha256(PHOTO).digest()
    assert sha256_matches(digest.hex(), PHOTO) is True
    assert sha256_matches(base64.b64encode(digest).decode(), PHOTO) is True
    assert sha256_matches(hashlib.sha256(b"other").hexdigest(), PHOTO) is False
    assert sha256_matches("not a hash", PHOTO) is None


# --- against the fake Graph API ---------------------------------------------------------------------


async def test_download_from_fake_in_process() -> None:
    fake = FakeGraphApi(access_token=TOKEN)
    fake.add_media(MEDIA_ID, PHOTO, "image/jpeg")
    fake.fail_next(1, 503, endpoint="download")
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake))
    sleeps = Sleeps()

    async with http:
        media = await GraphMediaClient("http://graph.test/v21.0", TOKEN, client=http, sleep=sleeps).download(
            MEDIA_ID
        )

    assert media.content == PHOTO
    assert media.mime_type == "image/jpeg"
    assert len(sleeps.calls) == 1


async def test_unknown_media_in_fake_is_permanent() -> None:
    fake = FakeGraphApi(access_token=TOKEN)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake))

    async with http:
        with pytest.raises(MediaPermanentError) as caught:
            await GraphMediaClient("http://graph.test/v21.0", TOKEN, client=http).download("999")

    assert caught.value.status_code == 400


async def test_real_timeout_against_fake_server() -> None:
    with run_fake_graph_server(FakeGraphApi(access_token=TOKEN)) as (base_url, fake):
        fake.add_media(MEDIA_ID, PHOTO, "image/png")
        fake.delay_next(1, 1.5, endpoint="media")
        sleeps = Sleeps()

        async with GraphMediaClient(base_url, TOKEN, timeout=0.3, sleep=sleeps) as client:
            media = await client.download(MEDIA_ID)

    assert media.content == PHOTO
    assert media.mime_type == "image/png"
    assert len(sleeps.calls) == 1
