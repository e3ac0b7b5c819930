"""The `meldkamer` command: migrate, serve, seed the demo, import geodata, evaluate triage."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import signal
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import typer
from sqlalchemy.ext.asyncio import AsyncSession

import app.models  # noqa: F401  (every table, for the foreign keys of the outbox's tables)
from app.auth.service import create_staff_user
from app.broadcast.worker import start_delivery_worker
from app.core.database import create_engine, create_sessionmaker, utcnow
from app.core.errors import ProblemError
from app.core.logging import configure_logging
from app.core.principal import SYSTEM
from app.core.pseudonym import audit_key
from app.core.settings import PROJECT_ROOT, Settings, config_dir, get_settings
from app.core.vocabulary import TIMEZONE
from app.demo import seed_demo as run_seed
from app.hotspots import service as hotspots
from app.learning import service as learning
from app.privacy import access
from app.privacy.retention import KINDS, PurgeResult
from app.privacy.retention import purge as run_purge
from app.registry import imports
from app.registry.imports import load_json_file
from app.registry.schemas import normalise_phone
from app.simulation import live
from app.simulation.history import MAX_DAYS, seed_history
from app.simulation.scale import DatabaseNotEmpty, Sizes, load_scale
from app.triage.evaluation import run_eval
from app.triage.reference import read_hotspots_geojson, read_signalementen_json

logger = logging.getLogger("app.broadcast.worker")
cli = typer.Typer(help="Meldkamer relay: meldingen van WhatsApp-buurtgroepen.", no_args_is_help=True)
T = TypeVar("T")


def _with_session(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        settings = get_settings()
        engine = create_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        try:
            async with create_sessionmaker(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def alembic_config(database_url: str | None = None) -> Any:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Doelversie")] = "head") -> None:
    """Upgrade the database named by MELDKAMER_DATABASE_URL to the newest schema."""
    from alembic import command

    command.upgrade(alembic_config(get_settings().database_url), revision)
    typer.echo(f"database migrated to {revision}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Adres om op te luisteren")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Poort")] = 8000,
    workers: Annotated[int, typer.Option(help="Aantal processen (alleen PostgreSQL)")] = 1,
    forwarded_allow_ips: Annotated[str | None, typer.Option(
        help="Achter een reverse proxy: de adressen waarvan X-Forwarded-For wordt geloofd")] = None,
    worker_healthcheck_timeout: Annotated[int, typer.Option(
        help="Met meer processen: seconden dat een proces mag zwijgen voordat het wordt herstart")] = 30,
) -> None:
    """Serve the API and the dashboards."""
    import uvicorn

    # uvicorn restarts a worker that does not answer its health ping in time (5 s by default); a worker busy
    # under a burst on a loaded machine is slow, not dead, and a restart would drop its open connections.
    uvicorn.run("app.main:app", host=host, port=port, workers=workers, log_config=None,
                proxy_headers=forwarded_allow_ips is not None, forwarded_allow_ips=forwarded_allow_ips,
                ws_ping_interval=20, ws_ping_timeout=20, timeout_worker_healthcheck=worker_healthcheck_timeout)


@cli.command("seed-demo")
def seed_demo(out: Annotated[Path, typer.Option(help="Waar de demo-inloggegevens komen")] = Path(
        "var/demo-credentials.json")) -> None:
    """Create the demo registry if absent and write fresh demo credentials to OUT."""
    credentials = _with_session(lambda session: run_seed(session, get_settings(), out))
    typer.echo(f"demo registry ready: {len(credentials['beheerders'])} beheerders; credentials in {out}")


@cli.command("seed-history")
def seed_history_command(
    days: Annotated[int, typer.Option(min=1, max=MAX_DAYS, help="Aantal dagen tot en met gisteren")] = 60,
    once: Annotated[bool, typer.Option("--once", help="Niets doen als er al eerder geschiedenis is gemaakt")] = False,
    scale: Annotated[float, typer.Option(min=0.1, max=100.0, help="Meer of minder meldingen per groep")] = 1.0,
) -> None:
    """Write a realistic past (reports, decisions, alerts) through the services; days already there are skipped."""
    try:
        outcome = asyncio.run(seed_history(get_settings(), days, once=once, scale=scale))
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    if outcome.already_seeded:
        typer.echo("history: written before; nothing to do (--once)")
        return
    typer.echo(f"history: {len(outcome.days)} days written ({outcome.reports} reports, {outcome.decisions} "
               f"decisions, {outcome.alerts} alerts), {outcome.skipped} days already there")


@cli.command("load-scale")
def load_scale_command(
    beheerders: Annotated[int, typer.Option(min=10, max=100_000, help="Aantal beheerders (10 per wijk)")] = 10_000,
    reports: Annotated[int, typer.Option(min=1, max=10_000_000, help="Aantal meldingen over de laatste 365 dagen")
                       ] = 1_000_000,
) -> None:
    """Fill an empty, migrated database with a national registry and a year of history (set-based SQL)."""
    async def run() -> None:
        settings = get_settings()
        engine = create_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        try:
            result = await load_scale(engine, Sizes(beheerders=beheerders, reports=reports))
        finally:
            await engine.dispose()
        sizes = result.sizes
        typer.echo(f"scale dataset: {sizes.beheerders} beheerders, {sizes.groups} groups, {sizes.wijken} wijken, "
                   f"{sizes.gemeenten} gemeenten, {sizes.reports} reports in {sum(result.seconds.values()):.0f} s")

    try:
        asyncio.run(run())
    except DatabaseNotEmpty as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


def _import(path: Path, work: Callable[[AsyncSession, Path], Awaitable[Any]]) -> None:
    if not path.is_file():
        raise typer.BadParameter(f"{path} bestaat niet")
    try:
        result = _with_session(lambda session: work(session, path))
    except ProblemError as exc:
        typer.echo(f"import failed: {exc.detail or exc.title}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(json.dumps(result.model_dump()))


@cli.command("import-wijken")
def import_wijken(file: Path) -> None:
    """Upsert wijken from a CBS wijk- en buurtkaart GeoJSON (RD New or WGS84) by wijkcode."""
    async def work(session: AsyncSession, path: Path) -> Any:
        features = imports.read_wijken_geojson(imports.load_json_file(path))
        return await imports.upsert_wijken(session, SYSTEM, features)

    _import(file, work)


@cli.command("import-streets")
def import_streets(file: Path) -> None:
    """Upsert the street gazetteer (CSV: street,wijkcode,lat,lon)."""
    async def work(session: AsyncSession, path: Path) -> Any:
        rows = imports.read_streets_csv(path.read_text(encoding="utf-8"))
        return await imports.upsert_streets(session, SYSTEM, rows)

    _import(file, work)


@cli.command("import-hotspots")
def import_hotspots(file: Path) -> None:
    """Upsert hotspots (GeoJSON points with radius, offences and hot times) by id."""
    async def work(session: AsyncSession, path: Path) -> Any:
        return await hotspots.upsert_hotspots(session, SYSTEM, read_hotspots_geojson(load_json_file(path)))

    _import(file, work)


@cli.command("import-signalementen")
def import_signalementen(file: Path) -> None:
    """Upsert wanted signalementen (JSON list) by id."""
    async def work(session: AsyncSession, path: Path) -> Any:
        rows = read_signalementen_json(load_json_file(path))
        return await hotspots.upsert_signalementen(session, SYSTEM, rows)

    _import(file, work)


@cli.command("create-user")
def create_user(
    username: str,
    role: Annotated[str, typer.Option(help="operator, specialist, wijkagent, analyst of admin")],
    display_name: Annotated[str, typer.Option()] = "",
) -> None:
    """Create a staff user; the password is asked for, never taken from the command line."""
    password = typer.prompt("Wachtwoord", hide_input=True, confirmation_prompt=True)

    async def work(session: AsyncSession) -> None:
        await create_staff_user(session, None, username=username, display_name=display_name or username,
                                role=role, password=password)
        await session.commit()

    _with_session(work)
    typer.echo(f"user {username} created")


@cli.command("eval-triage")
def eval_triage(
    file: Path,
    predictions: Annotated[Path | None, typer.Option(help="Schrijf één voorspelling per regel (JSONL)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Scores als één JSON-object")] = False,
) -> None:
    """Score the triage engine on a labelled JSONL file (the format of tests/data/triage-dev.jsonl)."""
    if not file.is_file():
        raise typer.BadParameter(f"{file} bestaat niet")
    raise typer.Exit(run_eval(file, predictions, as_json))



@cli.command("export-labels")
def export_labels(
    out: Annotated[Path, typer.Option("--out", help="Doelbestand (JSONL, het formaat van eval-triage)")],
    since: Annotated[str | None, typer.Option(help="Alleen beslissingen vanaf deze datum (JJJJ-MM-DD)")] = None,
) -> None:
    """Write the operators' decisions on the triage's labels as a labelled set for `eval-triage`."""
    start = None
    if since is not None:
        try:
            start = datetime.combine(date.fromisoformat(since), time(), tzinfo=ZoneInfo(TIMEZONE))
        except ValueError as exc:
            raise typer.BadParameter(f"{since} is geen datum (JJJJ-MM-DD)") from exc
    examples = _with_session(lambda session: learning.examples_between(session, start))
    count = learning.write_eval_file(examples, out)
    typer.echo(f"{count} gelabelde meldingen geschreven naar {out}")


@cli.command()
def purge(dry_run: Annotated[bool, typer.Option("--dry-run", help="Alleen tellen, niets wissen")] = False) -> None:
    """Remove personal data older than its retention period (docs/privacy.md); audited. Safe to run again."""
    async def run() -> PurgeResult:
        settings = get_settings()
        engine = create_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
        try:
            return await run_purge(create_sessionmaker(engine), settings, utcnow(), dry_run=dry_run, source="cli")
        finally:
            await engine.dispose()

    result = asyncio.run(run())
    verb = "would purge" if dry_run else "purged"
    for kind in KINDS:
        typer.echo(f"{kind}: {result.counts[kind]} {verb}")


@cli.command("subject-exports")
def subject_exports(phone: Annotated[str, typer.Argument(help="Telefoonnummer (E.164 of 06-...)")]) -> None:
    """Who exported what the system holds about this number, and when. The audit log names the number only by
    its keyed pseudonym (docs/privacy.md), so this needs the same MELDKAMER_AUDIT_PSEUDONYM_KEY as the app."""
    try:
        number = normalise_phone(phone)
    except ValueError as exc:
        raise typer.BadParameter(f"{phone} is geen geldig telefoonnummer") from exc
    key = audit_key(get_settings())
    for export in _with_session(lambda session: access.exports_of(session, key, number)):
        typer.echo(f"{export['at'].isoformat()} {export['actor_type']} {export['actor_id']} {export['actor_name']}")


@cli.command()
def simulate(
    rate: Annotated[float, typer.Option(min=0.01, max=1000.0, help="Meldingen per seconde (gemiddeld)")] = 1.0,
    duration: Annotated[float, typer.Option(min=0.0, help="Seconden; 0 is tot Ctrl-C")] = 60.0,
    target: Annotated[str, typer.Option(help="Adres van de relay")] = "http://127.0.0.1:8000",
    burst: Annotated[bool, typer.Option("--burst", help="Soms meldt een hele wijk één gebeurtenis")] = False,
    credentials: Annotated[Path, typer.Option(help="Demo-inloggegevens (meldkamer seed-demo)")] = Path(
        "var/demo-credentials.json"),
    partner: Annotated[str | None, typer.Option(help="Partner-app uit MELDKAMER_PARTNER_SECRETS")] = None,
    media_server: Annotated[str | None, typer.Option(help="Nep-Graph-API voor WhatsApp-foto's")] = None,
    seed: Annotated[int | None, typer.Option(help="Vaste toevalsreeks")] = None,
) -> None:
    """Live traffic through the real interfaces: REST, signed WhatsApp and partner webhooks, operators, alerts."""
    if not credentials.is_file():
        raise typer.BadParameter(f"{credentials} bestaat niet: voer eerst 'meldkamer seed-demo' uit")
    settings = get_settings()
    channels = _simulation_channels(settings, partner, media_server)
    cast = live.Cast.from_credentials(json.loads(credentials.read_text(encoding="utf-8")))
    streets = live.load_streets(config_dir() / "geo" / "streets.csv")
    pace = live.Pace(rate=rate, duration=duration, burst=burst)

    async def run() -> dict[str, int]:
        async with httpx.AsyncClient(base_url=target, timeout=30) as client:
            if not await live.wait_until_ready(client, 180):
                typer.echo(f"{target} werd niet gereed (/readyz)", err=True)
                raise typer.Exit(2)
            return await live.Simulation(client, cast, channels, streets, pace, random.Random(seed)).run()

    try:
        tally = asyncio.run(run())
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    typer.echo(json.dumps(tally))


def _simulation_channels(settings: Settings, partner: str | None, media_server: str | None) -> live.Channels:
    whatsapp = settings.whatsapp_app_secret.get_secret_value() if settings.whatsapp_app_secret else None
    name = partner or next(iter(settings.partner_secrets), None)
    secret = settings.partner_secrets.get(name) if name else None
    if name and secret is None:
        raise typer.BadParameter(f"partner '{name}' staat niet in MELDKAMER_PARTNER_SECRETS")
    return live.Channels(whatsapp_secret=whatsapp, media_server=media_server,
                         partner=(name, secret.get_secret_value()) if name and secret else None)


@cli.command()
def worker() -> None:
    """Run the delivery workers (alerts, feedback) on their own until SIGTERM or Ctrl-C."""
    asyncio.run(run_standalone(get_settings()))


async def run_standalone(settings: Settings) -> None:
    """`meldkamer worker`: the workers without the web app, e.g. beside `serve` with the in-app ones off
    (MELDKAMER_BROADCAST_WORKER_IN_APP=false). On SQLite run one worker process in all: claims stay safe
    (writers are serialised), but the rate limiter is per process there."""
    configure_logging(settings.log_level, settings.log_json)
    engine = create_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    worker = start_delivery_worker(create_sessionmaker(engine), settings)
    logger.info("delivery worker started")
    try:
        await stop.wait()
    finally:
        await worker.stop()
        await engine.dispose()
        logger.info("delivery worker stopped")


def main() -> None:
    cli()
