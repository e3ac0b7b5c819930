"""`meldkamer load-scale`: a national registry and a year of history, written set-based (not through HTTP).

The registry (regions, gemeenten, wijken, groups, beheerders) is small enough to insert from Python in big
executemany batches; the history is written with INSERT ... SELECT from a staging table of random draws,
one row per report, so that a million reports take minutes on PostgreSQL and on SQLite. Every report gets
its own incident (closed, except those of the last hours, which form the open queue), two operator actions
in the audit log, a follow-up and a delivered terugkoppeling for most police matters; alerts go to the
beheerders of one wijk each.

A history table is one function in HISTORY_STEPS that returns its INSERT ... SELECT over `scale_facts`.
The loader refuses a database that already holds beheerders or reports (it writes explicit ids)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from app.intake.models import Report
from app.registry.models import Beheerder, Gemeente, Group, Region, WallDisplay, Wijk, beheerder_groups
from app.stats import facts

BEHEERDERS_PER_WIJK = 10
WIJKEN_PER_GEMEENTE = 10
# A wijk outline as detailed as a generalised CBS one (the national file holds a few hundred points per wijk),
# about 2 km across: the map and the evaluation's wijk map carry a realistic weight.
OUTLINE_POINTS = 240
OUTLINE_RADIUS_DEG = 0.009
GROUPS_PER_BEHEERDER = 0.8  # 8,000 groups for 10,000 beheerders: most have one group, some share one
OPEN_SECONDS = 3 * 3600  # reports of the last three hours are still open: the queue
ALERTS_PER_THOUSAND_REPORTS = 3
BATCH = 5000
YEAR_SECONDS = 365 * 86400
STAGING = ("scale_facts", "scale_draws", "scale_groups")

# The ten regional units of the Dutch police, each with a meldkamer.
REGIONS = [("NN", "Noord-Nederland"), ("ON", "Oost-Nederland"), ("MN", "Midden-Nederland"),
           ("NH", "Noord-Holland"), ("AM", "Amsterdam"), ("DH", "Den Haag"), ("RT", "Rotterdam"),
           ("ZWB", "Zeeland-West-Brabant"), ("OB", "Oost-Brabant"), ("LB", "Limburg")]
GEMEENTE_NAMES = [
    "Groningen", "Leeuwarden", "Assen", "Emmen", "Heerenveen", "Smallingerland", "Hoogeveen", "Veendam",
    "Sneek", "Meppel", "Zwolle", "Enschede", "Apeldoorn", "Arnhem", "Nijmegen", "Deventer", "Hengelo",
    "Almelo", "Ede", "Doetinchem", "Utrecht", "Amersfoort", "Almere", "Lelystad", "Nieuwegein", "Zeist",
    "Veenendaal", "Houten", "Woerden", "Soest", "Haarlem", "Zaanstad", "Alkmaar", "Hilversum", "Purmerend",
    "Den Helder", "Hoorn", "Velsen", "Heerhugowaard", "Bussum", "Amsterdam", "Amstelveen", "Diemen",
    "Aalsmeer", "Ouder-Amstel", "Uithoorn", "Landsmeer", "Oostzaan", "Waterland", "Edam-Volendam",
    "Den Haag", "Leiden", "Zoetermeer", "Delft", "Westland", "Alphen aan den Rijn", "Leidschendam-Voorburg",
    "Rijswijk", "Katwijk", "Pijnacker-Nootdorp", "Rotterdam", "Dordrecht", "Schiedam", "Vlaardingen",
    "Spijkenisse", "Capelle aan den IJssel", "Gouda", "Barendrecht", "Ridderkerk", "Zwijndrecht", "Breda",
    "Tilburg", "Roosendaal", "Bergen op Zoom", "Middelburg", "Vlissingen", "Goes", "Terneuzen", "Oosterhout",
    "Waalwijk", "Eindhoven", "'s-Hertogenbosch", "Helmond", "Oss", "Veldhoven", "Uden", "Best", "Boxtel",
    "Oisterwijk", "Geldrop-Mierlo", "Maastricht", "Venlo", "Heerlen", "Sittard-Geleen", "Roermond", "Weert",
    "Kerkrade", "Venray", "Brunssum", "Landgraaf",
]
WIJK_NAMES = ["Centrum", "Noord", "Oost", "Zuid", "West", "Oude Dorp", "Nieuwland", "De Hoven", "Buitenveld",
              "Parkwijk", "Stationsbuurt", "Molenwijk", "Kerkebuurt", "De Akkers", "Waterrijk"]
GROUP_KINDS = ["Buurtpreventie", "WhatsApp-buurtpreventie", "Buurtwacht", "WABP", "Veilig Wonen"]
FIRST_NAMES = ["Anja", "Bas", "Carla", "Dirk", "Esther", "Frank", "Gerda", "Henk", "Ingrid", "Jan", "Karin",
               "Linda", "Mohamed", "Nadia", "Otto", "Petra", "Rachid", "Sanne", "Thijs", "Yasmina", "Wim",
               "Fatima", "Kees", "Marieke", "Youssef", "Joke", "Sem", "Ilse"]
LAST_NAMES = ["de Vries", "Jansen", "van den Berg", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
              "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "de Wit",
              "Dijkstra", "Yilmaz", "El Amrani", "Kramer", "van Dijk", "Postma", "Koster", "Prins"]
CHANNEL_CHOICES = [["whatsapp"], ["whatsapp"], ["whatsapp"], ["app", "whatsapp"], ["whatsapp", "email"]]

CATEGORY_SHARES = [("signalement", 0.36), ("delict", 0.24), ("verdachte_situatie", 0.17), ("informatie", 0.11),
                   ("overig", 0.11), ("vermissing", 0.01)]
OFFENCES: dict[str, list[str | None]] = {
    "signalement": ["autokraak", "autokraak", "woninginbraak", "fietsdiefstal", None],
    "delict": ["autokraak", "woninginbraak", "fietsdiefstal", "vernieling", "diefstal"],
    "verdachte_situatie": ["woninginbraak", "autokraak", None], "informatie": ["oplichting", None],
    "overig": [None], "vermissing": [None]}
SAMPLE_TEXTS = {"signalement": "man in zwarte hoodie loopt aan autodeuren te trekken",
                "delict": "er is vannacht ingebroken in een auto, ruit ingeslagen",
                "verdachte_situatie": "witte bestelbus rijdt al een uur stapvoets rondjes door de wijk",
                "informatie": "let op: nepcollectanten met gele hesjes in de wijk",
                "overig": "onze kat is weg, grijs met witte pootjes", "vermissing": "mevrouw loopt verward op straat"}


class DatabaseNotEmpty(RuntimeError):
    """The loader writes explicit ids: it runs only on a migrated, empty database."""


@dataclass(frozen=True)
class Sizes:
    beheerders: int
    reports: int

    @property
    def wijken(self) -> int:
        return max(1, self.beheerders // BEHEERDERS_PER_WIJK)

    @property
    def gemeenten(self) -> int:
        return max(1, -(-self.wijken // WIJKEN_PER_GEMEENTE))

    @property
    def groups(self) -> int:
        return max(1, round(self.beheerders * GROUPS_PER_BEHEERDER))

    @property
    def open_incidents(self) -> int:
        """Reports of the last three hours, still open: the queue (at least a screenful in a small load)."""
        return min(self.reports, max(20, self.reports * OPEN_SECONDS // YEAR_SECONDS))

    @property
    def alerts(self) -> int:
        return max(1, self.reports * ALERTS_PER_THOUSAND_REPORTS // 1000)


@dataclass
class LoadResult:
    sizes: Sizes
    seconds: dict[str, float] = field(default_factory=dict)


class Dialect:
    """The few SQL spellings that differ between PostgreSQL and SQLite."""

    def __init__(self, name: str, now: datetime) -> None:
        self.postgres = name == "postgresql"
        self.now = now.astimezone(UTC).replace(microsecond=0)

    def series(self, count: int) -> str:
        if self.postgres:
            return f"WITH s(g) AS (SELECT generate_series(1, {int(count)}))"
        return f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {int(count)})"

    def random(self) -> str:
        return "random()" if self.postgres else "((abs(random()) % 1000000) / 1000000.0)"

    def whole(self, expression: str) -> str:
        """Rounds a non-negative number down to an integer."""
        return f"floor({expression})::int" if self.postgres else f"CAST({expression} AS INTEGER)"

    def seconds_ago(self, expression: str) -> str:
        """The moment `expression` seconds before the load's now, as the column type stores it."""
        moment = self.now.strftime("%Y-%m-%d %H:%M:%S")
        if self.postgres:
            return f"(TIMESTAMPTZ '{moment}+00' - make_interval(secs => {expression}))"
        return f"(strftime('%Y-%m-%d %H:%M:%f', julianday('{moment}') - ({expression}) / 86400.0) || '000')"

    def json(self, literal: str) -> str:
        return f"CAST('{literal}' AS json)" if self.postgres else f"'{literal}'"

    def json_array(self, expression: str) -> str:
        return f"json_build_array({expression})" if self.postgres else f"json_array({expression})"


def pick(draw: str, values: Sequence[str | None]) -> str:
    """A CASE that maps a draw in [0, 1) to one of `values` with equal chances (SQL literals)."""
    literal = [("NULL" if value is None else f"'{value}'") for value in values]
    if len(set(literal)) == 1:
        return literal[0]
    arms = " ".join(f"WHEN {draw} < {(i + 1) / len(values):.6f} THEN {v}" for i, v in enumerate(literal[:-1]))
    return f"CASE {arms} ELSE {literal[-1]} END"


# --- the registry ---------------------------------------------------------------------------------------


def registry_rows(sizes: Sizes, rng: random.Random) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Every registry row, in foreign-key order."""
    regions = [{"id": i + 1, "code": code, "name": f"Meldkamer {name}"} for i, (code, name) in enumerate(REGIONS)]
    gemeenten = [_gemeente(i, len(regions)) for i in range(sizes.gemeenten)]
    wijken = [_wijk(i, gemeenten, rng) for i in range(sizes.wijken)]
    groups = [_group(i, wijken, rng) for i in range(sizes.groups)]
    beheerders = [_beheerder(i, rng) for i in range(sizes.beheerders)]
    walls = [{"id": r["id"], "name": f"Videowall {r['name']}", "region_id": r["id"], "active": True,
              "created_at": datetime.now(UTC)} for r in regions]
    return [(_table(Region), regions), (_table(Gemeente), gemeenten), (_table(Wijk), wijken),
            (_table(Group), groups), (_table(Beheerder), beheerders),
            (beheerder_groups, _memberships(sizes)), (_table(WallDisplay), walls)]


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _gemeente(index: int, region_count: int) -> dict[str, Any]:
    base = GEMEENTE_NAMES[index % len(GEMEENTE_NAMES)]
    name = base if index < len(GEMEENTE_NAMES) else f"{base} ({index // len(GEMEENTE_NAMES) + 1})"
    region = min(region_count, index * region_count // max(len(GEMEENTE_NAMES), index + 1) + 1)
    return {"id": index + 1, "code": f"GM{index + 1:04d}", "name": name, "region_id": region}


def _wijk(index: int, gemeenten: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    gemeente = gemeenten[index // WIJKEN_PER_GEMEENTE]
    number = index % WIJKEN_PER_GEMEENTE
    return {"id": index + 1, "code": f"WK{gemeente['id']:04d}{number:02d}",
            "name": f"{gemeente['name']} {WIJK_NAMES[number % len(WIJK_NAMES)]}", "gemeente_id": gemeente["id"],
            **_placed(rng.uniform(51.3, 53.3), rng.uniform(4.0, 6.8), rng)}


def _placed(lat: float, lon: float, rng: random.Random) -> dict[str, Any]:
    """A centroid and a ragged outline around it (a GeoJSON polygon, WGS84)."""
    phase, lobes = rng.uniform(0, 2 * math.pi), rng.randint(3, 7)
    ring = []
    for k in range(OUTLINE_POINTS):
        angle = 2 * math.pi * k / OUTLINE_POINTS
        radius = OUTLINE_RADIUS_DEG * (1 + 0.25 * math.sin(lobes * angle + phase) + rng.uniform(-0.04, 0.04))
        ring.append([round(lon + radius * math.cos(angle) / math.cos(math.radians(lat)), 6),
                     round(lat + radius * math.sin(angle), 6)])
    ring.append(ring[0])
    return {"geometry": {"type": "Polygon", "coordinates": [ring]}, "centroid_lat": round(lat, 5),
            "centroid_lon": round(lon, 5)}


def _group(index: int, wijken: list[dict[str, Any]], rng: random.Random) -> dict[str, Any]:
    wijk = wijken[index % len(wijken)]
    return {"id": index + 1, "name": f"{rng.choice(GROUP_KINDS)} {wijk['name']} {index // len(wijken) + 1}",
            "wijk_id": wijk["id"], "member_count": rng.randint(15, 260), "active": True,
            "created_at": datetime.now(UTC)}


def _beheerder(index: int, rng: random.Random) -> dict[str, Any]:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    channels = rng.choice(CHANNEL_CHOICES)
    email = f"beheerder{index + 1}@buurtpreventie.example" if "email" in channels else None
    return {"id": index + 1, "name": name, "phone": f"+3161{index + 1:07d}", "whatsapp_user_id": None,
            "email": email, "channels": channels, "active": True, "created_at": datetime.now(UTC)}


def _memberships(sizes: Sizes) -> list[dict[str, Any]]:
    """Beheerder n runs group n (mod the groups): the first groups get a second beheerder."""
    return [{"beheerder_id": b + 1, "group_id": b % sizes.groups + 1} for b in range(sizes.beheerders)]


# --- the history ----------------------------------------------------------------------------------------

def draws_sql(d: Dialect, sizes: Sizes) -> str:
    columns = ", ".join(f"{d.random()} AS r{k}" for k in range(1, 16))
    return f"CREATE TABLE scale_draws AS {d.series(sizes.reports)} SELECT g, {columns} FROM s"


def groups_sql(_: Dialect, __: Sizes) -> str:
    return """CREATE TABLE scale_groups AS
SELECT g.id AS idx, g.id AS group_id, w.code AS wijk_code, w.id AS wijk_id, gm.region_id,
       (SELECT min(bg.beheerder_id) FROM beheerder_groups bg WHERE bg.group_id = g.id) AS beheerder_id
FROM groups g JOIN wijken w ON w.id = g.wijk_id JOIN gemeenten gm ON gm.id = w.gemeente_id"""


def facts_sql(d: Dialect, sizes: Sizes) -> str:
    """One row per report: its group, labels, and how many seconds after arrival things happened."""
    category = "CASE " + " ".join(
        f"WHEN r1 < {sum(share for _, share in CATEGORY_SHARES[:i + 1]):.4f} THEN '{name}'"
        for i, (name, _) in enumerate(CATEGORY_SHARES[:-1])) + f" ELSE '{CATEGORY_SHARES[-1][0]}' END"
    offence = "CASE category " + " ".join(f"WHEN '{c}' THEN {pick('r2', values)}" for c, values in OFFENCES.items()
                                          ) + " END"
    urgency = ("CASE category WHEN 'overig' THEN 'none' WHEN 'vermissing' THEN 'P1' WHEN 'verdachte_situatie' "
               f"THEN 'P3' WHEN 'informatie' THEN 'P3' ELSE {pick('r3', ['P1', 'P2', 'P2', 'P3'])} END")
    follow_up = ("CASE WHEN category = 'overig' THEN NULL WHEN r8 < 0.45 THEN 'ter_plaatse' WHEN r8 < 0.5 THEN "
                 "'surveillance' WHEN r8 < 0.55 THEN 'doorgezet_gemeente' WHEN r8 < 0.75 THEN 'geen_opvolging' END")
    ago = (f"CASE WHEN g <= {sizes.open_incidents} THEN {d.whole(f'r15 * {OPEN_SECONDS}')} "
           f"ELSE {OPEN_SECONDS} + {d.whole(f'r15 * {YEAR_SECONDS - OPEN_SECONDS}')} END")
    return f"""CREATE TABLE scale_facts AS
SELECT g, ago, g <= {sizes.open_incidents} AS still_open, group_id, wijk_code, region_id, beheerder_id, category,
       {offence} AS offence, {urgency} AS urgency, r4 < 0.2 AS called_112, r5 < 0.03 AS appearance_only,
       CASE WHEN r6 < 0.1 THEN {pick('r7', ['P1', 'P2', 'P3', 'none'])} END AS override,
       {follow_up} AS follow_up,
       CASE WHEN r9 < 0.06 THEN 'aanhouding' WHEN r9 < 0.12 THEN 'geen_verdachte_situatie' END AS result,
       15 + {d.whole('r10 * 3600')} AS action_after, 60 + {d.whole('r11 * 2400')} AS follow_after,
       60 + {d.whole('r12 * 600')} AS delivered_after, r13 < 0.9 AS delivered
FROM (SELECT g, {ago} AS ago, {category} AS category, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11, r12, r13,
             1 + {d.whole(f'r14 * {sizes.groups}')} AS group_idx
      FROM scale_draws) AS f
JOIN scale_groups AS grp ON grp.idx = f.group_idx"""


def incidents_sql(d: Dialect, _: Sizes) -> str:
    received = d.seconds_ago("ago")
    closed = d.seconds_ago("ago - follow_after")
    return f"""INSERT INTO incidents (id, region_id, status, urgency, urgency_override, overridden, category, offence,
    wijk_code, report_count, group_ids, summary, appearance_only, first_report_at, last_report_at, follow_up,
    result, created_at, updated_at, closed_at, unrecognised)
SELECT g, region_id, CASE WHEN still_open THEN 'open' ELSE 'closed' END, coalesce(override, urgency), override,
       CASE WHEN override IS NULL THEN {d.json('[]')} ELSE {d.json('["urgency"]')} END, category, offence, wijk_code,
       1, {d.json_array('group_id')}, {_sample_text()}, appearance_only, {received}, {received},
       CASE WHEN still_open THEN NULL ELSE follow_up END, CASE WHEN still_open THEN NULL ELSE result END,
       {received}, {received}, CASE WHEN still_open THEN NULL ELSE {closed} END, FALSE
FROM scale_facts"""


def _sample_text() -> str:
    return "CASE category " + " ".join(f"WHEN '{c}' THEN '{t}'" for c, t in SAMPLE_TEXTS.items()) + " END"


def reports_sql(d: Dialect, _: Sizes) -> str:
    received = d.seconds_ago("ago")
    return f"""INSERT INTO reports (id, case_number, beheerder_id, group_id, group_pending, source_wijk_code, region_id,
    channel, request_hash, text, text_original, received_at, called_112, forwarded, status, advice, urgency, category,
    offence, appearance_only, wijk_code, incident_id, follow_up, result)
SELECT g, 'MK-H-' || g, beheerder_id, group_id, FALSE, wijk_code, region_id, 'whatsapp', 'scale-' || g,
       {_sample_text()}, {_sample_text()}, {received}, CASE WHEN called_112 THEN TRUE END, TRUE,
       CASE WHEN still_open THEN 'ontvangen' ELSE 'afgehandeld' END, {d.json('[]')}, urgency, category, offence,
       appearance_only, wijk_code, g, CASE WHEN still_open THEN NULL ELSE follow_up END,
       CASE WHEN still_open THEN NULL ELSE result END
FROM scale_facts"""


def audit_sql(d: Dialect, _: Sizes) -> str:
    at = d.seconds_ago("ago - action_after - step * 300")
    return f"""INSERT INTO audit_entries (at, actor_type, actor_id, actor_name, action, target_type, target_id, detail)
SELECT {at}, 'staff', NULL, 'centralist', CASE step WHEN 0 THEN 'incident.claim' ELSE 'incident.update' END,
       'incident', CAST(g AS VARCHAR(64)), {d.json('{}')}
FROM scale_facts CROSS JOIN (SELECT 0 AS step UNION ALL SELECT 1) AS steps
WHERE NOT still_open"""


def feedback_sql(d: Dialect, _: Sizes) -> str:
    return f"""INSERT INTO report_feedback (report_id, at, kind, text)
SELECT g, {d.seconds_ago('ago - follow_after')}, 'follow_up', 'De politie is ter plaatse geweest.'
FROM scale_facts WHERE follow_up IS NOT NULL AND NOT still_open"""


def feedback_deliveries_sql(d: Dialect, _: Sizes) -> str:
    created = d.seconds_ago("ago - follow_after")
    delivered = d.seconds_ago("ago - follow_after - delivered_after")
    return f"""INSERT INTO deliveries (purpose, report_id, beheerder_id, channel, fallbacks, status, parts,
    use_template, attempts, failures, superseded, created_at, sent_at, delivered_at)
SELECT 'feedback', g, beheerder_id, 'whatsapp', {d.json('[]')}, 'delivered', {d.json('[]')}, FALSE, 1, 0, FALSE,
       {created}, {delivered}, {delivered}
FROM scale_facts WHERE follow_up IS NOT NULL AND delivered AND NOT still_open"""


def broadcasts_sql(d: Dialect, sizes: Sizes) -> str:
    created = d.seconds_ago(d.whole(f"{OPEN_SECONDS} + {d.random()} * {YEAR_SECONDS - OPEN_SECONDS}"))
    return f"""INSERT INTO broadcasts (id, kind, text, message, target, wijkcodes, gemeentecodes, region_id,
    created_by_name, created_at, confirmed_warnings, recipient_count, progress_dirty, finished_at)
{d.series(sizes.alerts)}
SELECT s.g, 'heterdaad', 'Inbraak in uw wijk, let op verdachte personen.',
       'Politie: inbraak in uw wijk, let op verdachte personen en bel 112 bij heterdaad.',
       {d.json('{}')}, {d.json_array('w.code')}, {d.json('[]')}, gm.region_id, 'centralist', {created},
       {d.json('[]')}, (SELECT count(*) FROM scale_groups sg WHERE sg.wijk_id = w.id), FALSE, NULL
FROM s JOIN wijken w ON w.id = 1 + (s.g * 7919) % {sizes.wijken} JOIN gemeenten gm ON gm.id = w.gemeente_id"""


def alert_deliveries_sql(d: Dialect, sizes: Sizes) -> str:
    failed = "sg.beheerder_id % 25 = 0"  # one in 25 phones unreachable
    return f"""INSERT INTO deliveries (purpose, broadcast_id, beheerder_id, channel, fallbacks, status, parts,
    use_template, attempts, failures, superseded, created_at, sent_at, delivered_at)
SELECT 'alert', b.id, sg.beheerder_id, 'whatsapp', {d.json('[]')},
       CASE WHEN {failed} THEN 'failed' ELSE 'delivered' END, {d.json('[]')}, FALSE, 1, 0, FALSE,
       b.created_at, b.created_at, CASE WHEN {failed} THEN NULL ELSE b.created_at END
FROM broadcasts b JOIN wijken w ON w.id = 1 + (b.id * 7919) % {sizes.wijken}
JOIN scale_groups sg ON sg.wijk_id = w.id"""


HistoryStep = Callable[[Dialect, Sizes], str]
HISTORY_STEPS: list[tuple[str, HistoryStep]] = [
    ("draws", draws_sql), ("groups", groups_sql), ("facts", facts_sql), ("incidents", incidents_sql),
    ("reports", reports_sql), ("audit", audit_sql), ("feedback", feedback_sql),
    ("feedback deliveries", feedback_deliveries_sql), ("broadcasts", broadcasts_sql),
    ("alert deliveries", alert_deliveries_sql),
]
SEQUENCED_TABLES = ("regions", "gemeenten", "wijken", "groups", "beheerders", "wall_displays", "incidents",
                    "reports", "broadcasts")


# --- running it ----------------------------------------------------------------------------------------

async def load_scale(engine: AsyncEngine, sizes: Sizes, *, seed: int = 16) -> LoadResult:
    """Writes the registry and the history into an empty, migrated database."""
    result = LoadResult(sizes)
    dialect = Dialect(engine.dialect.name, datetime.now(UTC))
    async with engine.begin() as connection:
        await _refuse_non_empty(connection)
        await _timed(result, "registry", _insert_registry(connection, sizes, random.Random(seed)))
        for name, step in HISTORY_STEPS:
            await _timed(result, name, connection.execute(text(step(dialect, sizes))))
        for table in STAGING:
            await connection.execute(text(f"DROP TABLE {table}"))
        if dialect.postgres:
            await _advance_sequences(connection)
    await _timed(result, "evaluation facts", _rebuild_facts(engine))
    await _timed(result, "analyze", _analyze(engine, dialect))
    return result


async def _rebuild_facts(engine: AsyncEngine) -> None:
    """The evaluation's fact rows and counts (app.stats.facts), from the history just written."""
    async with AsyncSession(engine) as session, session.begin():
        await facts.rebuild(session)


async def _timed(result: LoadResult, name: str, work: Any) -> None:
    started = time.perf_counter()
    await work
    result.seconds[name] = round(time.perf_counter() - started, 2)


async def _refuse_non_empty(connection: AsyncConnection) -> None:
    for model in (Beheerder, Report):
        count = await connection.scalar(select(func.count()).select_from(_table(model)))
        if count:
            raise DatabaseNotEmpty(f"de database bevat al {count} rijen in {_table(model).name}; "
                                   "load-scale vult alleen een lege, gemigreerde database")


async def _insert_registry(connection: AsyncConnection, sizes: Sizes, rng: random.Random) -> None:
    for table, rows in registry_rows(sizes, rng):
        for start in range(0, len(rows), BATCH):
            await connection.execute(insert(table), rows[start:start + BATCH])


async def _advance_sequences(connection: AsyncConnection) -> None:
    for table in SEQUENCED_TABLES:
        await connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                      f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"))


async def _analyze(engine: AsyncEngine, dialect: Dialect) -> None:
    """Statistics for the planner, as PostgreSQL's autovacuum would gather them soon after a bulk load."""
    if not dialect.postgres:
        return
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("VACUUM ANALYZE"))
