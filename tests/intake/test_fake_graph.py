import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from app.intake.whatsapp import parse_webhook
from tests.fakes.graph_api import (
    FakeGraphApi,
    contact,
    image_message,
    location_message,
    run_fake_graph_server,
    status_for,
    text_message,
    webhook_payload,
)

TOKEN = "fake-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PNID = "106540352242922"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def fake(clock: Clock) -> FakeGraphApi:
    return FakeGraphApi(access_token=TOKEN, clock=clock)


@pytest.fixture
async def http(fake: FakeGraphApi) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=fake)
    async with httpx.AsyncClient(transport=transport, base_url="http://graph.test", headers=AUTH) as client:
        yield client


def text(to: str, body: str = "Let op: inbraak Westwijk", callback: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": body},
    }
    if callback is not None:
        message["biz_opaque_callback_data"] = callback
    return message


def template(to: str, callback: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": "buurtalarm",
            "language": {"code": "nl"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Westwijk"}]}],
        },
        "biz_opaque_callback_data": callback,
    }


def assert_graph_error(response: httpx.Response, status: int, code: int) -> dict[str, Any]:
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"].startswith(f"(#{code})")
    assert error["type"] and error["fbtrace_id"]
    return dict(error)


async def test_send_text_with_and_without_version(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    first = await http.post(f"/v21.0/{PNID}/messages", json=text("+31 6 12345678", callback="alert:1:b:1"))
    second = await http.post(f"/{PNID}/messages", json=text("31687654321", callback="alert:1:b:2"))

    assert first.status_code == 200
    body = first.json()
    assert body["messaging_product"] == "whatsapp"
    assert body["contacts"] == [{"input": "+31 6 12345678", "wa_id": "31612345678"}]
    assert re.fullmatch(r"wamid\.[A-Za-z0-9+/=]+", body["messages"][0]["id"])
    assert second.status_code == 200
    assert [m.wa_id for m in fake.sent] == ["31612345678", "31687654321"]
    assert fake.sent[0].payload["text"]["body"] == "Let op: inbraak Westwijk"


async def test_template_and_counting(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    for to, callback in [("31611111111", "a:1"), ("31622222222", "a:1"), ("31611111111", "a:2")]:
        response = await http.post(f"/v21.0/{PNID}/messages", json=template(to, callback))
        assert response.json()["messages"][0]["message_status"] == "accepted"

    assert fake.count_by_callback_data() == {"a:1": 2, "a:2": 1}
    assert fake.distinct_callback_data() == 2
    assert fake.count_by_recipient() == {"31611111111": 2, "31622222222": 1}
    assert fake.distinct_recipients() == 2
    assert fake.sent[0].type == "template"


async def test_token_is_checked(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    response = await http.post(
        f"/v21.0/{PNID}/messages", json=text("31611111111"), headers={"Authorization": "x"}
    )

    assert_graph_error(response, 401, 190)
    assert fake.sent == []
    assert fake.requests[-1].authorized is False


async def test_invalid_message_is_400(http: httpx.AsyncClient) -> None:
    response = await http.post(f"/v21.0/{PNID}/messages", json={"messaging_product": "whatsapp", "to": "316"})

    assert_graph_error(response, 400, 100)


async def test_throughput_limit(http: httpx.AsyncClient, fake: FakeGraphApi, clock: Clock) -> None:
    fake.messages_per_second = 2
    answers = [await http.post(f"/{PNID}/messages", json=text(f"3161111111{i}")) for i in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    error = assert_graph_error(answers[2], 429, 130429)
    assert error["error_data"]["messaging_product"] == "whatsapp"
    assert fake.rejected[0].error_code == 130429

    clock.now += 1.0
    assert (await http.post(f"/{PNID}/messages", json=text("31611111119"))).status_code == 200
    other_number = await http.post("/999999/messages", json=text("31611111118"))
    assert other_number.status_code == 200


async def test_pair_rate_limit(http: httpx.AsyncClient, fake: FakeGraphApi, clock: Clock) -> None:
    fake.pair_limit = 1
    fake.pair_window = 6.0

    assert (await http.post(f"/{PNID}/messages", json=text("31611111111"))).status_code == 200
    assert_graph_error(await http.post(f"/{PNID}/messages", json=text("+31611111111")), 429, 131056)
    assert (await http.post(f"/{PNID}/messages", json=text("31622222222"))).status_code == 200

    clock.now += 6.0
    assert (await http.post(f"/{PNID}/messages", json=text("31611111111"))).status_code == 200
    assert fake.count_by_recipient()["31611111111"] == 2


async def test_fail_next_and_retry_after(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    fake.fail_next(2, 500, endpoint="messages")
    fake.fail_next(1, 429, endpoint="messages", retry_after=3)

    statuses = [(await http.post(f"/{PNID}/messages", json=text("31611111111"))) for _ in range(4)]

    assert [s.status_code for s in statuses] == [500, 500, 429, 200]
    assert_graph_error(statuses[0], 500, 1)
    assert statuses[2].headers["Retry-After"] == "3"
    assert len(fake.sent) == 1


async def test_media_metadata_and_download(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    fake.add_media("555", b"PNGDATA", "image/png")

    meta = (await http.get("/v21.0/555")).json()
    blob = await http.get(meta["url"])

    assert meta["id"] == "555" and meta["mime_type"] == "image/png" and meta["file_size"] == 7
    assert meta["sha256"] == hashlib.sha256(b"PNGDATA").hexdigest()
    assert blob.content == b"PNGDATA"
    assert blob.headers["content-type"] == "image/png"
    assert (await http.get(meta["url"], headers={"Authorization": "Bearer nope"})).status_code == 401
    assert (await http.get(meta["url"].replace("hash=", "hash=x"))).status_code == 404


async def test_unknown_media_answers_like_graph(http: httpx.AsyncClient) -> None:
    error = assert_graph_error(await http.get("/v21.0/404404"), 400, 100)

    assert error["error_subcode"] == 33


async def test_delay_next_only_delays(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    fake.delay_next(1, 0.05)

    assert (await http.post(f"/{PNID}/messages", json=text("31611111111"))).status_code == 200
    assert len(fake.sent) == 1


def test_real_server_and_control_api() -> None:
    with run_fake_graph_server(FakeGraphApi(access_token=TOKEN)) as (base_url, fake):
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v21\.0", base_url)
        origin = base_url.rsplit("/", 1)[0]
        with httpx.Client(timeout=5) as client:
            added = client.put(
                f"{origin}/_fake/media/77", content=b"abc", headers={"Content-Type": "image/jpeg"}
            )
            assert added.status_code == 200
            client.post(f"{origin}/_fake/fail_next", json={"n": 1, "status": 503, "endpoint": "messages"})
            failed = client.post(
                f"{base_url}/{PNID}/messages", json=text("31611111111", callback="c1"), headers=AUTH
            )
            sent = client.post(
                f"{base_url}/{PNID}/messages", json=text("31611111111", callback="c1"), headers=AUTH
            )
            meta = client.get(f"{base_url}/77", headers=AUTH).json()
            state = client.get(f"{origin}/_fake/state").json()
            client.post(f"{origin}/_fake/reset")

        assert failed.status_code == 503
        assert sent.status_code == 200
        assert meta["url"].startswith(origin)
        assert state["by_callback_data"] == {"c1": 1}
        assert state["sent"][0]["to"] == "31611111111"
        assert fake.sent == []  # reset


def test_webhook_builders_parse() -> None:
    payload = webhook_payload(
        contacts=[contact("31612345678", "Beheerder")],
        messages=[
            text_message("31612345678", "verdachte man", forwarded=True),
            image_message("31612345678", "123", caption="foto"),
            location_message("31612345678", 52.3, 4.86, name="Westwijk"),
        ],
    )
    batch = parse_webhook(payload)

    assert [m.kind for m in batch.messages] == ["text", "image", "location"]
    assert batch.messages[0].forwarded and batch.messages[0].profile_name == "Beheerder"


async def test_status_builder_round_trip(http: httpx.AsyncClient, fake: FakeGraphApi) -> None:
    await http.post(f"/{PNID}/messages", json=text("31611111111", callback="alert:9"))
    sent = fake.sent[0]

    batch = parse_webhook(webhook_payload(statuses=[status_for(sent, "failed", error_code=131026)]))

    (update,) = batch.statuses
    assert update.message_id == sent.message_id
    assert update.biz_opaque_callback_data == "alert:9"
    assert update.error_code == 131026
