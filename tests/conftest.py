"""Shared fixtures. Every test that asks for a database runs twice: on SQLite and on PostgreSQL.

The PostgreSQL server is started once per test process (tests/support/postgres.py): `make test` runs two
pytest-xdist workers, each with its own server, temp dirs and free ports. Set MELDKAMER_TEST_POSTGRES=skip to
run on SQLite only while iterating; `make test` never does."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.cli import alembic_config
from app.core import security
from app.core.database import create_engine
from app.core.settings import Settings
from app.factory import create_app
from tests.support.postgres import PostgresServer
from tests.support.settings import TEST_SECRETS

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Argon2 with the cheapest parameters inside the test processes: the demo registry hashes seven passwords
    per test, each 0.1-0.5 s at production cost. Hashing and verifying stay argon2; served subprocesses
    (browser tests, drills) keep the production parameters."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_hasher", PasswordHasher.from_parameters(CHEAPEST))
        yield


def _migrate(url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(url), "head")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy, which is much faster than migrating again."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    _migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if os.environ.get("MELDKAMER_TEST_POSTGRES") == "skip":
        pytest.skip("PostgreSQL skipped (MELDKAMER_TEST_POSTGRES=skip)")
    external = os.environ.get("MELDKAMER_TEST_POSTGRES_URL")
    if external:
        url = asyncio.run(_database_of_this_worker(external))
        _migrate(url)
        yield url
        return
    server = PostgresServer()
    try:
        url = server.start()
        _migrate(url)
        yield url
    finally:
        server.stop()


async def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist every worker truncates its own database: `<name>_<worker>` on the given server,
    created afresh. Without xdist, the given database itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_async_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


async def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        tables = (await connection.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'"
        ))).scalars().all()
        if tables:
            names = ", ".join(f'"{name}"' for name in tables)
            await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    asyncio.run(_truncate_postgres(url))
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, environment="test", data_dir=tmp_path / "var",
                    log_json=False, **TEST_SECRETS)  # type: ignore[arg-type]


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings, configure_logs=False)
    yield application
    await application.state.photo_pool.aclose()
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def demo(app: FastAPI, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    """The demo registry with its freshly generated credentials."""
    from app.demo import seed_demo

    async with app.state.sessionmaker() as session:
        return await seed_demo(session, settings, tmp_path / "demo-credentials.json")

