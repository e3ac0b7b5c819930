"""Runs the benchmarks and writes their figures to bench/results/latest.json: a list of
{"scenario", "metric", "value", "unit", "floor", "ratio"} rows (see docs/performance.md for what they mean).

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...] [-- EXTRA ARGS]

Each benchmark's last run is kept as its own part, bench/results/parts/<name>.json (the command, when it
finished, whether it was quick, its exit code and its rows); latest.json is assembled from every part, in the
order below. `--only` re-runs the named benchmarks (e.g. `--only bench_triage "bench_intake --postgres"`; a
wrong name lists the names) and keeps the other parts as they are, so a single scenario
can be measured again, or on a quiet machine, without the whole hour; arguments after `--` go to each selected
benchmark (e.g. `-- --database-url URL` to measure a scale dataset loaded before).

`--quick` shortens the runs and builds the scale dataset at a tenth of its size (1,000 beheerders, 100,000
reports); the full run takes over an hour on the 2-core machine, most of it loading the scale and stats
datasets and the 30-minute soak."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.common import ROWS_ENV  # noqa: E402

RESULTS = HERE / "results" / "latest.json"
PARTS = HERE / "results" / "parts"
FULL = [["bench_triage.py"], ["bench_intake.py"], ["bench_intake.py", "--postgres"],
        ["bench_intake.py", "--postgres", "--workers", "2"], ["bench_photos.py"], ["bench_ws.py"],
        ["bench_broadcast.py"], ["bench_broadcast.py", "--postgres"],
        ["bench_broadcast.py", "--postgres", "--workers", "2"], ["bench_console.py"],
        ["bench_console.py", "--postgres"], ["bench_stats.py"], ["bench_scale.py", "--sqlite"],
        ["bench_scale.py", "--postgres"], ["bench_drills.py"]]
QUICK_ARGS = {
    "bench_triage.py": ["--repeat", "20", "--runs", "3"], "bench_intake.py": ["--seconds", "4", "--rounds", "2"],
    "bench_photos.py": ["--seconds", "10", "--rounds", "1"], "bench_broadcast.py": ["--runs", "1"],
    "bench_scale.py": ["--beheerders", "1000", "--reports", "100000", "--runs", "20"],
    "bench_console.py": ["--runs", "3"], "bench_stats.py": ["--reports", "100000", "--runs", "5"],
    "bench_drills.py": ["--minutes", "2"],
}


def name(command: list[str]) -> str:
    """`bench_intake.py --postgres --workers 2` -> `bench_intake --postgres --workers 2`."""
    return " ".join([command[0].removesuffix(".py"), *command[1:]])


def part_path(command: list[str]) -> Path:
    return PARTS / (name(command).replace(" --", "_").replace(" ", "-") + ".json")


def run(command: list[str], extra: list[str]) -> int:
    """Runs one benchmark and keeps its rows as its part; returns its exit code."""
    rows_file = Path(tempfile.mkstemp(prefix="meldkamer-bench-", suffix=".jsonl")[1])
    print(f"== {' '.join(command + extra)}", flush=True)
    code = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:], *extra],
                          env={**os.environ, ROWS_ENV: str(rows_file)}, check=False).returncode
    rows = [json.loads(line) for line in rows_file.read_text().splitlines() if line.strip()]
    rows_file.unlink()
    PARTS.mkdir(parents=True, exist_ok=True)
    part = {"command": " ".join(command + extra), "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_average": os.getloadavg()[0], "exit": code, "rows": rows}
    part_path(command).write_text(json.dumps(part, indent=1) + "\n")
    return code


def assemble() -> list[dict[str, object]]:
    """latest.json: the rows of every kept part, in the order of FULL."""
    rows: list[dict[str, object]] = []
    for command in FULL:
        path = part_path(command)
        if path.exists():
            rows.extend(json.loads(path.read_text())["rows"])
        else:
            print(f"   (no figures yet for {name(command)})")
    RESULTS.write_text(json.dumps(rows, indent=1) + "\n")
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", default=[], metavar="NAME",
                        help="re-run only these benchmarks, by name (e.g. 'bench_scale --sqlite')")
    parser.add_argument("extra", nargs="*", help="after --: arguments for each selected benchmark")
    args = parser.parse_args()
    selected = [command for command in FULL if not args.only or name(command) in args.only]
    if len(selected) != (len(args.only) or len(FULL)):
        parser.error(f"no benchmark matches {args.only}; names: {', '.join(name(c) for c in FULL)}")
    failed = 0
    for command in selected:
        extra = (QUICK_ARGS.get(command[0], []) if args.quick else []) + args.extra
        failed += run(command, extra) != 0
    rows = assemble()
    print(f"{len(rows)} figures in {RESULTS}; {failed} benchmark(s) missed a target or failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
