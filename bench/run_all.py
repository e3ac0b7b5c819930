"""Runs every benchmark in turn and writes their figures to bench/results/latest.json: a list of
{"scenario", "metric", "value", "unit", "floor", "ratio"} rows (see docs/performance.md for what they mean).

    .venv/bin/python bench/run_all.py [--quick]

`--quick` shortens the runs and builds the scale dataset at a tenth of its size (1,000 beheerders, 100,000
reports; the stats benchmark 100,000 reports); the full run takes more than an hour on the 2-core machine, most
of it loading the scale dataset twice and the stats dataset once (about six minutes)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import ROWS_ENV  # noqa: E402

RESULTS = HERE / "results" / "latest.json"
FULL = [["bench_triage.py"], ["bench_intake.py"], ["bench_intake.py", "--postgres"],
        ["bench_intake.py", "--postgres", "--workers", "2"], ["bench_photos.py"], ["bench_ws.py"],
        ["bench_broadcast.py"], ["bench_broadcast.py", "--postgres"], ["bench_console.py"],
        ["bench_console.py", "--postgres"], ["bench_stats.py"], ["bench_scale.py", "--sqlite"],
        ["bench_scale.py", "--postgres"], ["bench_drills.py"]]
QUICK_ARGS = {
    "bench_triage.py": ["--repeat", "20", "--runs", "3"], "bench_intake.py": ["--seconds", "4", "--rounds", "2"],
    "bench_photos.py": ["--seconds", "10", "--rounds", "1"], "bench_broadcast.py": ["--runs", "1"],
    "bench_scale.py": ["--beheerders", "1000", "--reports", "100000", "--runs", "20"],
    "bench_console.py": ["--runs", "3"], "bench_stats.py": ["--reports", "100000", "--runs", "5"],
    "bench_drills.py": ["--minutes", "2"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rows_file = Path(tempfile.mkstemp(prefix="meldkamer-bench-", suffix=".jsonl")[1])
    env = {**os.environ, ROWS_ENV: str(rows_file)}
    failed = 0
    for command in FULL:
        extra = QUICK_ARGS.get(command[0], []) if args.quick else []
        print(f"== {' '.join(command + extra)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / command[0]), *command[1:], *extra], env=env,
                                 check=False).returncode != 0
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(rows, indent=1) + "\n")
    print(f"{len(rows)} figures in {RESULTS}; {failed} benchmark(s) missed a target or failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
