"""Searching incidents by the words of every report, the feedback to its reporters and the operators' reasons.

The database does the searching (a LIKE per word on both SQLite and PostgreSQL, case-insensitive), counts and
pages; Python only cuts the snippets of the rows that matched on the page shown. Every word must occur
somewhere in the incident, not necessarily in one text: "scooter zonnestein" finds an incident whose first
report names the street and whose second names the scooter.

The texts are found through an index (app.incidents.text_index, migration 0022): on PostgreSQL the LIKE itself
is served by trigram indexes; on SQLite an FTS5 trigram table gives the rows that contain a word of three
characters or more, and the same LIKE then checks them, so that both engines keep the LIKE's meaning.

A common word matches thousands of incidents, all of which are ordered and counted for one page: that reads
only their ids and last report (on PostgreSQL from the covering index `ix_incidents_search`, migration 0025),
and the whole incident only for the page's rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, and_, column, func, literal, or_, select, table, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.core.errors import InvalidInput
from app.core.schemas import MAX_DB_INT
from app.incidents.brief import briefs
from app.incidents.models import Incident
from app.incidents.schemas import SearchHit, SearchMatch
from app.incidents.text_index import FTS_MIN_CHARACTERS, fts_phrase
from app.intake.models import Report, ReportFeedback

MAX_WORDS = 8
MATCHES_PER_INCIDENT = 5
MATCH_ROWS = 400  # matching texts read for one page of results, at most
SNIPPET_CONTEXT = 60  # characters either side of the word


@dataclass(frozen=True)
class SearchFilters:
    status: str | None = "open"
    urgency: str | None = None
    wijk: str | None = None


def search_words(query: str) -> list[str]:
    """The distinct words of the query, lower case; refused when there is nothing to search for."""
    words = list(dict.fromkeys(word.casefold() for word in query.split() if word.strip()))
    if not words:
        raise InvalidInput("Geef een zoekterm.", field="q", code="empty_query")
    if len(words) > MAX_WORDS:
        raise InvalidInput(f"Zoek op hooguit {MAX_WORDS} woorden.", field="q", code="too_many_words")
    return words


LIKE_ESCAPE = "/"  # not a backslash, which PostgreSQL's literal SQL (EXPLAIN in the tests) would double


def _like(word: str) -> str:
    escaped = word.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return f"%{escaped}%"


def _contains(column: Any, word: str) -> ColumnElement[bool]:
    return column.ilike(_like(word), escape=LIKE_ESCAPE)


def _incident_number(word: str) -> int | None:
    digits = word.removeprefix("#")
    return int(digits) if digits.isdigit() and 0 < int(digits) <= MAX_DB_INT else None


def _kept(incident: Any, filters: SearchFilters, *, status_by_index: bool = True) -> list[ColumnElement[bool]]:
    """The filters' conditions; `status_by_index=False` writes the status so that SQLite cannot walk its index
    (`status || ''`): a year of closed incidents is no place to start from when the text index has the few
    that matter."""
    conditions = []
    if filters.status:
        status = incident.status if status_by_index else incident.status.concat("")
        conditions.append(status == filters.status)
    if filters.urgency:
        conditions.append(incident.urgency == filters.urgency)
    if filters.wijk:
        conditions.append(incident.wijk_code == filters.wijk)
    return conditions


def _narrowing(filters: SearchFilters) -> bool:
    """Whether the filters keep few incidents (the open ones, a few hundred; one wijk's): a place to start from
    instead of a common word's thousands of texts. The others (closed, an urgency) keep most of a year."""
    return filters.status == "open" or bool(filters.wijk)


def _reads_fts(sqlite: bool, filters: SearchFilters) -> bool:
    """Whether SQLite starts from its FTS5 tables. Not when the filters keep few incidents (the open ones, the
    default, are the queue; a wijk has ~1,000 a year): their reports are read through the index on the incident
    faster than a common word's thousands of rows come out of the text index, and with both SQLite probed the
    reports' index once per incident and row of the text index (a wijk: 5-8 s for a word in 1% of the year).
    PostgreSQL's planner makes that choice itself."""
    return sqlite and not _narrowing(filters)


def _status_by_index(sqlite: bool, filters: SearchFilters) -> bool:
    """Whether SQLite may walk the status's index: for the open incidents only, not a year of closed ones."""
    return not sqlite or filters.status == "open"


def _indexed_rows(fts_table: str, word: str) -> Select[Any]:
    """The ids of the rows whose indexed texts contain the word (SQLite's FTS5 trigram table)."""
    fts = table(fts_table, column("rowid"), column(fts_table))
    return select(fts.c.rowid).where(fts.c[fts_table].op("MATCH")(fts_phrase(word)))


def _found(word: str, fts: bool, fts_table: str, key: Any, *columns: Any) -> ColumnElement[bool]:
    """Whether one of the row's columns contains the word; looked up in SQLite's FTS table first when asked and
    the word is long enough for trigrams (the LIKE then checks the few rows it gives)."""
    contains = or_(*(_contains(text_column, word) for text_column in columns))
    if fts and len(word) >= FTS_MIN_CHARACTERS:
        return and_(key.in_(_indexed_rows(fts_table, word)), contains)
    return contains


def _word_in_incident(word: str, filters: SearchFilters, sqlite: bool) -> ColumnElement[bool]:
    """The ids of incidents with a text that contains the word: one set per word, from each text's index. Kept to
    the incidents the filters keep when those are few, so that PostgreSQL's planner may start from them; other
    filters are applied once, to the incidents that have every word (each set would look up every one of its
    incidents for them)."""
    inner = aliased(Incident)
    fts = _reads_fts(sqlite, filters)
    kept = _kept(inner, filters, status_by_index=_status_by_index(sqlite, filters)) if _narrowing(filters) else []
    in_reports = _kept_reports(select(Report.incident_id), inner, kept).where(
        _found(word, fts, "search_reports", Report.id, Report.text, Report.case_number))
    in_feedback = (_kept_reports(select(Report.incident_id), inner, kept)
                   .join(ReportFeedback, ReportFeedback.report_id == Report.id)
                   .where(_found(word, fts, "search_feedback", ReportFeedback.id, ReportFeedback.text)))
    in_reasons = select(inner.id).where(*kept, _found(word, fts, "search_reasons", inner.id, inner.override_reason))
    parts: list[Select[Any]] = [in_reports, in_feedback, in_reasons]
    number = _incident_number(word)
    if number is not None:
        parts.append(select(literal(number)))
    found: CompoundSelect = union(*parts)
    return Incident.id.in_(found)


def _kept_reports(query: Select[Any], inner: Any, kept: list[ColumnElement[bool]]) -> Select[Any]:
    """Reports of the incidents `kept` keeps; without conditions no incident is read for them (a common word's
    ten thousand reports would otherwise each look up its incident twice)."""
    return query.join(inner, inner.id == Report.incident_id).where(*kept) if kept else query


def _query(words: Sequence[str], filters: SearchFilters, sqlite: bool) -> Select[tuple[int]]:
    return select(Incident.id).where(*_kept(Incident, filters, status_by_index=_status_by_index(sqlite, filters)),
                                     *(_word_in_incident(word, filters, sqlite) for word in words))


def page_statement(words: Sequence[str], filters: SearchFilters, sqlite: bool, *, limit: int,
                   offset: int) -> Select[tuple[Incident, int]]:
    """One page of the incidents that contain every word, with their number: a window count, so that the texts
    are searched once, not twice. The count and the order read only each match's id and last report; the whole
    incident is read for the page's rows only."""
    ranked = (_query(words, filters, sqlite).add_columns(Incident.last_report_at, func.count().over().label("total"))
              .order_by(Incident.last_report_at.desc(), Incident.id.desc()).limit(limit).offset(offset)).subquery()
    return (select(Incident, ranked.c.total).join(ranked, ranked.c.id == Incident.id)
            .order_by(ranked.c.last_report_at.desc(), ranked.c.id.desc()))


async def search_incidents(session: AsyncSession, query: str, filters: SearchFilters, *, limit: int,
                           offset: int) -> tuple[list[SearchHit], int]:
    """One page of incidents that contain every word, the most recently reported first, each with the texts
    that matched (which report, or its feedback)."""
    words = search_words(query)
    sqlite = session.get_bind().dialect.name == "sqlite"
    page = (await session.execute(page_statement(words, filters, sqlite, limit=limit, offset=offset))).all()
    incidents = [incident for incident, _ in page]
    if page:
        total = int(page[0][1])
    elif offset:  # past the last page: counted on its own
        total = await session.scalar(select(func.count()).select_from(_query(words, filters, sqlite).subquery())) or 0
    else:
        total = 0
    matches = await _matches(session, [i.id for i in incidents], words)
    for incident in incidents:
        if incident.override_reason and any(word in incident.override_reason.casefold() for word in words):
            matches.setdefault(incident.id, []).append(
                SearchMatch(source="reden", report_id=None, case_number=None,
                            snippet=snippet(incident.override_reason, words)))
    rows = await briefs(session, incidents)
    hits = [SearchHit(incident=row, matches=matches.get(row.id, [])[:MATCHES_PER_INCIDENT]) for row in rows]
    return hits, total


async def _matches(session: AsyncSession, incident_ids: list[int],
                   words: Sequence[str]) -> dict[int, list[SearchMatch]]:
    if not incident_ids:
        return {}
    reports = await session.execute(
        select(Report.incident_id, Report.id, Report.case_number, Report.text)
        .where(Report.incident_id.in_(incident_ids),
               or_(*(or_(_contains(Report.text, w), _contains(Report.case_number, w)) for w in words)))
        .order_by(Report.received_at, Report.id).limit(MATCH_ROWS))
    feedback = await session.execute(
        select(Report.incident_id, Report.id, Report.case_number, ReportFeedback.text)
        .join(Report, Report.id == ReportFeedback.report_id)
        .where(Report.incident_id.in_(incident_ids), or_(*(_contains(ReportFeedback.text, w) for w in words)))
        .order_by(ReportFeedback.at, ReportFeedback.id).limit(MATCH_ROWS))
    found: dict[int, list[SearchMatch]] = {}
    for incident_id, report_id, case_number, text in reports.tuples():
        in_text = any(word in text.casefold() for word in words)
        found.setdefault(incident_id or 0, []).append(SearchMatch(
            source="melding" if in_text else "zaaknummer", report_id=report_id, case_number=case_number,
            snippet=snippet(text, words)))
    for incident_id, report_id, case_number, text in feedback.tuples():
        found.setdefault(incident_id or 0, []).append(SearchMatch(
            source="terugkoppeling", report_id=report_id, case_number=case_number, snippet=snippet(text, words)))
    return found


def snippet(text: str, words: Sequence[str]) -> str:
    """The part of `text` around the first word found, with an ellipsis where it was cut."""
    folded = text.casefold()
    positions = [folded.find(word) for word in words if word in folded]
    if not positions:
        return _clip(text, 0, 2 * SNIPPET_CONTEXT)
    start = min(positions)
    return _clip(text, start - SNIPPET_CONTEXT, start + SNIPPET_CONTEXT)


def _clip(text: str, start: int, end: int) -> str:
    start, end = max(0, start), min(len(text), end)
    if start > 0:  # begin at a word
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 15 else start
    clipped = re.sub(r"\s+", " ", text[start:end]).strip()
    return ("…" if start > 0 else "") + clipped + ("…" if end < len(text) else "")
