"""The text indexes behind the console's search (app.incidents.search), one kind per engine, made by migration
0022 and kept outside the ORM's metadata because neither kind exists on the other engine:

- PostgreSQL: GIN trigram indexes (`pg_trgm`), which serve `ILIKE '%word%'` as it is written;
- SQLite: FTS5 tables with the trigram tokenizer over the same texts (external content: they hold only the
  index, the text stays in its table), kept in step by triggers on insert, update of the text (the purge blanks
  texts) and delete. A phrase of a word finds the rows that contain it as a substring, for words of three
  characters or more.

A batch migration that rebuilds one of the indexed tables on SQLite (copy, drop, rename) drops its triggers with
it: such a migration must create them again (the search tests fail otherwise)."""

from __future__ import annotations

# FTS5 table -> the table and columns it indexes (SQLite).
FTS_TABLES = {"search_reports": ("reports", ("text", "case_number")),
              "search_feedback": ("report_feedback", ("text",)),
              "search_reasons": ("incidents", ("override_reason",))}
FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_config", "_docsize", "_content")
TRIGRAM_INDEXES = {"ix_reports_text_trgm": ("reports", "text"),
                   "ix_reports_case_number_trgm": ("reports", "case_number"),
                   "ix_report_feedback_text_trgm": ("report_feedback", "text"),
                   "ix_incidents_override_reason_trgm": ("incidents", "override_reason")}
FTS_MIN_CHARACTERS = 3  # a trigram phrase needs three characters; a shorter word is searched by a scan


def is_text_index(name: str | None) -> bool:
    """Whether a table or index name belongs to these indexes (which the models do not declare)."""
    if not name:
        return False
    if name in TRIGRAM_INDEXES:
        return True
    return any(name == table or (name.startswith(table) and name[len(table):] in FTS_SHADOW_SUFFIXES)
               for table in FTS_TABLES)


def fts_phrase(word: str) -> str:
    """An FTS5 query that finds `word` as a substring: one quoted phrase, its double quotes doubled."""
    return '"' + word.replace('"', '""') + '"'
