"""A throwaway PostgreSQL server for the test suite: own data dir, free port, stopped afterwards.

PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_bindir() -> Path:
    configured = os.environ.get("MELDKAMER_PG_BINDIR")
    candidates = [configured] if configured else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found; set MELDKAMER_PG_BINDIR")


class PostgresServer:
    def __init__(self, root: Path | None = None) -> None:
        """`root`: a directory of its own to keep the data in (bench/bench_stats.py --keep); a temporary one
        otherwise."""
        self.bindir = find_bindir()
        self.port = free_port()
        self.root = root or Path(tempfile.mkdtemp(prefix="meldkamer-pg-"))
        self.datadir = self.root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        self.options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def start(self, extra_options: str = "") -> str:
        """Starts the server (`extra_options`: more `-c name=value` settings) and gives its database URL."""
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        if extra_options:
            self.options += " " + extra_options
        self.start_again()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "meldkamer")
        return self.url

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/meldkamer"

    def start_again(self) -> None:
        """Starts the initialised server (again, after `stop_only`: the fault drills; or on a kept data
        directory)."""
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run("pg_ctl", "-D", str(self.datadir), "-o", self.options, "-l", str(self.root / "server.log"),
                  "-w", "-t", "60", "start")
        self._wait_ready()

    def stop_only(self) -> None:
        """Stops the server as an administrator would (fast shutdown: sessions are ended), keeping its data."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise RuntimeError(f"PostgreSQL did not become ready; see {self.root / 'server.log'}")

    def stop(self) -> None:
        if self.datadir.exists():
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
