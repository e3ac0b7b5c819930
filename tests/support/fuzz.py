"""Schemathesis over every operation of a served relay, as admin and as beheerder (`make fuzz`, and bounded
in tests/platform/test_fuzz.py).

The relay runs as a real server (uvicorn, its own process) on a migrated database with the demo registry.
Schemathesis gets a fresh token through the hooks in tests/support/fuzz_hooks.py, so that an operation that
revokes the caller's own token (logout, token revocation, a deactivated beheerder) does not make the rest of
the run a series of 401s. Usage:

    python -m tests.support.fuzz [--examples N] [--database-url URL | --postgres] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.support.postgres import PostgresServer, free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "MELDKAMER_WHATSAPP_APP_SECRET": "fuzz-app-secret",
    "MELDKAMER_WHATSAPP_VERIFY_TOKEN": "fuzz-verify-token",
    "MELDKAMER_WHATSAPP_ACCESS_TOKEN": "fuzz-access-token",
}
PRINCIPALS = ("beheerder", "admin")  # the beheerder first: the admin run may deactivate beheerders


@dataclass
class FuzzRun:
    principal: str
    exit_code: int
    operations: int
    requests: int
    failures: dict[str, list[str]]  # check name -> the operations it failed on
    output: str

    @property
    def server_errors(self) -> list[str]:
        return self.failures.get("not_a_server_error", [])

    @property
    def undocumented(self) -> list[str]:
        """Answers the OpenAPI document does not declare: a status, a content type or a body shape."""
        return [f"{check}: {operation}" for check in CONFORMANCE for operation in self.failures.get(check, [])]


CONFORMANCE = ("status_code_conformance", "content_type_conformance", "response_schema_conformance",
               "response_headers_conformance")


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ, **SECRETS,
        "MELDKAMER_DATABASE_URL": database_url, "MELDKAMER_DATA_DIR": str(data_dir),
        "MELDKAMER_ENVIRONMENT": "test", "MELDKAMER_LOG_LEVEL": "WARNING",
        # The intake limit protects the server from one beheerder; the fuzzer is that one beheerder.
        "MELDKAMER_INTAKE_REPORTS_PER_MINUTE": "100000", "MELDKAMER_INTAKE_BURST": "100000",
        "MELDKAMER_BROADCAST_WORKER_IN_APP": "false",
        # The fuzzer tries random names and passwords from one address, and then logs in as admin from it.
        "MELDKAMER_LOGIN_MAX_FAILURES": "1000000", "MELDKAMER_LOGIN_ADDRESS_MAX_FAILURES": "1000000",
    }


def _prepare(env: dict[str, str], data_dir: Path) -> dict[str, Any]:
    """Migrates and seeds the database; gives back the demo credentials."""
    credentials = data_dir / "demo-credentials.json"
    meldkamer = [sys.executable, "-c", "from app.cli import main; main()"]
    subprocess.run([*meldkamer, "migrate"], env=env, cwd=PROJECT_ROOT, check=True, capture_output=True)
    subprocess.run([*meldkamer, "seed-demo", "--out", str(credentials)], env=env, cwd=PROJECT_ROOT, check=True,
                   capture_output=True)
    data: dict[str, Any] = json.loads(credentials.read_text())
    return data


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning"], env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            break
        time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"the relay did not start: {server.stderr.read().decode() if server.stderr else ''}")


def _schemathesis(base: str, principal: str, credentials: dict[str, Any], examples: int, seed: int,
                  report: Path, phases: str) -> FuzzRun:
    auth = {"admin": credentials["admin"], "beheerder": {"token": credentials["beheerders"][0]["token"]}}[principal]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "tests.support.fuzz_hooks", "FUZZ_BASE_URL": base,
           "FUZZ_AUTH": json.dumps(auth), "PYTHONPATH": str(PROJECT_ROOT)}
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/openapi.json", "--checks", "all",
        "--max-examples", str(examples), "--seed", str(seed), "--workers", "1", "--no-shrink",
        "--suppress-health-check", "all", "--report", "ndjson", "--report-ndjson-path", str(report),
        "--request-timeout", "30", "--phases", phases,
    ]
    finished = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    operations, requests, failures = _figures(report)
    return FuzzRun(principal, finished.returncode, operations, requests, failures,
                   finished.stdout + finished.stderr)


def _figures(report: Path) -> tuple[int, int, dict[str, list[str]]]:
    """Operations tested, requests sent and the failed checks with their operations, from schemathesis' ndjson
    events."""
    operations: set[str] = set()
    requests = 0
    failures: dict[str, set[str]] = {}
    if not report.exists():
        return 0, 0, {}
    for line in report.read_text().splitlines():
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished.get("recorder") or {}
        label = str(recorder.get("label"))
        operations.add(label)
        requests += len(recorder.get("interactions") or {})
        for checks in (recorder.get("checks") or {}).values():
            for check in checks:
                if check.get("status") == "failure":
                    failures.setdefault(check["name"], set()).add(label)
    return len(operations - {"Stateful tests"}), requests, {name: sorted(ops) for name, ops in failures.items()}


ALL_PHASES = "examples,coverage,fuzzing,stateful"


def run(database_url: str, examples: int, seed: int = 1, principals: tuple[str, ...] = PRINCIPALS,
        phases: str = ALL_PHASES, keep: Path | None = None) -> list[FuzzRun]:
    with tempfile.TemporaryDirectory(prefix="meldkamer-fuzz-") as folder:
        data_dir = Path(folder)
        env = _environment(database_url, data_dir)
        credentials = _prepare(env, data_dir)
        port = free_port()
        server = _serve(env, port)
        try:
            return [_schemathesis(f"http://127.0.0.1:{port}", principal, credentials, examples, seed,
                                  data_dir / f"{principal}.ndjson", phases) for principal in principals]
        finally:
            server.terminate()
            server.wait(timeout=30)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                for report in data_dir.glob("*.ndjson"):
                    shutil.copy(report, keep / report.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=50, help="test cases per operation and principal")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true", help="on a throwaway PostgreSQL server instead")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", default=ALL_PHASES)
    parser.add_argument("--keep", type=Path, default=None, help="copy the ndjson reports into this folder")
    args = parser.parse_args()
    server = PostgresServer() if args.postgres else None
    try:
        with tempfile.TemporaryDirectory(prefix="meldkamer-fuzz-db-") as folder:
            url = server.start() if server else args.database_url or f"sqlite+aiosqlite:///{folder}/fuzz.db"
            results = run(url, args.examples, args.seed, phases=args.phases, keep=args.keep)
    finally:
        if server is not None:
            server.stop()
    for result in results:
        print(result.output[-4000:])
    for result in results:
        print(f"{result.principal}: {result.operations} operations, {result.requests} requests; "
              f"{len(result.server_errors)} server errors, {len(result.undocumented)} undocumented answers")
        for check, operations in sorted(result.failures.items()):
            print(f"  {check}: {len(operations)} operations: {', '.join(operations)}")
    sys.exit(1 if any(result.server_errors or result.undocumented for result in results) else 0)


if __name__ == "__main__":
    main()
