"""Invitations and opt-in: every beheerder of the area gets one invitation; they join, decline or leave in the
portal or by answering in WhatsApp (typed or a quick-reply button, through the signed webhook); only those
who take part get the operation's messages, and after closing nobody gets anything more."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from app.events.models import Event
from app.intake.models import Report
from tests.fakes.graph_api import FakeGraphApi
from tests.support import builders
from tests.support.broadcast import deliver
from tests.support.http import bearer, problem
from tests.support.operations import MIDDENHOVEN, WESTWIJK, button, create, deliveries_to, typed, wa_id, webhook


async def _setup(app, client, clock, count: int = 3) -> tuple[dict[str, str], dict[str, Any],
                                                              list[builders.BeheerderAccount]]:
    beheerders = [await builders.beheerder(app, wijkcode=WESTWIJK) for _ in range(count)]
    specialist = bearer((await builders.staff(app, "specialist")).token)
    clock.set_local("2026-12-12T16:00")
    operation = await create(client, specialist)
    return specialist, operation, beheerders


async def _invite(client, specialist: dict[str, str], operation_id: int) -> dict[str, Any]:
    response = await client.post(f"/api/v1/operations/{operation_id}/invite", headers=specialist)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _texts_to(fake: FakeGraphApi, beheerder: builders.BeheerderAccount) -> list[str]:
    return [sent.payload["text"]["body"] if sent.type == "text" else
            sent.payload["template"]["components"][0]["parameters"][0]["text"]
            for sent in fake.sent if sent.wa_id == wa_id(beheerder)]


async def _participants(client, headers: dict[str, str], operation_id: int) -> dict[int, str]:
    detail = (await client.get(f"/api/v1/operations/{operation_id}", headers=headers)).json()
    return {row["beheerder_id"]: row["status"] for row in detail["participant_list"]}


async def _invitation_id(app, beheerder: builders.BeheerderAccount) -> str:
    [invitation] = await deliveries_to(app, beheerder.id)
    assert invitation.provider_message_id
    return invitation.provider_message_id


async def test_inviting_sends_each_beheerder_of_the_area_one_invitation_once(app, client, clock, worker, fake):
    specialist, operation, beheerders = await _setup(app, client, clock)
    elsewhere = await builders.beheerder(app, wijkcode=MIDDENHOVEN)
    first = await _invite(client, specialist, operation["id"])
    again = await _invite(client, specialist, operation["id"])
    assert (first["invited"], again["invited"], again["already_invited"]) == (3, 0, 3)
    late = await builders.beheerder(app, wijkcode=WESTWIJK)
    assert (await _invite(client, specialist, operation["id"]))["invited"] == 1
    await deliver(worker, fake)

    for beheerder in [*beheerders, late]:
        [text] = _texts_to(fake, beheerder)
        assert "UITNODIGING" in text and "DDO Westwijk" in text and "ja" in text
    assert _texts_to(fake, elsewhere) == []
    detail = (await client.get(f"/api/v1/operations/{operation['id']}", headers=specialist)).json()
    assert detail["participants"] == {"invited": 4, "joined": 0, "declined": 0, "left": 0, "no_answer": 4}


async def test_beheerders_join_and_leave_in_the_portal_and_the_specialist_sees_it(app, client, clock, worker, fake):
    specialist, operation, (anja, bert, carla) = await _setup(app, client, clock)
    await _invite(client, specialist, operation["id"])
    url = f"/api/v1/operations/{operation['id']}"
    joined = await client.post(f"{url}/join", headers=bearer(anja.token))
    assert joined.status_code == 200 and joined.json()["status"] == "joined"
    assert (await client.post(f"{url}/leave", headers=bearer(bert.token))).json()["status"] == "declined"
    await client.post(f"{url}/join", headers=bearer(carla.token))
    assert (await client.post(f"{url}/leave", headers=bearer(carla.token))).json()["status"] == "left"
    late = await builders.beheerder(app, wijkcode=WESTWIJK)
    assert (await client.post(f"{url}/join", headers=bearer(late.token))).json()["status"] == "joined"

    assert await _participants(client, specialist, operation["id"]) == {
        anja.id: "joined", bert.id: "declined", carla.id: "left", late.id: "joined"}
    detail = (await client.get(url, headers=specialist)).json()
    assert detail["participants"] == {"invited": 4, "joined": 2, "declined": 1, "left": 1, "no_answer": 0}
    mine = (await client.get("/api/v1/operations/invitations", headers=bearer(anja.token))).json()
    assert [(item["operation_id"], item["status"]) for item in mine] == [(operation["id"], "joined")]
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(select(Event.type, Event.data).where(Event.type.like("operation.participant_%"))
                                      .order_by(Event.id))).all()
    assert [row.type for row in rows] == [
        "operation.participant_joined", "operation.participant_declined", "operation.participant_joined",
        "operation.participant_left", "operation.participant_joined"]
    assert [row.data["beheerder_id"] for row in rows] == [anja.id, bert.id, carla.id, carla.id, late.id]
    names = [beheerder.name for beheerder in (anja, bert, carla, late)]
    assert not any(name in json.dumps(row.data) for row in rows for name in names)  # the id, never the person


async def test_a_beheerder_outside_the_area_cannot_join_and_nobody_can_after_closing(app, client, clock):
    specialist, operation, (anja, *_) = await _setup(app, client, clock)
    elsewhere = await builders.beheerder(app, wijkcode=MIDDENHOVEN)
    url = f"/api/v1/operations/{operation['id']}"
    outside = await client.post(f"{url}/join", headers=bearer(elsewhere.token))
    assert outside.status_code == 403 and problem(outside)["code"] == "outside_area"
    missing = await client.post("/api/v1/operations/999999/join", headers=bearer(anja.token))
    assert missing.status_code == 404
    await client.post(f"{url}/close", headers=specialist)
    closed = await client.post(f"{url}/join", headers=bearer(anja.token))
    assert closed.status_code == 409
    assert problem(closed)["title"] == "Actie afgesloten" and "afgesloten" in problem(closed)["detail"]


async def test_answers_in_whatsapp_join_decline_and_leave_and_make_no_report(app, client, clock, worker, fake):
    specialist, operation, (anja, bert, carla) = await _setup(app, client, clock)
    await _invite(client, specialist, operation["id"])
    await deliver(worker, fake)
    yes = typed(anja, "Ja graag 👍", reply_to=await _invitation_id(app, anja))
    outcomes = await webhook(client, yes, typed(bert, "Nee, dank je"),
                             button(carla, "Ja", f"operatie:{operation['id']}:ja",
                                    reply_to=await _invitation_id(app, carla)))
    assert outcomes == ["reply", "reply", "reply"]
    assert await webhook(client, yes) == ["reply"]  # Meta sends it again: nothing changes twice
    await deliver(worker, fake)

    assert await _participants(client, specialist, operation["id"]) == {
        anja.id: "joined", bert.id: "declined", carla.id: "joined"}
    assert ["U doet mee" in text for text in _texts_to(fake, anja)] == [False, True]
    assert "U doet niet mee" in _texts_to(fake, bert)[-1]
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0

    assert await webhook(client, typed(anja, "stop")) == ["reply"]
    assert (await _participants(client, specialist, operation["id"]))[anja.id] == "left"


async def test_only_those_who_take_part_get_messages_and_the_closing_message_once(app, client, clock, worker, fake):
    specialist, operation, (anja, bert, carla) = await _setup(app, client, clock)
    url = f"/api/v1/operations/{operation['id']}"
    await _invite(client, specialist, operation["id"])
    for beheerder in (anja, carla):
        await client.post(f"{url}/join", headers=bearer(beheerder.token))
    await client.post(f"{url}/leave", headers=bearer(carla.token))
    sent = await client.post(f"{url}/messages", headers=specialist,
                             json={"text": "Twee mannen proberen deuren aan de Zonnestein; kijk mee, bel 112."})
    assert sent.status_code == 201 and sent.json()["recipients"] == 1
    closed = await client.post(f"{url}/close", headers=specialist, json={"text": "Eén aanhouding. Dank!"})
    assert closed.status_code == 200
    late = await client.post(f"{url}/messages", headers=specialist, json={"text": "Nog iets"})
    assert late.status_code == 409 and problem(late)["code"] == "operation_closed"
    await deliver(worker, fake)

    anja_got = _texts_to(fake, anja)
    assert len(anja_got) == 3 and "Zonnestein" in anja_got[1]
    assert "AFGESLOTEN" in anja_got[2] and "Eén aanhouding" in anja_got[2]
    assert len(_texts_to(fake, bert)) == len(_texts_to(fake, carla)) == 1  # the invitation only

    invitation = (await deliveries_to(app, anja.id))[0].provider_message_id
    after = await webhook(client, typed(anja, "ja", reply_to=invitation))
    await deliver(worker, fake)
    assert after == ["reply"] and "afgesloten" in _texts_to(fake, anja)[-1]
    assert (await _participants(client, specialist, operation["id"]))[anja.id] == "joined"


async def test_a_plain_ja_without_an_invitation_is_still_a_report(app, client, clock, worker):
    beheerder = await builders.beheerder(app, wijkcode=WESTWIJK)
    assert await webhook(client, typed(beheerder, "ja")) == ["created"]
