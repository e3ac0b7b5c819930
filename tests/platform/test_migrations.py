"""Every migration upgrades from empty and downgrades to empty, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.cli import alembic_config
from app.models import Base


def _sync_url(url: str) -> str:
    return url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")


def _tables(url: str) -> set[str]:
    engine = create_engine(_sync_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    command.downgrade(alembic_config(url), "base")
    yield url
    command.upgrade(alembic_config(url), "head")  # leave it as the other tests expect


def test_upgrade_from_empty_creates_every_model_table_and_downgrade_removes_them(empty_database):
    config = alembic_config(empty_database)
    assert _tables(empty_database) == set()
    command.upgrade(config, "head")
    assert _tables(empty_database) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert _tables(empty_database) == set()
    command.upgrade(config, "head")
    assert _tables(empty_database) == set(Base.metadata.tables)


def test_the_migrated_schema_is_the_schema_the_models_declare(empty_database):
    """Indexes, columns and constraints: a model changed without a migration (or the reverse) shows here."""
    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(_sync_url(empty_database))
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()
    assert differences == []
