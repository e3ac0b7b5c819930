"""Audit pseudonyms benchmark: migration 0027 and the purge of failed logins' account names on a large log.

A log of `--entries` audit entries (2% failed logins, half of them an account's name; 0.1% subject-access
exports; 5% actions of a beheerder; the rest incident claims) and `--events` events (1% participation events
with the beheerder's name). Timed: the upgrade 0024 -> 0027, and against it a floor in the same run (reading
the rows the migration rewrites plus its set-based UPDATEs, rolled back); then the purge of the moved names
after their period, and against it a bare UPDATE clearing the same rows (rolled back). Also the keyed
pseudonym a login computes, per call.

    .venv/bin/python bench/bench_audit_pseudonyms.py [--postgres] [--entries 1000000] [--events 200000] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import timeit
from datetime import timedelta
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import Connection, Engine, create_engine, event, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import alembic_config  # noqa: E402
from app.core.database import create_engine as create_async_engine  # noqa: E402
from app.core.database import create_sessionmaker, utcnow  # noqa: E402
from app.core.pseudonym import pseudonym  # noqa: E402
from app.core.settings import Settings  # noqa: E402
from app.privacy.retention import purge  # noqa: E402
from bench.common import throwaway_database  # noqa: E402

CHUNK = 20_000
LOGIN_ACTIONS = "('login.failed', 'login.locked')"


def _sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def _sync_engine(url: str) -> Engine:
    """pysqlite runs DDL outside a transaction unless told to BEGIN itself: the floor's DROP TRIGGER must roll
    back with the rest."""
    if not url.startswith("sqlite"):
        return create_engine(_sync_url(url))
    engine = create_engine(_sync_url(url), connect_args={"isolation_level": None})

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")

    return engine


def _entry(number: int, at: Any) -> dict[str, Any]:
    base = {"at": at, "actor_type": "staff", "actor_id": 2, "actor_name": "operator", "action": "incident.claim",
            "target_type": "incident", "target_id": str(number), "detail": json.dumps({"extended": False})}
    if number % 50 == 0:  # a failed login: every other one an account's name
        name = "operator" if number % 100 == 0 else f"Wachtwoord{number}!"
        return base | {"actor_type": "anonymous", "actor_id": None, "actor_name": None, "action": "login.failed",
                       "target_type": "login_name", "target_id": name.casefold(),
                       "detail": json.dumps({"username": name, "staff_user_id": 1 if name == "operator" else None})}
    if number % 1000 == 1:
        return base | {"action": "privacy.subject_access", "target_type": "subject", "target_id": f"{number:016x}"}
    if number % 20 == 3:
        return base | {"actor_type": "beheerder", "actor_id": 9, "actor_name": "Anja de Vries",
                       "action": "report.group", "target_type": "report"}
    return base


def _event(number: int, at: Any) -> dict[str, Any]:
    data = {"incident_id": number, "text": ""}
    kind = "incident.updated"
    if number % 100 == 0:
        kind, data = "operation.participant_joined", {"operation_id": 1, "beheerder_id": 9,
                                                      "beheerder_name": "Anja de Vries"}
    return {"type": kind, "at": at, "audience": "staff", "data": json.dumps(data)}


def _fill(engine: Engine, entries: int, events: int) -> None:
    at = utcnow() - timedelta(days=60)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO staff_users (id, username, display_name, role, password_hash, wijkcodes, "
                                "active, failed_logins, created_at) VALUES (1, 'operator', 'Operator', 'operator', "
                                "'x', '[]', true, 0, :at)"), {"at": at})
    for start in range(0, entries, CHUNK):
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO audit_entries (at, actor_type, actor_id, actor_name, action, target_type, target_id, "
                "detail) VALUES (:at, :actor_type, :actor_id, :actor_name, :action, :target_type, :target_id, "
                ":detail)"), [_entry(n, at) for n in range(start, min(start + CHUNK, entries))])
    for start in range(0, events, CHUNK):
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO events (type, at, audience, data) VALUES (:type, :at, :audience, "
                                    ":data)"), [_event(n, at) for n in range(start, min(start + CHUNK, events))])


def _timed_rolled_back(engine: Engine, statements: list[str]) -> float:
    with engine.connect() as connection:
        transaction = connection.begin()
        started = time.perf_counter()
        for statement in statements:
            connection.execute(text(statement))
        elapsed = time.perf_counter() - started
        transaction.rollback()
    return elapsed


def _migration_floor(engine: Engine, postgres: bool) -> float:
    """What the migration cannot avoid: reading the rows it rewrites and set-based UPDATEs of the plain columns."""
    started = time.perf_counter()
    with engine.connect() as connection:
        connection.execute(text(f"SELECT id, detail FROM audit_entries WHERE action IN {LOGIN_ACTIONS}")).all()
        connection.execute(text("SELECT id, data FROM events WHERE type LIKE 'operation.participant_%'")).all()
    reads = time.perf_counter() - started
    drop = "DROP TRIGGER audit_entries_append_only ON audit_entries" if postgres else \
        "DROP TRIGGER audit_entries_no_update"
    return reads + _timed_rolled_back(engine, [
        drop,
        f"UPDATE audit_entries SET target_id = NULL WHERE action IN {LOGIN_ACTIONS} "
        "OR action = 'privacy.subject_access'",
        "UPDATE audit_entries SET actor_name = NULL WHERE actor_type = 'beheerder' AND actor_name IS NOT NULL",
    ])


async def _purge(url: str, data_dir: Path) -> tuple[float, int]:
    far = 3650  # only the login names are due: the other kinds' periods lie beyond the synthetic log
    settings = Settings(database_url=url, environment="test", data_dir=data_dir, retention_login_name_days=28,
                        retention_report_text_days=far, retention_photo_days=far, retention_phone_days=far,
                        retention_note_days=far, retention_reply_days=far, audit_pseudonym_key="bench")
    engine = create_async_engine(url)
    try:
        started = time.perf_counter()
        result = await purge(create_sessionmaker(engine), settings, utcnow(), source="bench")
        return time.perf_counter() - started, result.counts["login_names"]
    finally:
        await engine.dispose()


def run(url: str, entries: int, events: int, data_dir: Path) -> dict[str, Any]:
    postgres = url.startswith("postgresql")
    config = alembic_config(url)
    command.upgrade(config, "0024")
    engine = _sync_engine(url)
    try:
        _fill(engine, entries, events)
        if postgres:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE"))
        floor = _migration_floor(engine, postgres)
        started = time.perf_counter()
        command.upgrade(config, "0027")
        migrate = time.perf_counter() - started
        purge_floor = _timed_rolled_back(engine, [
            "UPDATE audit_personal SET details = NULL, purged_at = CURRENT_TIMESTAMP "
            "WHERE kind = 'login_names' AND purged_at IS NULL"])
        purge_s, purged = asyncio.run(_purge(url, data_dir))
    finally:
        engine.dispose()
    key = b"k" * 64
    per_call = min(timeit.repeat(lambda: pseudonym(key, "jan.de.vries"), number=10_000, repeat=5)) / 10_000
    return {"database": "postgresql" if postgres else "sqlite", "entries": entries, "events": events,
            "migrate_s": round(migrate, 2), "migrate_floor_s": round(floor, 2), "purge_s": round(purge_s, 2),
            "purge_floor_s": round(purge_floor, 2), "names_purged": purged,
            "pseudonym_us": round(per_call * 1e6, 2), "load_average": [round(x, 2) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="start a throwaway PostgreSQL server")
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="meldkamer-bench-") as directory, \
            throwaway_database(args.postgres, Path(directory)) as url:
        outcome = run(url, args.entries, args.events, Path(directory) / "var")
    print(json.dumps(outcome) if args.json else "\n".join(f"{key}: {value}" for key, value in outcome.items()))


if __name__ == "__main__":
    main()
