"""The console's search through its text indexes (migration 0022: pg_trgm on PostgreSQL, FTS5 trigram tables on
SQLite): the same answers as a substring search, nothing left to find of a purged text, and plans that use the
indexes, so that a later change cannot fall back to a scan of a year of history unnoticed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from app.core.database import utcnow
from app.incidents.search import SearchFilters, page_statement
from app.privacy.retention import purge
from tests.support.http import login, post_report, westwijk_beheerders

PLATE = 'Kenteken 12_AB, 100% zeker: de man riep "STOP" bij de KNALGELE scooter'
LOOKALIKE = "Kenteken 12XAB, wel 1000 keer voorbij gereden"


async def _search(client, headers, q: str, **params) -> dict:
    response = await client.get("/api/v1/incidents/search", params={"q": q, "status": "", **params},
                                headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _found(page: dict) -> set[int]:
    return {hit["incident"]["id"] for hit in page["items"]}


async def test_the_index_finds_what_a_substring_search_finds(client, demo):
    westwijk = westwijk_beheerders(demo)[0]
    elsewhere = next(b for b in demo["beheerders"] if b["wijkcodes"] and "WK036204" not in b["wijkcodes"])
    plate = await post_report(client, westwijk, PLATE)
    lookalike = await post_report(client, elsewhere, LOOKALIKE)  # another wijk: another incident
    operator = await login(client, demo["operator"])
    queue = (await client.get("/api/v1/queue", params={"limit": 200}, headers=operator)).json()["items"]
    incident_of = {r["id"]: i["id"] for i in queue for r in i["reports"]}
    first, second = incident_of[plate["id"]], incident_of[lookalike["id"]]
    assert first != second
    changed = await client.patch(f"/api/v1/incidents/{second}", headers=operator,
                                 json={"urgency": "P2", "reason": "Bewoners bellen al met Meldpunt Zwerfauto"})
    assert changed.status_code == 200, changed.text

    async def found(q: str) -> set[int]:
        return _found(await _search(client, operator, q))

    assert await found("algel") == {first}  # inside a word, either case
    assert await found("knalgele SCOOTER") == {first}
    assert await found("kenteken") == {first, second}
    assert await found("12_ab") == {first}  # _ and % are text, not wildcards
    assert await found("100%") == {first}
    assert await found('"stop"') == {first}  # a double quote is text too
    assert await found("12") == {first, second}  # two characters: too short for trigrams, still found
    assert await found("zwerfauto") == {second}  # the operator's reason
    assert await found("kenteken zwerfauto") == {second}
    assert await found(plate["case_number"][-6:]) == {first}  # part of a case number
    assert await found("scooter zwerfauto") == set()
    hit = (await _search(client, operator, "meldpunt"))["items"][0]
    assert [m["source"] for m in hit["matches"]] == ["reden"]



async def test_the_filters_keep_every_word_and_number_to_their_incidents(client, demo):
    """Closed, an urgency and a wijk are applied once to the incidents that have every word (the open incidents
    and a wijk also to each word's texts): the same incidents either way."""
    westwijk = westwijk_beheerders(demo)[0]
    elsewhere = next(b for b in demo["beheerders"] if b["wijkcodes"] and "WK036204" not in b["wijkcodes"])
    plate = await post_report(client, westwijk, PLATE)
    lookalike = await post_report(client, elsewhere, LOOKALIKE)
    operator = await login(client, demo["operator"])
    queue = (await client.get("/api/v1/queue", params={"limit": 200}, headers=operator)).json()["items"]
    incident_of = {r["id"]: i["id"] for i in queue for r in i["reports"]}
    first, second = incident_of[plate["id"]], incident_of[lookalike["id"]]
    for change in ({"urgency": "P2", "reason": "Kenteken bekend bij de wijkagent"}, {"close": True}):
        changed = await client.patch(f"/api/v1/incidents/{second}", headers=operator, json=change)
        assert changed.status_code == 200, changed.text

    async def found(q: str, **params) -> set[int]:
        return _found(await _search(client, operator, q, **params))

    assert await found("kenteken") == {first, second}
    assert await found("kenteken", status="open") == {first}
    assert await found("kenteken wijkagent", status="closed") == {second}
    assert await found("kenteken", urgency="P2") == {second}
    assert await found("kenteken", wijk="WK036204") == {first}
    assert await found("kenteken", status="closed", wijk="WK036204") == set()
    assert await found(f"#{second}", status="closed") == {second}
    assert await found(f"#{second}", status="open") == set()
    assert (await _search(client, operator, "kenteken", status="closed"))["total"] == 1

async def _in_fts_index(app, word: str) -> int:
    """How many texts SQLite's FTS5 tables still find the word in (PostgreSQL's indexes are read only through
    their tables, which the search covers)."""
    async with app.state.sessionmaker() as session:
        counts = [await session.scalar(text(f"SELECT count(*) FROM {table} WHERE {table} MATCH :word"),
                                       {"word": f'"{word}"'})
                  for table in ("search_reports", "search_feedback")]
    return sum(int(count or 0) for count in counts)


async def test_a_purged_report_and_its_feedback_are_not_found_any_more(app, client, demo, settings):
    westwijk = westwijk_beheerders(demo)
    report = await post_report(client, westwijk[0], "Paarsgestreepte sjaal gevonden bij de Zonnestein")
    operator = await login(client, demo["operator"])
    [hit] = (await _search(client, operator, "sjaal"))["items"]
    noted = await client.patch(f"/api/v1/incidents/{hit['incident']['id']}", headers=operator,
                               json={"note_for_reporter": "De hondengeleider heeft de sjaal opgehaald."})
    assert noted.status_code == 200, noted.text
    assert _found(await _search(client, operator, "hondengeleider")) == {hit["incident"]["id"]}

    words = ("paarsgestreepte", "sjaal", "hondengeleider")
    if settings.is_sqlite:
        assert [await _in_fts_index(app, word) for word in words] == [1, 2, 1]  # sjaal: report and feedback

    await purge(app.state.sessionmaker, settings, utcnow() + timedelta(days=400), source="test")

    for word in words:
        assert (await _search(client, operator, word))["total"] == 0, word
        if settings.is_sqlite:
            assert await _in_fts_index(app, word) == 0, word  # the index holds nothing of it either
    assert _found(await _search(client, operator, report["case_number"])) == {hit["incident"]["id"]}


async def _plan(app, statement, postgres: bool, *, index_only: bool = False) -> str:
    """`index_only`: PostgreSQL may read an index without its table, and nothing else but the text indexes."""
    sql = str(statement.compile(app.state.engine, compile_kwargs={"literal_binds": True}))
    async with app.state.sessionmaker() as session:
        if postgres:  # an empty test database is best scanned; ask instead whether the indexes can serve the
            # words: with scans and plain index scans priced out, only an index that answers the LIKE is left
            for setting in ("enable_seqscan", "enable_indexscan") + (() if index_only else ("enable_indexonlyscan",)):
                await session.execute(text(f"SET LOCAL {setting} = off"))
            rows = await session.execute(text("EXPLAIN " + sql))
        else:
            rows = await session.execute(text("EXPLAIN QUERY PLAN " + sql))
        return "\n".join(str(row[-1]) for row in rows)


async def test_the_history_search_reads_the_text_indexes_not_the_tables(app, settings):
    postgres = not settings.is_sqlite
    # SQLite: the history (closed), where it starts from the FTS tables; PostgreSQL: every status, so that no
    # index on the status offers another way in than the texts' indexes
    filters = SearchFilters(status="" if postgres else "closed")
    statement = page_statement(["zonnestein", "sjaal"], filters, not postgres, limit=50, offset=0)
    plan = await _plan(app, statement, postgres)
    if postgres:
        for index in ("ix_reports_text_trgm", "ix_reports_case_number_trgm", "ix_report_feedback_text_trgm",
                      "ix_incidents_override_reason_trgm"):
            assert index in plan, plan
        assert "Seq Scan" not in plan, plan
    else:
        for table in ("search_reports", "search_feedback", "search_reasons"):
            assert f"SCAN {table} VIRTUAL TABLE INDEX" in plan, plan
        assert not any(line.strip(" |-`").startswith(("SCAN reports", "SCAN report_feedback", "SCAN incidents",
                                                       "SCAN inner", "SCAN incidents_1"))
                       for line in plan.splitlines()), plan



async def test_without_filters_a_words_reports_do_not_look_up_their_incidents(app, settings):
    """A word in 1% of a year is in 10,000 reports: with no filter (every status) they give their incidents' ids
    as they are, without looking each incident up (on PostgreSQL a hash join over the million incidents); the
    incidents are read once, to order and count the matches (the covering index of migration 0025 on PostgreSQL)
    and for the page."""
    postgres = not settings.is_sqlite
    plan = await _plan(app, page_statement(["verward"], SearchFilters(status=""), not postgres, limit=50,
                                           offset=0), postgres)
    lines = [line.strip(" |-`>") for line in plan.splitlines()]
    if postgres:  # the reasons (their own text), the matches' order and count, the page
        assert sum(" on incidents " in line for line in lines) == 3, plan
    else:  # SQLite reads the page's incidents by rowid (`incidents`); only the reasons are the incidents' texts
        assert sum(line.startswith("SEARCH incidents_1 ") for line in lines) == 1, plan


async def test_a_wijks_search_starts_from_the_wijks_incidents(app, settings):
    """One wijk has ~1,000 incidents a year: its reports are read through their incidents. SQLite, given the
    text index's rows as well, probed the reports' index once per incident and row of the text index (5-8 s
    for a word in 1% of the year on the scale dataset)."""
    postgres = not settings.is_sqlite
    plan = await _plan(app, page_statement(["verward"], SearchFilters(status="", wijk="WK036204"), not postgres,
                                           limit=50, offset=0), postgres)
    if postgres:
        assert "Seq Scan" not in plan, plan
    else:
        assert "VIRTUAL TABLE" not in plan, plan
        assert "SEARCH incidents_1 USING COVERING INDEX ix_incidents_wijk_code (wijk_code=?)" in plan, plan
