"""Fault drill: the provider (the fake Graph API, a real HTTP server) answers 429, then 500, then times out,
for a stretch of an alert to 60 beheerders. The outbox backs off and settles every unknown outcome from the
status callbacks, and in the end each beheerder got the alert exactly once: nothing dropped, nothing doubled."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from app.broadcast.models import Delivery
from tests.broadcast.test_delivery import _make_due, _real_worker, rows, send
from tests.fakes.graph_api import FakeGraphApi, run_fake_graph_server
from tests.support.broadcast import WESTWIJK, add_beheerders, wijk_beheerders
from tests.support.settings import TEST_SECRETS

pytestmark = pytest.mark.drill
RECIPIENTS = 60
SETTLED = {"sent", "delivered"}


async def test_an_alert_through_a_provider_outage_reaches_everyone_exactly_once(app, client, demo, settings):
    await add_beheerders(app, WESTWIJK, RECIPIENTS - len(wijk_beheerders(demo, WESTWIJK)))
    # Callbacks arrive when the test flushes them; the long grace period never runs out by itself, the test
    # moves the clock (`_make_due`) only after the callbacks are in, so no race decides the outcome.
    timing = {"broadcast_http_timeout_seconds": 1.0, "broadcast_unknown_grace_seconds": 120.0,
              "broadcast_max_attempts": 6}
    async with asyncio.timeout(120):
        with run_fake_graph_server(FakeGraphApi(access_token=TEST_SECRETS["whatsapp_access_token"])) as (base, fake):
            fake.send_status_callbacks("http://testserver/webhooks/whatsapp", TEST_SECRETS["whatsapp_app_secret"],
                                       transport=httpx.ASGITransport(app=app), auto=False)
            fake.fail_next(25, 429, endpoint="messages", retry_after=0.05)  # throughput limit (code 130429)
            fake.fail_next(15, 500, endpoint="messages")  # not processed, but we cannot know that
            fake.slow_answer_next(4, 2.5)  # processed, answered after our 1 s timeout
            fake.delay_next(4, 2.5, endpoint="messages")  # we give up before it reads the request
            worker = _real_worker(app, settings.model_copy(update={**timing, "whatsapp_api_base": base}))
            try:
                broadcast = await send(client, demo)
                for _ in range(20):
                    await worker.drain()
                    await fake.flush_callbacks()
                    if {r.status for r in await rows(app, Delivery.broadcast_id == broadcast["id"])} <= SETTLED:
                        break
                    await _make_due(app)  # backoffs and grace periods over, after every callback is in
            finally:
                await worker.stop()

    done = await rows(app, Delivery.broadcast_id == broadcast["id"])
    assert len(done) == RECIPIENTS and {r.status for r in done} <= SETTLED
    assert len(fake.count_by_recipient()) == RECIPIENTS and set(fake.count_by_recipient().values()) == {1}
    answered = Counter(r.status for r in fake.requests if r.endpoint == "messages")
    assert answered[429] == 25 and answered[500] == 15  # the outage happened, and was ridden out
    assert sum(r.attempts > 1 for r in done) >= 25
    async with app.state.sessionmaker() as session:
        assert not (await session.scalars(select(Delivery).where(Delivery.status == "failed"))).all()
