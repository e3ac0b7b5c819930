"""Every migration upgrades from empty and downgrades to empty, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from app.cli import alembic_config
from app.incidents.text_index import is_text_index
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


def _model_tables(url: str) -> set[str]:
    return {name for name in _tables(url) if not is_text_index(name)}  # not the search's FTS5 tables (0022)


def test_upgrade_from_empty_creates_every_model_table_and_downgrade_removes_them(empty_database):
    config = alembic_config(empty_database)
    assert _tables(empty_database) == set()
    command.upgrade(config, "head")
    assert _model_tables(empty_database) == set(Base.metadata.tables)
    command.downgrade(config, "base")
    assert _tables(empty_database) == set()
    command.upgrade(config, "head")
    assert _model_tables(empty_database) == set(Base.metadata.tables)


def test_the_migrated_schema_is_the_schema_the_models_declare(empty_database):
    """Indexes, columns and constraints: a model changed without a migration (or the reverse) shows here."""
    command.upgrade(alembic_config(empty_database), "head")
    engine = create_engine(_sync_url(empty_database))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_name": lambda name, type_, parents: not is_text_index(name)})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == []


def _insert(connection, table: str, **values) -> None:
    names = ", ".join(values)
    connection.execute(text(f"INSERT INTO {table} ({names}) VALUES ({', '.join(':' + n for n in values)})"), values)


def test_upgrading_marks_the_incidents_that_hold_an_unrecognised_report(empty_database):
    """Migration 0009 backfills incidents.unrecognised from the reports' stored triage."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0008")
    engine = create_engine(_sync_url(empty_database))
    now = datetime(2026, 12, 1, 21, 0)
    unrecognised = {"urgency": "P3", "reasons": [{"code": "unrecognised", "text": "niet herkend: beoordeel zelf"}]}
    understood = {"urgency": "P1", "reasons": [{"code": "in_progress", "text": "nu bezig"}]}
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # the rows below skip the registry they refer to
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            for incident_id in (1, 2):
                _insert(connection, "incidents", id=incident_id, status="open", urgency="P3", overridden="[]",
                        report_count=1, group_ids="[1]", summary="", appearance_only=False, first_report_at=now,
                        last_report_at=now, created_at=now, updated_at=now)
            for report_id, incident_id, triage in ((1, 1, understood), (2, 1, unrecognised), (3, 2, understood)):
                _insert(connection, "reports", id=report_id, case_number=report_id, beheerder_id=1, group_id=1,
                        source_wijk_code="WW01", channel="rest", request_hash=f"h{report_id}", text="tekst",
                        text_original="tekst", received_at=now, forwarded=False, status="triaged", advice="[]",
                        incident_id=incident_id, triage=json.dumps(triage))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            marked = dict(connection.execute(text("SELECT id, unrecognised FROM incidents ORDER BY id")).all())
    finally:
        engine.dispose()
    assert {incident_id: bool(flag) for incident_id, flag in marked.items()} == {1: True, 2: False}


def test_letting_reports_wait_for_their_group_keeps_the_rows_that_refer_to_them(empty_database):
    """Migration 0010 rebuilds `reports` on SQLite (copy, drop, rename): dropping it with foreign keys enforced
    would delete every photo of every report (ON DELETE CASCADE)."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0009")
    engine = create_engine(_sync_url(empty_database))
    now = datetime(2026, 12, 1, 21, 0)
    try:
        with engine.begin() as connection:
            _insert(connection, "gemeenten", id=1, code="GM0362", name="Amstelveen")
            _insert(connection, "wijken", id=1, code="WK036204", name="Westwijk", gemeente_id=1)
            _insert(connection, "groups", id=1, name="Buurtapp", wijk_id=1, member_count=40, active=True,
                    created_at=now)
            _insert(connection, "beheerders", id=1, name="Beheerder", channels="[]", active=True, created_at=now)
            _insert(connection, "reports", id=1, case_number="MK-2026-000001", beheerder_id=1, group_id=1,
                    source_wijk_code="WK036204", channel="api", request_hash="h1", text="tekst", text_original="tekst",
                    received_at=now, forwarded=False, status="ontvangen", advice="[]", appearance_only=False)
            _insert(connection, "report_photos", id=1, report_id=1, status="pending", attempts=0, created_at=now)
        command.upgrade(config, "head")
        with engine.connect() as connection:
            photos = connection.execute(text("SELECT count(*) FROM report_photos")).scalar_one()
            report = connection.execute(text("SELECT group_id, group_pending FROM reports")).one()
    finally:
        engine.dispose()
    assert photos == 1
    assert report.group_id == 1 and not report.group_pending


def test_upgrading_gives_each_incident_the_most_serious_reason_of_its_reports(empty_database):
    """Migration 0011 backfills incidents.lead_reason (the card's weapon, injury, fire) from the reports."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0009")
    engine = create_engine(_sync_url(empty_database))
    now = datetime(2026, 12, 1, 21, 0)
    harm = {"code": "floor_harm", "text": "veiligheidsvloer P1: letsel ('gewond')"}
    weapon = {"code": "floor_weapon", "text": "veiligheidsvloer P1: wapen ('mes')"}
    plain = {"code": "in_progress", "text": "gebeurt nu"}
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":  # the rows below skip the registry they refer to
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            for incident_id in (1, 2):
                _insert(connection, "incidents", id=incident_id, status="open", urgency="P1", overridden="[]",
                        report_count=1, group_ids="[1]", summary="", appearance_only=False, first_report_at=now,
                        last_report_at=now, created_at=now, updated_at=now)
            for report_id, incident_id, reasons in ((1, 1, [plain, harm]), (2, 1, [weapon]), (3, 2, [plain])):
                _insert(connection, "reports", id=report_id, case_number=report_id, beheerder_id=1, group_id=1,
                        source_wijk_code="WW01", channel="rest", request_hash=f"h{report_id}", text="tekst",
                        text_original="tekst", received_at=now, forwarded=False, status="triaged", advice="[]",
                        incident_id=incident_id, triage=json.dumps({"urgency": "P1", "reasons": reasons}))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            leads = dict(connection.execute(text("SELECT id, lead_reason FROM incidents ORDER BY id")).all())
    finally:
        engine.dispose()
    read = {incident_id: json.loads(lead) if isinstance(lead, str) else lead for incident_id, lead in leads.items()}
    assert read == {1: {"code": "floor_weapon", "text": "Wapen ('mes')"}, 2: None}


def test_upgrading_computes_the_facts_of_the_alerts_already_sent(empty_database):
    """Migration 0019 backfills the alert facts with its own SQL: a recipient who runs two groups of a wijk
    counts once for it, a beheerder without a group counts only towards the time to 90%, and a row a fallback
    replaced does not count."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0018")
    engine = create_engine(_sync_url(empty_database))
    sent = datetime(2026, 12, 1, 21, 0)
    try:
        with engine.begin() as connection:
            _insert(connection, "gemeenten", id=1, code="GM0362", name="Amstelveen")
            _insert(connection, "wijken", id=1, code="WK036204", name="Westwijk", gemeente_id=1)
            for group_id in (1, 2):
                _insert(connection, "groups", id=group_id, name=f"Groep {group_id}", wijk_id=1, member_count=40,
                        active=True, created_at=sent)
            for beheerder_id in (1, 2, 3):
                _insert(connection, "beheerders", id=beheerder_id, name=f"B{beheerder_id}", channels="[]",
                        active=True, created_at=sent)
            for beheerder_id, group_id in ((1, 1), (2, 1), (2, 2)):
                _insert(connection, "beheerder_groups", beheerder_id=beheerder_id, group_id=group_id)
            _insert(connection, "broadcasts", id=1, kind="heterdaad", text="alarm", message="alarm", target="{}",
                    wijkcodes="[]", gemeentecodes="[]", created_by_name="test", created_at=sent,
                    confirmed_warnings="[]", recipient_count=3, progress_dirty=False)
            rows = [(1, "app", False, 30, True), (1, "whatsapp", True, None, False), (2, "app", False, 90, False),
                    (3, "app", False, 10, False)]
            for number, (beheerder_id, channel, superseded, after, forwarded) in enumerate(rows, start=1):
                delivered = sent + timedelta(seconds=after) if after is not None else None
                _insert(connection, "deliveries", id=number, purpose="alert", broadcast_id=1,
                        beheerder_id=beheerder_id, channel=channel, fallbacks="[]",
                        status="failed" if superseded else "delivered", parts="[]", use_template=False, attempts=1,
                        failures=0, superseded=superseded, created_at=sent, delivered_at=delivered,
                        forwarded_at=sent + timedelta(minutes=5) if forwarded else None)
        command.upgrade(config, "head")
        with engine.connect() as connection:
            alert = connection.execute(text("SELECT recipients, delivered, forwarded, failed, ninety_s "
                                            "FROM alert_facts")).one()
            wijk = connection.execute(text("SELECT recipients, forwarded, groups, groups_forwarded "
                                           "FROM alert_area_facts WHERE group_id IS NULL")).one()
            groups = connection.execute(text("SELECT group_id, recipients, groups_forwarded FROM alert_area_facts "
                                             "WHERE group_id IS NOT NULL ORDER BY group_id")).all()
    finally:
        engine.dispose()
    assert tuple(alert) == (2, 2, 1, 0, 90)  # ceil(90% of 3) = the third delivered, after 90 s
    assert tuple(wijk) == (2, 1, 2, 1)
    assert [tuple(row) for row in groups] == [(1, 2, 1), (2, 1, 0)]


def test_upgrading_sums_the_weekly_labels_of_the_day_counts_per_iso_week(empty_database):
    """Migration 0024 backfills the week counts with its own SQL: Sunday belongs to the week before, Monday
    opens the next, and only the weekly series' labels are kept."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0021")
    engine = create_engine(_sync_url(empty_database))
    days = {"2026-11-29": 2, "2026-11-30": 3, "2026-12-06": 5}  # a Sunday, the Monday after, its Sunday
    try:
        with engine.begin() as connection:
            for day, n in days.items():
                for label in ("reports", "category:delict"):
                    _insert(connection, "report_day_counts", day=date.fromisoformat(day), group_id=1, wijk="WK036204",
                            label=label, n=n)
        command.upgrade(config, "head")
        with engine.connect() as connection:
            weeks = connection.execute(text("SELECT week, label, n FROM report_week_counts ORDER BY week")).all()
    finally:
        engine.dispose()
    assert [(str(week), label, n) for week, label, n in weeks] == [("2026-11-23", "reports", 2),
                                                                  ("2026-11-30", "reports", 8)]


def _audit_details(connection) -> dict[int, dict]:
    rows = connection.execute(text("SELECT id, detail FROM audit_entries ORDER BY id")).all()
    return {row.id: json.loads(row.detail) if isinstance(row.detail, str) else row.detail for row in rows}


def test_upgrading_moves_the_personal_fields_of_audit_entries_apart_and_downgrading_puts_them_back(empty_database):
    """Migration 0023: reasons, moved points and merge snapshots leave the append-only audit_entries for
    audit_personal, where the purge can clear them; other fields and other entries stay as they were."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0021")
    engine = create_engine(_sync_url(empty_database))
    at = datetime(2026, 11, 1, 21, 0)
    written = {
        1: ("incident.update", {"fields": ["lat", "lon", "urgency"], "reason": "Buurman Jansen",
                                "values": {"urgency": "P3", "lat": 52.3, "lon": 4.8}}),
        2: ("incident.keep", {"reason": "Onderzoek", "keep_until": "2027-11-01T21:00:00+00:00"}),
        3: ("incident.merge", {"merged": [7], "before": {"target": {"summary": "Man met rode jas"}}}),
        4: ("incident.update", {"fields": ["category"], "reason": None, "values": {"category": "overig"}}),
        5: ("login.failed", {"username": "operator"}),
    }
    try:
        with engine.begin() as connection:
            for entry_id, (action, detail) in written.items():
                _insert(connection, "audit_entries", id=entry_id, at=at, actor_type="staff", action=action,
                        target_type="incident", target_id="7", detail=json.dumps(detail))
        command.upgrade(config, "0023")
        with engine.connect() as connection:
            upgraded = _audit_details(connection)
            personal = {(row.audit_entry_id, row.kind): json.loads(row.details) if isinstance(row.details, str)
                        else row.details for row in connection.execute(text(
                            "SELECT audit_entry_id, kind, details FROM audit_personal"))}
        command.downgrade(config, "0021")
        with engine.connect() as connection:
            downgraded = _audit_details(connection)
    finally:
        engine.dispose()
    assert upgraded == {1: {"fields": ["lat", "lon", "urgency"], "values": {"urgency": "P3"}},
                        2: {"keep_until": "2027-11-01T21:00:00+00:00"}, 3: {"merged": [7]},
                        4: written[4][1], 5: written[5][1]}
    assert personal == {(1, "notes"): {"reason": "Buurman Jansen"},
                        (1, "locations"): {"values.lat": 52.3, "values.lon": 4.8},
                        (2, "notes"): {"reason": "Onderzoek"},
                        (3, "report_texts"): {"before": {"target": {"summary": "Man met rode jas"}}}}
    assert downgraded == {entry_id: detail for entry_id, (_, detail) in written.items()}


def test_upgrading_removes_the_names_and_unkeyed_numbers_the_audit_log_kept(empty_database):
    """Migration 0027: a failed login's name moves to audit_personal when it is an account's and is dropped
    when it is not (both lose their readable target); the unkeyed hash of a subject-access number, the name of
    a beheerder who acted, and the beheerder's name in participation events go; the rest stays."""
    config = alembic_config(empty_database)
    command.upgrade(config, "0024")
    engine = create_engine(_sync_url(empty_database))
    at = datetime(2026, 11, 1, 21, 0)
    entries = {
        1: ("staff", None, "login.failed", "login_name", "operator", {"username": "operator", "staff_user_id": 1}),
        2: ("anonymous", None, "login.failed", "login_name", "geheim123!", {"username": "Geheim123!",
                                                                          "staff_user_id": None}),
        3: ("anonymous", None, "login.locked", "login_name", "operator", {"username": "operator"}),
        4: ("staff", "admin", "privacy.subject_access", "subject", "0f1e2d3c4b5a6978", {"beheerder_ids": [3]}),
        5: ("beheerder", "Anja de Vries", "report.group", "report", "9", {"group_id": 2}),
        6: ("staff", "operator", "incident.claim", "incident", "7", {"extended": False}),
    }
    try:
        with engine.begin() as connection:
            _insert(connection, "staff_users", id=1, username="operator", display_name="Operator", role="operator",
                    password_hash="x", wijkcodes="[]", active=True, failed_logins=0, created_at=at)
            for entry_id, (actor_type, actor_name, action, target_type, target_id, detail) in entries.items():
                _insert(connection, "audit_entries", id=entry_id, at=at, actor_type=actor_type, actor_name=actor_name,
                        action=action, target_type=target_type, target_id=target_id, detail=json.dumps(detail))
            _insert(connection, "events", id=1, type="operation.participant_joined", at=at, audience="staff",
                    data=json.dumps({"operation_id": 4, "beheerder_id": 3, "beheerder_name": "Anja de Vries"}))
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = {row.id: row for row in connection.execute(text(
                "SELECT id, actor_name, target_id FROM audit_entries ORDER BY id"))}
            details = _audit_details(connection)
            personal = {(row.audit_entry_id, row.kind): json.loads(row.details) if isinstance(row.details, str)
                        else row.details for row in connection.execute(text(
                            "SELECT audit_entry_id, kind, details FROM audit_personal"))}
            event = connection.execute(text("SELECT data FROM events")).scalar_one()
    finally:
        engine.dispose()
    assert details == {1: {"staff_user_id": 1}, 2: {"staff_user_id": None}, 3: {"staff_user_id": 1},
                       4: {"beheerder_ids": [3]}, 5: {"group_id": 2}, 6: {"extended": False}}
    assert personal == {(1, "login_names"): {"login_name": "operator"}, (3, "login_names"): {"login_name": "operator"}}
    assert [rows[entry_id].target_id for entry_id in (1, 2, 3, 4)] == [None] * 4
    assert (rows[5].actor_name, rows[5].target_id) == (None, "9")
    assert (rows[6].actor_name, rows[6].target_id, rows[4].actor_name) == ("operator", "7", "admin")
    assert (json.loads(event) if isinstance(event, str) else event) == {"operation_id": 4, "beheerder_id": 3}
