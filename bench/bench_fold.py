"""Fold benchmark: how long `fold_changes` takes for 1, 10 and 100 queued reports on the database that
bench/bench_stats.py keeps (`--keep DIR` there; the same DIR here).

Each measurement queues the changes of N reports received in the last `--days` days (seeded choice), folds
them and rolls the whole transaction back, so every run, of whichever code, starts from the same database.
The floor, measured in the same run: the fold of an empty queue (the alerts' queue, the lock, the queue's
maximum id). Figures in ms: median, min and max of `--runs` folds after two warm-ups per size. The
evaluation's tables are vacuumed first: the rolled-back folds of earlier runs leave dead rows behind that an
index scan of a day's rows would wade through (autovacuum, on a live database, clears them).

    .venv/bin/python bench/bench_fold.py --keep DIR [--sizes 1 10 100] [--runs 7] [--days 7] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.core.database import create_engine, create_sessionmaker, utcnow  # noqa: E402
from app.intake.models import Report  # noqa: E402
from app.stats.facts import fold_changes  # noqa: E402
from app.stats.models import FactChange  # noqa: E402
from tests.support.postgres import PostgresServer  # noqa: E402

EVALUATION_TABLES = ("report_facts", "report_day_counts", "report_week_counts", "report_month_counts",
                     "report_day_durations", "report_month_durations", "report_fact_changes")


async def _fold_ms(sessionmaker: Any, report_ids: list[int]) -> float:
    async with sessionmaker() as session:
        if report_ids:
            await session.execute(insert(FactChange), [{"report_id": report_id} for report_id in report_ids])
        started = time.perf_counter()
        await fold_changes(session)
        elapsed = (time.perf_counter() - started) * 1000
        await session.rollback()
    return elapsed


async def measure(url: str, sizes: list[int], runs: int, days: int) -> dict[str, dict[str, float]]:
    engine = create_engine(url)
    sessionmaker = create_sessionmaker(engine)
    rng = random.Random(15)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(f"VACUUM ANALYZE {', '.join(EVALUATION_TABLES)}"))
        async with sessionmaker() as session:
            recent = list(await session.scalars(select(Report.id).where(
                Report.received_at >= utcnow() - timedelta(days=days)).order_by(Report.id)))
        results = {}
        for size in [0, *sizes]:
            times = [await _fold_ms(sessionmaker, rng.sample(recent, size)) for _ in range(runs + 2)][2:]
            results["empty queue" if size == 0 else f"{size} reports"] = {
                "p50_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1),
                "max_ms": round(max(times), 1)}
        return results
    finally:
        await engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, required=True, help="the directory bench_stats.py --keep loaded")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server = PostgresServer(args.keep)
    server.start_again()
    try:
        results = asyncio.run(measure(server.url, args.sizes, args.runs, args.days))
    finally:
        server.stop_only()
    if args.json:
        print(json.dumps(results))
    else:
        for name, figures in results.items():
            print(f"{name:<12} p50 {figures['p50_ms']:>8} ms  min {figures['min_ms']:>8}  max {figures['max_ms']:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
