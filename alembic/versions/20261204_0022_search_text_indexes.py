"""text indexes for the console's search: pg_trgm GIN indexes on PostgreSQL, FTS5 trigram tables on SQLite

The console's search (app/incidents/search.py) looks for every word as a case-insensitive substring of the
reports' texts and case numbers, the feedback texts and the operators' override reasons. Without an index each
word was a scan of a year of history (2 s on PostgreSQL, 20-41 s on SQLite on the scale dataset).

PostgreSQL: `pg_trgm` (a trusted extension: the database owner may create it) and a GIN trigram index per text
column, which serves `ILIKE '%word%'` as written. SQLite: an FTS5 table with the trigram tokenizer per table,
external content (the text stays in its own table), kept in step by triggers, filled here from the rows there
are. The SQL is frozen here: the names match app/incidents/text_index.py.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04 12:00:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = {'ix_reports_text_trgm': ('reports', 'text'),
                   'ix_reports_case_number_trgm': ('reports', 'case_number'),
                   'ix_report_feedback_text_trgm': ('report_feedback', 'text'),
                   'ix_incidents_override_reason_trgm': ('incidents', 'override_reason')}

# FTS5 table -> (content table, indexed columns, the condition a row must meet to be indexed: most incidents
# have no override reason, and an incident is written at every report)
FTS_TABLES = {'search_reports': ('reports', ('text', 'case_number'), None),
              'search_feedback': ('report_feedback', ('text',), None),
              'search_reasons': ('incidents', ('override_reason',), '{row}.override_reason IS NOT NULL')}


def _when(condition: str | None, row: str) -> str:
    return ' WHERE ' + condition.format(row=row) if condition else ''


def _sqlite_upgrade() -> None:
    for fts, (table, columns, condition) in FTS_TABLES.items():
        names = ', '.join(columns)
        old = ', '.join(f'old.{column}' for column in columns)
        new = ', '.join(f'new.{column}' for column in columns)
        # columnsize=0: no per-row sizes (no ranking is asked), so one write less per row.
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', content_rowid='id', "
                   f"tokenize='trigram', columnsize=0)")
        remove = f"INSERT INTO {fts}({fts}, rowid, {names}) SELECT 'delete', old.id, {old}{_when(condition, 'old')};"
        add = f"INSERT INTO {fts}(rowid, {names}) SELECT new.id, {new}{_when(condition, 'new')};"
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {add} END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {remove} END")
        op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN {remove} {add} END")
        op.execute(f"INSERT INTO {fts}(rowid, {names}) SELECT id, {names} FROM {table}{_when(condition, table)}")


def _sqlite_downgrade() -> None:
    for fts in FTS_TABLES:
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS {fts}_{trigger}')
        op.execute(f'DROP TABLE IF EXISTS {fts}')


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_upgrade()
        return
    op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for name, (table, column) in TRIGRAM_INDEXES.items():
        op.execute(f'CREATE INDEX {name} ON {table} USING gin ({column} gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        _sqlite_downgrade()
        return
    for name in TRIGRAM_INDEXES:
        op.execute(f'DROP INDEX IF EXISTS {name}')
    op.execute('DROP EXTENSION IF EXISTS pg_trgm')
