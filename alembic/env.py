"""Alembic runs migrations over the app's async engine, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from app.core.database import create_engine
from app.core.settings import get_settings
from app.incidents.text_index import is_text_index
from app.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def _sqlite_pragma(connection: Connection, statement: str) -> list[Any]:
    """Runs a PRAGMA on the driver connection: through SQLAlchemy it would first open a transaction, inside
    which SQLite ignores `foreign_keys`."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(statement)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _broken_foreign_keys(connection: Connection) -> Counter[tuple[str, str]]:
    """How many rows of each table refer to a row of another table that does not exist."""
    return Counter((row[0], row[2]) for row in connection.exec_driver_sql("PRAGMA foreign_key_check"))


def _declared(name: str | None, type_: str, parent_names: Any) -> bool:
    """Autogenerate leaves alone the search's text indexes, which the models do not declare (migration 0022)."""
    return not is_text_index(name)


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # A batch migration rebuilds a table (copy, drop, rename); with foreign keys enforced, dropping it would
        # delete the rows of every table that refers to it (ON DELETE CASCADE). Checked again before commit.
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=sqlite,
        compare_type=True,
        include_name=_declared,
    )
    try:
        with context.begin_transaction():
            # Only what the migrations broke counts: rows written with the check off before are not theirs.
            broken_before = _broken_foreign_keys(connection) if sqlite else Counter()
            context.run_migrations()
            if sqlite and _broken_foreign_keys(connection) - broken_before:
                raise RuntimeError("the migration left rows that break a foreign key; rolled back")
    finally:
        if sqlite:
            _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")


async def _run_async() -> None:
    engine = create_engine(_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_async())
