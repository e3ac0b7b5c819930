"""Runs every benchmark in turn and prints its figures (see docs/performance.md for what they mean)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = ["bench_triage.py", "bench_intake.py", "bench_photos.py", "bench_ws.py", "bench_broadcast.py"]
BENCHES.append("bench_drills.py")  # the 30-minute soak (docs/performance.md, "Fault drills")


def main() -> int:
    failed = 0
    for name in BENCHES:
        print(f"== {name}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / name)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
