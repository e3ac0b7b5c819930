"""`meldkamer simulate`: a few seconds of live traffic through the public interfaces leave what a meldkamer
would see: reports from every channel (with photos), an event several groups reported as one incident, claims
and closed incidents, an alert to the wijk, and beheerders passing it on."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.broadcast.models import Broadcast, Delivery
from app.cli import cli
from app.core.settings import Settings, config_dir
from app.incidents.models import Incident
from app.intake.models import Report, ReportPhoto
from app.simulation import live
from tests.support.settings import TEST_SECRETS

PARTNER_SECRET = "partner-secret"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"partner_secrets": {"waaksamen": SecretStr(PARTNER_SECRET)}})


async def _count(app, *where) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).where(*where)) or 0)


async def test_a_few_seconds_of_traffic_reach_the_queue_the_operators_and_the_beheerders(app, client, demo):
    channels = live.Channels(whatsapp_secret=TEST_SECRETS["whatsapp_app_secret"],
                             partner=("waaksamen", PARTNER_SECRET))
    # Operators take two seconds over a decision, longer than a burst's first two reports are apart: the second
    # group's report finds the incident still open however fast this machine answers. Every alert read is
    # passed on, so that the forward below does not hang on a draw.
    pace = live.Pace(rate=6, duration=3, burst=True, photo_share=0.5, operator_think=(2, 2), poll_seconds=0.5,
                     forward_share=1.0)
    streets = live.load_streets(config_dir() / "geo" / "streets.csv")
    simulation = live.Simulation(client, live.Cast.from_credentials(demo), channels, streets, pace,
                                 random.Random(16))
    tally = await simulation.run()

    async with app.state.sessionmaker() as session:
        by_channel = Counter((await session.scalars(select(Report.channel))).all())
        sizes = (await session.execute(
            select(Report.incident_id, func.count(func.distinct(Report.group_id))).group_by(Report.incident_id))).all()
    accepted = tally["reports_rest"] + tally["reports_whatsapp"] + tally["reports_partner"]
    assert sum(by_channel.values()) == accepted, tally
    assert by_channel["api"] and by_channel["whatsapp"] and by_channel["partner:waaksamen"], by_channel
    assert await _count(app, ReportPhoto.id.isnot(None)) >= 1
    assert max(groups for _, groups in sizes) >= 2  # a burst: several groups, one incident
    assert tally["claims"] >= 1 and await _count(app, Incident.status == "closed") >= 1
    assert await _count(app, Broadcast.incident_id.isnot(None)) >= 1
    assert await _count(app, Delivery.forwarded_at.isnot(None), Delivery.forwarded_via == "portal") >= 1
    assert not [key for key in tally if key.startswith(("refused_500", "close_refused", "alert_refused"))], tally


def test_the_command_explains_itself() -> None:
    result = CliRunner().invoke(cli, ["simulate", "--help"])
    assert result.exit_code == 0
    assert "--rate" in result.output and "--burst" in result.output and "--target" in result.output
