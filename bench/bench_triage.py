"""Throughput of the triage engine: reports/s through triage() on one core, including location.

    .venv/bin/python bench/bench_triage.py [--repeat 100] [--runs 5]

The dev set (tests/data/triage-dev.jsonl) is repeated to make the workload. Rates are per CPU second of
this process (time.process_time), pinned to one core, so other load on the machine skews them less.
A floor is measured in the same run: a bare loop over the same texts that only lower-cases and tokenises
them with one regex. The ratio floor/engine says how many times slower the full engine is than doing
nothing useful, which makes the figure comparable across machines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.triage.engine import ReportFacts, triage  # noqa: E402
from app.triage.evaluation import read_items  # noqa: E402
from app.triage.knowledge import load_knowledge_base_from_dir  # noqa: E402
from bench.common import report_rows, row  # noqa: E402

_TOKEN = re.compile(r"\w+")


def _pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        try:
            core = min(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {core})
            return f"pinned to core {core}"
        except OSError:
            pass
    return "not pinned"


def _floor(texts: list[str]) -> int:
    count = 0
    for text in texts:
        count += len(_TOKEN.findall(text.lower()))
    return count


def _engine(reports: list[ReportFacts], kb: object) -> int:
    count = 0
    for report in reports:
        count += len(triage(report, kb).reasons)  # type: ignore[arg-type]
    return count


def _rate(fn: object, payload: list, *args: object) -> float:
    """Reports per CPU second of this process (robust against other work on the machine)."""
    start = time.process_time()
    fn(payload, *args)  # type: ignore[operator]
    return len(payload) / (time.process_time() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=100, help="times the dev set is repeated per run")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    pinned = _pin_to_one_core()
    kb = load_knowledge_base_from_dir(ROOT / "config")
    items = read_items(ROOT / "tests" / "data" / "triage-dev.jsonl")
    reports = [item.report for item in items] * args.repeat
    texts = [r.text for r in reports]

    _engine(reports[: len(items)], kb)  # warm up (regex caches, imports)
    engine_rates, floor_rates = [], []
    for _ in range(args.runs):
        floor_rates.append(_rate(_floor, texts))
        engine_rates.append(_rate(_engine, reports, kb))
    engine = statistics.median(engine_rates)
    floor = statistics.median(floor_rates)
    result = {
        "reports_per_run": len(reports), "runs": args.runs,
        "engine_reports_per_s_median": round(engine), "floor_reports_per_s_median": round(floor),
        "engine_runs": [round(r) for r in engine_rates], "floor_runs": [round(r) for r in floor_rates],
        "floor_over_engine": round(floor / engine, 1), "target_reports_per_s": 2000,
        "meets_target": engine >= 2000, "cpu": platform.processor() or platform.machine(),
        "cores_available": os.cpu_count(), "affinity": pinned, "python": platform.python_version(),
    }
    report_rows([row("triage engine", "median throughput", engine, "reports/s", floor)])
    if args.json:
        print(json.dumps(result))
    else:
        print(f"triage(): median {engine:,.0f} reports/s over {args.runs} runs of {len(reports)} reports "
              f"({', '.join(f'{r:,.0f}' for r in engine_rates)})")
        print(f"floor (lower + tokenise): median {floor:,.0f} reports/s "
              f"({', '.join(f'{r:,.0f}' for r in floor_rates)})")
        print(f"ratio floor/engine: {floor / engine:.1f}x; target 2,000 reports/s: "
              f"{'met' if engine >= 2000 else 'NOT met'}; {pinned}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
