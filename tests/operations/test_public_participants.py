"""Public participants of an evenement or vermissing: anyone sends the keyword from the posters to the WhatsApp
number (through the signed webhook), gets the consent text, takes part after "ja", reports like any report
(triaged, tagged with the operation), receives the operation's messages and closing message, can STOP, and is
forgotten at closing plus the retention period: the number is then nowhere in the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app.core.database import Base
from app.intake.models import Report
from app.operations.sweeper import OperationSweeper
from app.registry.models import Beheerder
from tests.fakes.graph_api import FakeGraphApi, text_message
from tests.support import builders
from tests.support.broadcast import deliver
from tests.support.http import bearer, problem
from tests.support.operations import WESTWIJK, create, webhook

VISITOR, OTHER_VISITOR = "31611122233", "31644455566"
BEACH = {"name": "BeachAlert Zandvoort", "kind": "evenement", "keyword": "beachalert",
         "area": {"wijkcodes": [WESTWIJK]}, "starts_at": "2026-12-12T10:00:00", "ends_at": "2026-12-12T18:00:00",
         "briefing": "Let op kinderen die hun ouders kwijt zijn. Bel 112, ga niet zelf zoeken in zee."}


def _texts_to(fake: FakeGraphApi, wa_id: str) -> list[str]:
    return [sent.payload["text"]["body"] if sent.type == "text" else
            sent.payload["template"]["components"][0]["parameters"][0]["text"]
            for sent in fake.sent if sent.wa_id == wa_id]


async def _open_beach(app, client, clock, **overrides: Any) -> tuple[dict[str, str], dict[str, Any]]:
    """Nobody joins from the beheerders: the operation reaches the public only."""
    await builders.wijk(app, WESTWIJK)
    specialist = bearer((await builders.staff(app, "specialist")).token)
    clock.set_local("2026-12-12T11:00")
    operation = await create(client, specialist, **{**BEACH, **overrides})
    assert operation["status"] == "open"
    return specialist, operation


async def _say(client, wa_id: str, text: str) -> str:
    [outcome] = await webhook(client, text_message(wa_id, text))
    return outcome


async def _reports(app) -> list[Report]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def _join(client, worker, fake) -> None:
    assert await _say(client, VISITOR, "BeachAlert") == "public"
    assert await _say(client, VISITOR, "ja") == "public"
    await deliver(worker, fake)


async def test_a_visitor_joins_by_keyword_after_consent_reports_and_receives_the_operations_messages(
        app, client, clock, worker, fake):
    await builders.beheerder(app, wijkcode=WESTWIJK)
    async with app.state.sessionmaker() as session:
        beheerders_before = await session.scalar(select(func.count(Beheerder.id)))
    specialist, operation = await _open_beach(app, client, clock)

    assert await _say(client, VISITOR, "Beachalert!") == "public"
    await deliver(worker, fake)
    [consent] = _texts_to(fake, VISITOR)
    assert "STOP" in consent and "28 dagen na het einde" in consent and "telefoonnummer" in consent

    # Before "ja" nothing is a report.
    assert await _say(client, VISITOR, "Klein meisje in roze badpak alleen bij paal 12") == "public"
    assert await _reports(app) == []
    assert await _say(client, VISITOR, "ja") == "public"
    await deliver(worker, fake)
    assert "U doet mee" in _texts_to(fake, VISITOR)[-1]

    assert await _say(client, VISITOR, "Zojuist klein meisje in roze badpak alleen bij strandpaal 12, huilt") \
        == "created"
    [report] = await _reports(app)
    assert (report.operation_id, report.beheerder_id, report.channel) == (operation["id"], None, "whatsapp")
    assert report.public_participant_id is not None and report.urgency is not None  # triaged like any report
    incident = (await client.get(f"/api/v1/incidents/{report.incident_id}", headers=specialist)).json()
    assert [r["group_name"] for r in incident["reports"]] == [f"publiek (actie #{operation['id']})"]

    sent = await client.post(f"/api/v1/operations/{operation['id']}/messages", headers=specialist,
                             json={"text": "Het meisje is gevonden bij paal 14. Dank u wel."})
    assert sent.status_code == 201 and sent.json()["recipients"] == 1
    await deliver(worker, fake)
    assert "Het meisje is gevonden" in _texts_to(fake, VISITOR)[-1]

    detail = (await client.get(f"/api/v1/operations/{operation['id']}", headers=specialist)).json()
    assert detail["keyword"] == "BEACHALERT"
    assert detail["public_participants"] == {"consent_asked": 0, "joined": 1, "left": 0}
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count(Beheerder.id))) == beheerders_before


async def test_stop_ends_it_and_later_messages_are_no_reports_and_get_nothing_of_the_operation(
        app, client, clock, worker, fake):
    specialist, operation = await _open_beach(app, client, clock)
    await _join(client, worker, fake)
    assert await _say(client, VISITOR, "STOP") == "public"
    await deliver(worker, fake)
    assert "niet meer mee" in _texts_to(fake, VISITOR)[-1]

    assert await _say(client, VISITOR, "Er zwemt iemand ver buiten de boeien") == "public"
    await deliver(worker, fake)
    assert "Stuur BEACHALERT" in _texts_to(fake, VISITOR)[-1]
    assert await _reports(app) == []
    before = len(_texts_to(fake, VISITOR))
    refused = await client.post(f"/api/v1/operations/{operation['id']}/messages", headers=specialist,
                                json={"text": "Let op bij paal 20."})
    assert refused.status_code == 409 and problem(refused)["code"] == "no_participants"
    assert len(_texts_to(fake, VISITOR)) == before


def _rows_with(rows: list[Any], digits: str) -> list[str]:
    return [repr(row) for row in rows if digits in repr(tuple(row))]


async def _tables_holding(app, digits: str) -> dict[str, list[str]]:
    """Every row of every table, searched for the number (in any column, JSON payloads included)."""
    found: dict[str, list[str]] = {}
    async with app.state.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            rows = list((await session.execute(select(table))).all())
            if hits := _rows_with(rows, digits):
                found[table.name] = hits
    return found


async def test_the_closing_message_reaches_them_and_their_number_is_gone_after_closing_plus_retention(
        app, client, settings, clock, worker, fake):
    specialist, operation = await _open_beach(app, client, clock)
    await _join(client, worker, fake)
    assert await _say(client, VISITOR, "Man met verrekijker fotografeert kinderen bij de douches") == "created"
    clock.set_local("2026-12-12T17:00")
    closed = await client.post(f"/api/v1/operations/{operation['id']}/close", headers=specialist,
                               json={"text": "Iedereen is veilig thuis."})
    assert closed.status_code == 200
    await deliver(worker, fake)
    closing = _texts_to(fake, VISITOR)[-1]
    assert "AFGESLOTEN" in closing and "Iedereen is veilig thuis." in closing

    assert await _say(client, OTHER_VISITOR, "BEACHALERT") == "public"  # the keyword after closing
    await deliver(worker, fake)
    assert "is afgelopen" in _texts_to(fake, OTHER_VISITOR)[-1]
    assert await _say(client, VISITOR, "Nog een verdacht persoon bij paal 3") == "public"
    await deliver(worker, fake)
    assert "is afgelopen" in _texts_to(fake, VISITOR)[-1]
    assert len(await _reports(app)) == 1  # after closing nothing is a report of the operation
    day = (await client.get(f"/api/v1/operations/{operation['id']}/report", headers=specialist)).json()
    assert (day["public_participants"], day["reports"]) == ({"consent_asked": 0, "joined": 1, "left": 0}, 1)
    csv = (await client.get(f"/api/v1/operations/{operation['id']}/report?format=csv", headers=specialist)).text
    assert "publiek,joined,doet mee,1" in csv

    sweeper = OperationSweeper(app.state.sessionmaker, settings, clock)
    clock.now += timedelta(days=settings.operation_public_retention_days) - timedelta(minutes=1)
    await sweeper.sweep()
    assert set(await _tables_holding(app, VISITOR)) >= {"operation_public_participants", "whatsapp_statuses"}

    clock.now += timedelta(minutes=2)
    await sweeper.sweep()
    assert await _tables_holding(app, VISITOR) == {}
    assert await _tables_holding(app, OTHER_VISITOR) == {}
    [report] = await _reports(app)
    assert report.operation_id == operation["id"] and report.text.startswith("Man met verrekijker")


async def test_a_keyword_is_only_for_evenement_and_vermissing_and_not_reused_at_the_same_time(app, client, clock):
    specialist, _ = await _open_beach(app, client, clock)
    same_time = await client.post("/api/v1/operations", headers=specialist, json={
        **BEACH, "name": "Vermissing strand", "kind": "vermissing", "keyword": "BeachAlert",
        "starts_at": "2026-12-12T17:00:00", "ends_at": "2026-12-12T20:00:00"})
    body = problem(same_time)
    assert same_time.status_code == 409 and body["code"] == "keyword_taken"
    assert "BeachAlert Zandvoort" in body["detail"] and body["title"] == "Trefwoord al in gebruik"

    next_week = await create(client, specialist, **{**BEACH, "starts_at": "2026-12-19T10:00:00",
                                                    "ends_at": "2026-12-19T18:00:00"})
    assert next_week["status"] == "gepland"
    await builders.beheerder(app, wijkcode=WESTWIJK)  # a DDO needs beheerders to invite
    for kind, keyword in (("ddo", "DDOWEST"), ("evenement", "stop")):
        refused = await client.post("/api/v1/operations", headers=specialist, json={
            **BEACH, "kind": kind, "keyword": keyword, "starts_at": "2026-12-26T10:00:00",
            "ends_at": "2026-12-26T18:00:00"})
        assert refused.status_code == 422, refused.text
        assert problem(refused)["title"] == "Ongeldige invoer"


async def test_the_keyword_of_an_operation_that_has_not_started_says_when_it_starts(app, client, clock, worker, fake):
    await builders.wijk(app, WESTWIJK)
    specialist = bearer((await builders.staff(app, "specialist")).token)
    clock.set_local("2026-12-12T08:00")
    await create(client, specialist, **BEACH)
    assert await _say(client, VISITOR, "beachalert") == "public"
    await deliver(worker, fake)
    [answer] = _texts_to(fake, VISITOR)
    assert "begint za 12-12 10:00" in answer and "BEACHALERT" in answer
    assert await _say(client, VISITOR, "ja") == "public"  # no consent was asked: nothing to agree to
    assert await _reports(app) == []
