"""Async SQLAlchemy engine and sessions; SQLite runs in WAL mode with a busy timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from app.core.sqlite_inline import SAFETY_NET_AUTOCHECKPOINT_PAGES, WalCheckpointer, inline_connector

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; SQLite gives them back naive, so they are made aware again."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


_AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_simulated_now: ContextVar[datetime | None] = ContextVar("simulated_now", default=None)


def amsterdam_day(utc_text: str | None) -> str | None:
    """SQL `amsterdam_day(t)` on SQLite, which knows no time zones: the Europe/Amsterdam date of a UTC time as
    SQLite stores it (PostgreSQL: `timezone('Europe/Amsterdam', t)::date`)."""
    if utc_text is None:
        return None
    return datetime.fromisoformat(utc_text).replace(tzinfo=UTC).astimezone(_AMSTERDAM).date().isoformat()


def padded(values: Sequence[T]) -> list[T]:
    """`values` with its last one repeated up to the next power of two. A statement built for a list (an IN-list,
    a batch's OR-ed conditions) then comes in a handful of sizes, each prepared once per connection, instead of
    one per size; the repeats change nothing in what it finds."""
    size = 1 << max(0, len(values) - 1).bit_length()
    return [*values, *[values[-1]] * (size - len(values))]


def utcnow() -> datetime:
    simulated = _simulated_now.get()
    return datetime.now(UTC) if simulated is None else simulated


@contextmanager
def simulated_time(at: datetime) -> Iterator[None]:
    """Within this block (and in tasks started from it), `utcnow()` is `at`: how app.simulation writes a past
    through the services themselves (their audit entries, events, feedback and column defaults)."""
    token = _simulated_now.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _simulated_now.reset(token)


SQLITE_READERS = 8  # connections of the read engine (create_read_engine) on SQLite


def create_engine(database_url: str, *, sqlite_busy_timeout_ms: int = 5000, sqlite_reader: bool = False
                  ) -> AsyncEngine:
    """The app's engine. On SQLite, `sqlite_reader` gives an engine for plain autocommit reads (no write
    lock), for readers that must not queue behind writers."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        _ensure_sqlite_dir(url.database)
        # One writer connection per process: SQLite has one writer anyway, and a FIFO wait for the pool is
        # fairer (and faster) than many connections polling the file lock, which starves some under load.
        # Readers in WAL mode do not block each other: with a single one, every request's token check
        # queued behind the others' (see docs/performance.md, "Intake").
        engine = create_async_engine(
            url, async_creator=inline_connector(url.database or ":memory:", sqlite_busy_timeout_ms / 1000),
            pool_size=SQLITE_READERS if sqlite_reader else 1, max_overflow=0, pool_timeout=60,
            hide_parameters=True)
        _configure_sqlite(engine, writer=not sqlite_reader)
        return engine
    # hide_parameters: a logged database error must not carry a report's text or a phone number.
    # Bounded waits: with the database gone a request answers 503 within seconds instead of hanging.
    engine = create_async_engine(url, pool_size=POSTGRES_POOL_SIZE, max_overflow=POSTGRES_POOL_OVERFLOW,
                                 pool_timeout=10, connect_args={"timeout": 10}, hide_parameters=True)
    _drop_closed_connections_on_checkout(engine)
    return engine


# Connections kept open per process on PostgreSQL. A request holds one for its token check and the intake
# writer one per batch; beyond the pool, overflow connections are opened and closed again for every use,
# and opening one (TLS attempt, startup, type introspection) cost more than the request it served: with
# 10 kept, 16 concurrent clients spent most of the intake's time there (docs/performance.md, "Intake").
POSTGRES_POOL_SIZE = 20
POSTGRES_POOL_OVERFLOW = 10


def _drop_closed_connections_on_checkout(engine: AsyncEngine) -> None:
    """A free stand-in for pool_pre_ping, whose ping is three round trips (BEGIN, ';', ROLLBACK) on every
    checkout: asyncpg marks a connection closed as soon as the server ends it (a restart, an admin's
    pg_terminate_backend), and such a connection is replaced before use. A connection that died silently
    fails its statement; SQLAlchemy then recognises the disconnect and empties the pool."""

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        if dbapi_connection.driver_connection.is_closed():
            raise DisconnectionError("the server closed this connection")


def wal_checkpointer(engine: AsyncEngine) -> WalCheckpointer | None:
    """The background checkpointer for an SQLite file database; None on PostgreSQL or in memory."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return WalCheckpointer(database)


def _ensure_sqlite_dir(database: str | None) -> None:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: AsyncEngine, *, writer: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # aiosqlite starts transactions lazily; we issue BEGIN ourselves so that writers take the
        # lock up front (BEGIN IMMEDIATE) instead of failing on upgrade from a read lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={SAFETY_NET_AUTOCHECKPOINT_PAGES}")  # see WalCheckpointer
        cursor.close()
        dbapi_connection.create_function("amsterdam_day", 1, amsterdam_day, deterministic=True)

    if not writer:
        return

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def create_read_engine(engine: AsyncEngine) -> AsyncEngine:
    """The engine for frequent plain reads (token checks, the event hub). On SQLite the app's engine opens
    every transaction with BEGIN IMMEDIATE, the write lock, so these reads would queue behind writers (and
    writers behind them). Readers in WAL mode need no lock: on SQLite they get an engine of their own whose
    SELECTs run in autocommit. On PostgreSQL it shares the app's engine and pool, in autocommit too: a
    token check is then one round trip instead of three (BEGIN, SELECT, ROLLBACK)."""
    if engine.dialect.name != "sqlite":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return create_engine(engine.url.render_as_string(hide_password=False), sqlite_reader=True)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
