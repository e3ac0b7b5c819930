"""Live traffic against a running relay, through its public interfaces only: beheerders forward reports over
REST (some with a photo), as signed WhatsApp webhooks (photos too, when a media server is given) and through a
partner app's signed webhook; several groups report one event in a burst; operators claim and close incidents
and alert the wijk; beheerders read their alerts and pass them on. The messages come from app.simulation.texts
and the decisions from app.simulation.scenario, so the mix follows the research report.

`meldkamer simulate` runs it; `make demo` runs it beside `meldkamer serve` at a gentle rate."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import hmac
import io
import json
import random
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from app.intake.whatsapp import compute_signature
from app.simulation import scenario, texts

REST_SHARE, WHATSAPP_SHARE = 0.5, 0.35  # the rest through the partner app (or REST when it is not configured)
PHOTO_SHARE = 0.15  # reports with a photo of the scene
BURST_EVERY = 8  # with --burst: one event in this many is reported by several groups
BURST_SIZE = (3, 5)
ALERT_INTERVAL = 20.0  # seconds between two alerts of one operator: a meldkamer does not alert on every report


@dataclass(frozen=True)
class Reporter:
    token: str
    phone: str
    group_ids: tuple[int, ...]
    wijkcodes: tuple[str, ...]


@dataclass(frozen=True)
class Cast:
    """Who takes part: the beheerders with their tokens and the operators' logins (the demo credentials)."""

    reporters: tuple[Reporter, ...]
    operators: tuple[tuple[str, str], ...]

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any]) -> Cast:
        reporters = tuple(Reporter(b["token"], b["phone"], tuple(b["group_ids"]), tuple(b["wijkcodes"]))
                          for b in credentials["beheerders"] if b["group_ids"])
        operators = tuple((credentials[name]["username"], credentials[name]["password"])
                          for name in ("operator", "operator2") if name in credentials)
        return cls(reporters, operators)


@dataclass(frozen=True)
class Channels:
    """The secrets the webhooks are signed with; a channel without its secret is left out."""

    whatsapp_secret: str | None = None
    partner: tuple[str, str] | None = None  # (name, secret)
    media_server: str | None = None  # a fake Graph API's control URL: WhatsApp photos are uploaded there


@dataclass(frozen=True)
class Pace:
    rate: float  # reports per second, on average (Poisson arrivals)
    duration: float  # seconds; 0 runs until cancelled
    burst: bool = False
    photo_share: float = PHOTO_SHARE
    operator_think: tuple[float, float] = (0.5, 3.0)  # seconds between claiming and deciding
    poll_seconds: float = 2.0  # how often operators look at the queue and beheerders at their alerts
    forward_share: float = scenario.FORWARD_SHARE  # of the alerts a beheerder reads, the share passed on


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)

    def note(self, what: str, count: int = 1) -> None:
        self.counts[what] += count

    def as_dict(self) -> dict[str, int]:
        return dict(sorted(self.counts.items()))


def load_streets(path: Path) -> dict[str, list[str]]:
    """Street names per wijkcode from the gazetteer CSV (street,wijkcode,lat,lon)."""
    streets: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            streets.setdefault(row["wijkcode"], []).append(row["street"])
    return streets


def small_jpeg(rng: random.Random) -> bytes:
    image = Image.new("RGB", (64, 48), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=70)
    return out.getvalue()


class Simulation:
    def __init__(self, client: httpx.AsyncClient, cast: Cast, channels: Channels, streets: dict[str, list[str]],
                 pace: Pace, rng: random.Random) -> None:
        self.client, self.cast, self.channels, self.streets = client, cast, channels, streets
        self.pace, self.rng = pace, rng
        # Operators and beheerders draw from a stream of their own, and each report from one seeded when it is
        # scheduled: how fast the server answers then changes who acts when, never what the reports say.
        self.staff_rng = random.Random(rng.getrandbits(64))
        self.tally = Tally()
        self.alerted_wijken: set[str] = set()
        self._seen_alerts: set[int] = set()
        self._handled: set[int] = set()
        self._last_alert: dict[str, float] = {}
        self._stop = asyncio.Event()

    # --- the run -----------------------------------------------------------------------------------------

    async def run(self) -> dict[str, int]:
        """Sends reports for the duration while operators and beheerders work along; then lets the last
        reports land and gives operators and beheerders one more round, so that every report is seen."""
        logins = [await self._login(user, password) for user, password in self.cast.operators]
        tokens = [token for token in logins if token]
        staff = [asyncio.create_task(self._repeat(partial(self._operator_round, token))) for token in tokens]
        staff.append(asyncio.create_task(self._repeat(self._beheerder_round)))
        try:
            await self._send_reports()
        finally:
            self._stop.set()  # each finishes the round it is in: no incident left claimed and undecided
            await asyncio.gather(*staff, return_exceptions=True)
        for token in tokens:
            await self._operator_round(token)
        await self._beheerder_round()
        return self.tally.as_dict()

    async def _send_reports(self) -> None:
        pending: set[asyncio.Task[None]] = set()
        started, index = time.monotonic(), 0
        next_at = started
        while not self.pace.duration or next_at - started < self.pace.duration:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            burst = self.pace.burst and index % BURST_EVERY == 0
            report_rng = random.Random(self.rng.getrandbits(64))
            task = asyncio.create_task(self._burst(report_rng) if burst else self._one_report(report_rng))
            pending.add(task)
            task.add_done_callback(pending.discard)
            index += 1
            next_at += self.rng.expovariate(self.pace.rate)
        await asyncio.gather(*pending, return_exceptions=True)

    async def _repeat(self, work: Callable[[], Awaitable[None]]) -> None:
        while not self._stop.is_set():
            pause = self.staff_rng.uniform(0.5, 1.5) * self.pace.poll_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)
                return
            try:
                await work()
            except httpx.TransportError:
                self.tally.note("transport_error")

    # --- beheerders report -------------------------------------------------------------------------------

    async def _one_report(self, rng: random.Random) -> None:
        reporter = rng.choice(self.cast.reporters)
        wijkcode = rng.choice(reporter.wijkcodes)
        message = texts.message(rng, self.streets.get(wijkcode) or ["Dorpsstraat"])
        await self._send(rng, reporter, message.text, called_112=message.called_112)

    async def _burst(self, rng: random.Random) -> None:
        """One event that several groups of a wijk report within seconds, each in their own words."""
        wijk_of = {code: [r for r in self.cast.reporters if code in r.wijkcodes]
                   for r in self.cast.reporters for code in r.wijkcodes}
        crowded = [code for code, members in wijk_of.items() if len(members) >= 2] or list(wijk_of)
        wijkcode = rng.choice(crowded)
        street = rng.choice(self.streets.get(wijkcode) or ["Dorpsstraat"])
        template = rng.choice(texts.DELICT["woninginbraak"][1:2] + texts.SIGNALEMENT["autokraak"])
        reporters = rng.sample(wijk_of[wijkcode], min(len(wijk_of[wijkcode]), rng.randint(*BURST_SIZE)))
        self.tally.note("bursts")
        for reporter in reporters:
            text = texts.chat_style(rng, template.format(
                now=rng.choice(texts.NOW), street=street.lower(), clothes=rng.choice(texts.CLOTHES),
                build=rng.choice(texts.BUILDS), direction=rng.choice(texts.DIRECTIONS)))
            await self._send(rng, reporter, text, called_112=rng.random() < texts.CALLED_112_SHARE)
            await asyncio.sleep(rng.uniform(0.1, 1.0))

    async def _send(self, rng: random.Random, reporter: Reporter, text: str, *, called_112: bool) -> None:
        draw = rng.random()
        try:
            if draw < WHATSAPP_SHARE and self.channels.whatsapp_secret:
                await self._whatsapp(rng, reporter, text)
            elif draw > REST_SHARE + WHATSAPP_SHARE and self.channels.partner:
                await self._partner(rng, reporter, text, called_112)
            else:
                await self._rest(rng, reporter, text, called_112)
        except httpx.TransportError:
            self.tally.note("transport_error")

    def _answered(self, channel: str, response: httpx.Response) -> None:
        if response.status_code in (200, 201):
            self.tally.note(f"reports_{channel}")
        else:
            self.tally.note(f"refused_{response.status_code}")

    async def _rest(self, rng: random.Random, reporter: Reporter, text: str, called_112: bool) -> None:
        report = {"text": text, "group_id": rng.choice(reporter.group_ids), "called_112": called_112}
        headers = {"Authorization": f"Bearer {reporter.token}", "Idempotency-Key": str(uuid.uuid4())}
        if rng.random() < self.pace.photo_share:
            files: dict[str, tuple[str | None, bytes, str]] = {
                "report": (None, json.dumps(report).encode(), "application/json"),
                "photos": ("foto.jpg", small_jpeg(rng), "image/jpeg")}
            response = await self.client.post("/api/v1/reports", files=files, headers=headers)
            self.tally.note("photos_rest", response.status_code == 201)
        else:
            response = await self.client.post("/api/v1/reports", json=report, headers=headers)
        self._answered("rest", response)

    async def _whatsapp(self, rng: random.Random, reporter: Reporter, text: str) -> None:
        wa_id = reporter.phone.lstrip("+")
        message: dict[str, Any] = {"from": wa_id, "id": f"wamid.sim{secrets.token_hex(12)}",
                                   "timestamp": str(int(time.time()))}
        if self.channels.media_server and rng.random() < self.pace.photo_share:
            media_id = await self._upload_media(rng)
            message |= {"type": "image", "image": {"id": media_id, "mime_type": "image/jpeg", "caption": text,
                                                   "sha256": secrets.token_hex(32)}}
            self.tally.note("photos_whatsapp")
        else:
            message |= {"type": "text", "text": {"body": text}}
        raw = json.dumps(_whatsapp_payload(message)).encode()
        assert self.channels.whatsapp_secret is not None
        response = await self.client.post("/webhooks/whatsapp", content=raw, headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": compute_signature(raw, self.channels.whatsapp_secret)})
        self._answered("whatsapp", response)

    async def _upload_media(self, rng: random.Random) -> str:
        assert self.channels.media_server is not None
        media_id = str(rng.randrange(10**15, 10**16))
        await self.client.put(f"{self.channels.media_server}/_fake/media/{media_id}",
                              content=small_jpeg(rng), headers={"Content-Type": "image/jpeg"})
        return media_id

    async def _partner(self, rng: random.Random, reporter: Reporter, text: str, called_112: bool) -> None:
        assert self.channels.partner is not None
        name, secret = self.channels.partner
        raw = json.dumps({"message_id": str(uuid.uuid4()), "beheerder_phone": reporter.phone,
                          "report": {"text": text, "group_id": rng.choice(reporter.group_ids),
                                     "called_112": called_112}}).encode()
        stamp = str(int(time.time()))
        signature = "sha256=" + hmac.new(secret.encode(), stamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        response = await self.client.post(f"/webhooks/partner/{name}", content=raw, headers={
            "Content-Type": "application/json", "X-Meldkamer-Timestamp": stamp, "X-Meldkamer-Signature": signature})
        self._answered("partner", response)

    # --- operators ---------------------------------------------------------------------------------------

    async def _login(self, username: str, password: str) -> str | None:
        response = await self.client.post("/api/v1/auth/login", json={"username": username, "password": password})
        if response.status_code != 200:
            self.tally.note(f"login_refused_{response.status_code}")
            return None
        return str(response.json()["access_token"])

    async def _operator_round(self, token: str) -> None:
        """Claims the open incidents nobody holds, most urgent first, and decides on them side by side (a
        centralist has several on the go): a round takes one think time, not one per incident."""
        headers = {"Authorization": f"Bearer {token}"}
        response = await self.client.get("/api/v1/queue", params={"limit": 20}, headers=headers)
        if response.status_code != 200:
            self.tally.note(f"queue_refused_{response.status_code}")
            return
        fresh = [incident for incident in response.json()["items"]
                 if incident["claimed_by"] is None and incident["id"] not in self._handled]
        self._handled.update(incident["id"] for incident in fresh)
        await asyncio.gather(*(self._decide(headers, incident) for incident in fresh))

    async def _decide(self, headers: dict[str, str], incident: dict[str, Any]) -> None:
        claimed = await self.client.post(f"/api/v1/incidents/{incident['id']}/claim", headers=headers)
        if claimed.status_code != 200:
            self.tally.note(f"claim_refused_{claimed.status_code}")  # another operator was quicker
            return
        self.tally.note("claims")
        await asyncio.sleep(self.staff_rng.uniform(*self.pace.operator_think))
        await self._maybe_alert(headers, incident)
        category = incident["category"] or "overig"
        decision = scenario.decide(self.staff_rng, urgency=incident["urgency"], category=category, intended=category,
                                   appearance_only=False)
        change: dict[str, Any] = {"close": True, "follow_up": decision.follow_up or "geen_opvolging"}
        if decision.result:
            change["result"] = decision.result
        closed = await self.client.patch(f"/api/v1/incidents/{incident['id']}", json=change, headers=headers)
        self.tally.note("closed" if closed.status_code == 200 else f"close_refused_{closed.status_code}")

    async def _maybe_alert(self, headers: dict[str, str], incident: dict[str, Any]) -> None:
        """Several groups about one event, or a P1 in progress, gets an alarm to the beheerders of its wijk."""
        wijkcode = incident["wijkcode"]
        several_groups = incident["group_count"] >= 2
        if wijkcode is None or not (several_groups or incident["urgency"] in ("P1", "P2")):
            return
        kind = "heterdaad" if several_groups else scenario.alert_kind(
            self.staff_rng, incident["urgency"], incident["category"] or "overig", in_progress=True)
        if kind is None or not self._alert_allowed(headers["Authorization"]):
            return
        text = texts.alert_text(self.staff_rng, kind, self.streets.get(wijkcode) or ["Dorpsstraat"])
        body = {"kind": kind, "text": text, "target": {"wijkcodes": [wijkcode]}, "incident_id": incident["id"]}
        response = await self.client.post("/api/v1/broadcasts", json=body, headers=headers)
        if response.status_code == 422 and "warnings" in response.text:
            codes = [w["code"] for w in response.json().get("warnings", [])]
            response = await self.client.post("/api/v1/broadcasts", json={**body, "confirm_warnings": codes},
                                              headers=headers)
        if response.status_code == 201:
            self.tally.note("alerts")
            self.alerted_wijken.add(wijkcode)
        else:
            self.tally.note(f"alert_refused_{response.status_code}")

    def _alert_allowed(self, operator: str) -> bool:
        now = time.monotonic()
        last = self._last_alert.get(operator)
        if last is not None and now - last < ALERT_INTERVAL:
            return False
        self._last_alert[operator] = now
        return True

    # --- beheerders answer alerts ------------------------------------------------------------------------

    async def _beheerder_round(self) -> None:
        """The beheerders of alerted wijken look at their alerts and most pass each one on to their groups."""
        targets = [r for r in self.cast.reporters if self.alerted_wijken.intersection(r.wijkcodes)]
        for reporter in targets:
            headers = {"Authorization": f"Bearer {reporter.token}"}
            response = await self.client.get("/api/v1/alerts", params={"limit": 10}, headers=headers)
            if response.status_code != 200:
                continue
            for alert in response.json()["items"]:
                await self._answer_alert(headers, alert)

    async def _answer_alert(self, headers: dict[str, str], alert: dict[str, Any]) -> None:
        if alert["delivery_id"] in self._seen_alerts or alert["forwarded_at"] is not None:
            return
        self._seen_alerts.add(alert["delivery_id"])
        self.tally.note("alerts_read")
        if self.staff_rng.random() < self.pace.forward_share:
            response = await self.client.post(f"/api/v1/alerts/{alert['delivery_id']}/forwarded", headers=headers)
            self.tally.note("forwards" if response.status_code == 200 else f"forward_refused_{response.status_code}")


def _whatsapp_payload(message: dict[str, Any]) -> dict[str, Any]:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "31850001234", "phone_number_id": "simulator"},
             "contacts": [{"profile": {"name": "Beheerder"}, "wa_id": message["from"]}], "messages": [message]}
    return {"object": "whatsapp_business_account", "entry": [{"id": "simulator", "changes": [
        {"value": value, "field": "messages"}]}]}


async def wait_until_ready(client: httpx.AsyncClient, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.5)
    return False

