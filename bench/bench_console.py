"""Console benchmark: the operators' reads on a database with a year of history behind 25 open incidents.

A year: 20,000 incidents (closed, except the last 25) with 50,000 reports from the demo groups, feedback on
most of them and the audit entries of their claims and decisions. Timed in-process through the API (ASGI, no
network), as the console asks: the queue, a search for a common word and for a word of one report (all
statuses, a page of 50), the timeline of an incident, and its merge suggestions. Median and worst of the runs.

    .venv/bin/python bench/bench_console.py [--postgres] [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audit.models import AuditEntry  # noqa: E402
from app.cli import alembic_config  # noqa: E402
from app.core.database import utcnow  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.demo import seed_demo  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.incidents.models import Incident  # noqa: E402
from app.intake.models import Report, ReportFeedback  # noqa: E402
from app.registry.models import Group, Wijk, beheerder_groups  # noqa: E402
from bench.common import report_rows, row, throwaway_database  # noqa: E402

INCIDENTS, OPEN, CHUNK = 20_000, 25, 2_000
RARE = "paarsgestreepte"  # in exactly one report
WORDS = ["inbraak", "auto", "fiets", "scooter", "breekijzer", "achterdeur", "schuur", "tas", "jas", "capuchon",
         "raam", "portier", "bestelbus", "hond", "alarm", "garage", "winkel", "station", "park", "school"]
STREETS = ["Zonnestein", "Poortwachter", "Bankrasweg", "Ouderkerkerlaan", "Sportlaan", "Zeedijk", "Nieuwmarkt",
           "Bovenkerkerweg", "Middenhovenlaan", "Kromgouw"]


def _text(rng: random.Random) -> str:
    words = " ".join(rng.sample(WORDS, 4))
    return f"Melding bij de {rng.choice(STREETS)} {rng.randint(1, 200)}: {words}, dader rent weg"


def _incident_rows(rng: random.Random, start: int, groups: list[Any], now: datetime) -> tuple[list[dict], list[list]]:
    """One chunk of incidents, and per incident the reports to write: (text, group, wijk, beheerder, time)."""
    incidents, reports = [], []
    for number in range(start, min(INCIDENTS, start + CHUNK)):
        is_open = number >= INCIDENTS - OPEN
        age = timedelta(minutes=rng.randint(1, 60)) if is_open else timedelta(days=365 * (1 - number / INCIDENTS))
        at = now - age
        group_id, wijk, beheerder_id = rng.choice(groups)
        count = rng.choice((1, 2, 2, 3, 4))
        incidents.append({"status": "open" if is_open else "closed", "urgency": rng.choice(("P1", "P2", "P3")),
                          "category": "delict", "wijk_code": wijk, "report_count": count, "group_ids": [group_id],
                          "summary": "", "overridden": [], "first_report_at": at, "last_report_at": at,
                          "created_at": at, "updated_at": at})
        reports.append([(_text(rng), group_id, wijk, beheerder_id, at + timedelta(minutes=m)) for m in range(count)])
    return incidents, reports


async def _history(sessionmaker: Any) -> int:
    """Writes the year; returns the id of the last (open) incident."""
    rng = random.Random(13)
    async with sessionmaker() as session:
        with tempfile.TemporaryDirectory() as tmp:
            await seed_demo(session, Settings(environment="test"), Path(tmp) / "credentials.json")
        groups = list((await session.execute(select(Group.id, Wijk.code, beheerder_groups.c.beheerder_id)
                                             .join(Wijk, Wijk.id == Group.wijk_id)
                                             .join(beheerder_groups, beheerder_groups.c.group_id == Group.id))).all())
        now, case = utcnow(), 0
        for start in range(0, INCIDENTS, CHUNK):
            incidents, per_incident = _incident_rows(rng, start, groups, now)
            ids = (await session.execute(insert(Incident).returning(Incident.id), incidents)).scalars().all()
            reports = []
            for incident_id, own in zip(ids, per_incident, strict=True):
                for body, group_id, wijk, beheerder_id, at in own:
                    case += 1
                    reports.append({"case_number": f"MK-B-{case:07d}", "beheerder_id": beheerder_id,
                                    "group_id": group_id, "source_wijk_code": wijk, "channel": "api",
                                    "request_hash": "x", "text": body, "text_original": body, "received_at": at,
                                    "status": "afgehandeld", "advice": [], "urgency": "P2", "category": "delict",
                                    "wijk_code": wijk, "incident_id": incident_id})
            if start == 0:
                reports[7]["text"] = reports[7]["text_original"] = f"Een {RARE} sjaal bij de Zonnestein"
            report_ids = (await session.execute(insert(Report).returning(Report.id), reports)).scalars().all()
            await session.execute(insert(ReportFeedback), [
                {"report_id": rid, "at": now, "kind": "note", "text": f"Uw melding: {_text(rng)}"}
                for rid in report_ids if rng.random() < 0.7])
            await session.execute(insert(AuditEntry), [
                {"at": now, "actor_type": "staff", "actor_id": 2, "actor_name": "operator", "action": action,
                 "target_type": "incident", "target_id": str(iid),
                 "detail": {"fields": ["follow_up"], "values": {"follow_up": "ter_plaatse"}, "reason": None}}
                for iid in ids for action in ("incident.claim", "incident.update", "incident.release")])
            await session.commit()
        return int(ids[-1])


async def _time(client: httpx.AsyncClient, url: str, runs: int) -> dict[str, float]:
    durations = []
    await client.get(url)  # the first read of each also loads what the app keeps (the knowledge base, ...)
    for _ in range(runs):
        started = time.perf_counter()
        response = await client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return {"median_ms": round(statistics.median(durations), 1), "worst_ms": round(max(durations), 1)}


def _migrate(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


async def bench(url: str, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url, environment="test", data_dir=Path(tmp), log_json=False,  # type: ignore[call-arg]
                            broadcast_worker_in_app=False)
        app = create_app(settings, configure_logs=False)
        try:
            started = time.perf_counter()
            incident_id = await _history(app.state.sessionmaker)
            async with app.state.engine.begin() as connection:  # as autovacuum would (PostgreSQL plans from it)
                await connection.execute(text("ANALYZE"))
            filled = round(time.perf_counter() - started, 1)
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
                from app.auth import service as auth

                async with app.state.sessionmaker() as session:
                    await auth.create_staff_user(session, None, username="bench", display_name="Bench",
                                                 role="operator", password="bench-wachtwoord-1")
                    await session.commit()
                token = (await client.post("/api/v1/auth/login", json={
                    "username": "bench", "password": "bench-wachtwoord-1"})).json()["access_token"]
                client.headers["Authorization"] = f"Bearer {token}"
                reads = {
                    "queue (open, 200)": "/api/v1/queue?limit=200",
                    "search common word, all statuses": "/api/v1/incidents/search?q=breekijzer&status=&limit=50",
                    "search two words, all statuses":
                        "/api/v1/incidents/search?q=scooter%20zonnestein&status=&limit=50",
                    "search one report's word, all statuses": f"/api/v1/incidents/search?q={RARE}&status=&limit=50",
                    "search open incidents": "/api/v1/incidents/search?q=breekijzer&limit=50",
                    "timeline": f"/api/v1/incidents/{incident_id}/timeline",
                    "merge suggestions": f"/api/v1/incidents/{incident_id}/duplicates",
                }
                await client.get(reads["queue (open, 200)"])  # warm up
                timings = {name: await _time(client, path, runs) for name, path in reads.items()}
        finally:
            await app.state.engine.dispose()
    return {"database": "postgresql" if url.startswith("postgresql") else "sqlite", "incidents": INCIDENTS,
            "fill_seconds": filled, "reads": timings}



def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, throwaway_database(args.postgres, Path(tmp)) as url:
        _migrate(url)
        result = asyncio.run(bench(url, args.runs))
    report_rows([row(f"console {result['database']}: {name}", metric, timing[key], "ms")
                 for name, timing in result["reads"].items()
                 for metric, key in (("p50", "median_ms"), ("max", "worst_ms"))])
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for name, timing in result["reads"].items():
        print(f"| {result['database']} | {name} | {timing['median_ms']} ms | {timing['worst_ms']} ms |")


if __name__ == "__main__":
    main()
