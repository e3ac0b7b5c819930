"""The app factory, the composition root: settings, database, middleware, error handling, the background
tasks, the cross-domain flows wired into the domains that run them, and every domain's router."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.auth.service import resolve_token
from app.broadcast.privacy import appearance_without_behaviour
from app.broadcast.router import alerts_router
from app.broadcast.router import router as broadcast_router
from app.broadcast.tracking import webhook_handlers
from app.broadcast.worker import start_delivery_worker
from app.core.dashboard import mount_dashboard
from app.core.database import create_engine, create_read_engine, create_sessionmaker, utcnow, wal_checkpointer
from app.core.errors import install_error_handlers
from app.core.guard import RequestGuardMiddleware
from app.core.headers import SecurityHeadersMiddleware
from app.core.health import metrics_router
from app.core.health import router as health_router
from app.core.logging import configure_logging
from app.core.middleware import BodySizeLimitMiddleware, Metrics, RequestContextMiddleware
from app.core.openapi import install_openapi
from app.core.settings import Settings, get_settings
from app.events.hub import start_event_hub
from app.events.router import router as events_router
from app.events.router import ws_router as events_ws_router
from app.flows.report_intake import ReportIntakeFlow
from app.flows.whatsapp_replies import public_handler, reply_handler
from app.hotspots.map import router as map_router
from app.hotspots.router import router as hotspots_router
from app.incidents.router import router as incidents_router
from app.incidents.sweeper import ClaimSweeper
from app.intake.media import build_media_fetcher
from app.intake.orphans import OrphanPhotoSweeper
from app.intake.photo_pool import PhotoPool
from app.intake.ratelimit import PixelBudget, SharedRateLimiter
from app.intake.router import admin_router as quarantine_router
from app.intake.router import router as intake_router
from app.intake.webhooks import router as webhooks_router
from app.intake.writer import IntakeWriter
from app.learning.router import router as agreement_router
from app.operations.router import incident_router as operation_from_incident_router
from app.operations.router import router as operations_router
from app.operations.sweeper import OperationSweeper
from app.privacy.job import PurgeJob
from app.privacy.router import router as privacy_router
from app.registry.router import admin_router, me_router
from app.stats.folder import FactFolder
from app.stats.router import router as stats_router
from app.triage.engine import ReportFacts, triage
from app.triage.router import router as meta_router
from app.triage.runner import TriageRunner

UPLOAD_PATHS = ("/api/v1/reports",)
logger = logging.getLogger("app")


def create_app(settings: Settings | None = None, *, configure_logs: bool = True) -> FastAPI:
    settings = settings or get_settings()
    settings.check_production_secrets()
    if configure_logs:
        configure_logging(settings.log_level, settings.log_json)
    engine = create_engine(settings.database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        checkpointer = wal_checkpointer(engine)
        if checkpointer is not None:
            checkpointer.start()
        event_hub = await start_event_hub(app)
        claim_sweeper = ClaimSweeper(app.state.sessionmaker, settings.claim_sweep_seconds)
        claim_sweeper.start()
        operation_sweeper = OperationSweeper(app.state.sessionmaker, settings, lambda: app.state.operations_clock(),
                                             lambda: _wake_delivery(app))
        operation_sweeper.start()
        orphan_sweeper = OrphanPhotoSweeper(app.state.read_sessionmaker, settings.photo_dir,
                                            grace_seconds=settings.photo_orphan_grace_minutes * 60,
                                            interval_seconds=settings.photo_orphan_sweep_minutes * 60)
        orphan_sweeper.start()
        purge_job = PurgeJob(app.state.sessionmaker, settings, lambda: app.state.privacy_clock())
        purge_job.start()
        fact_folder = FactFolder(app.state.sessionmaker)
        fact_folder.start()
        app.state.photo_pool.start()
        fetcher = build_media_fetcher(app.state.sessionmaker, settings, app.state.photo_pool, app.state.photo_budget,
                                      app.state.report_intake.photo_stored)
        app.state.media_fetcher = fetcher
        if fetcher is not None:
            fetcher.start()
        if settings.broadcast_worker_in_app:
            app.state.delivery_worker = start_delivery_worker(app.state.sessionmaker, settings)
        await app.state.warm_up()
        # Everything loaded at start-up lives as long as the process: keep it out of the garbage
        # collector's full passes, which otherwise stall the live stream for 70-250 ms on this hardware.
        gc.freeze()
        yield
        if app.state.delivery_worker is not None:
            await app.state.delivery_worker.stop()
        if fetcher is not None:
            await fetcher.stop()
        await app.state.photo_pool.aclose()
        await purge_job.stop()
        await fact_folder.stop()
        await orphan_sweeper.stop()
        await operation_sweeper.stop()
        await claim_sweeper.stop()
        await event_hub.stop()
        if checkpointer is not None:
            await checkpointer.stop()
        if read_engine is not engine:
            await read_engine.dispose()
        await engine.dispose()

    app = FastAPI(
        title="Meldkamer relay",
        description="Meldingen van WhatsApp-buurtgroepen: intake, triage, videowall en alarmering.",
        version="0.1.0",
        lifespan=lifespan,
        # /docs is our own page with a vendored Swagger UI (app.core.dashboard); FastAPI's loads it from a CDN.
        docs_url=None, redoc_url=None,
        openapi_url="/openapi.json" if settings.serves_api_docs else None,
    )
    app.state.settings = settings
    app.state.resolve_token = resolve_token  # used by every route guard (app.core.deps)
    app.state.engine = engine
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.read_engine = read_engine = create_read_engine(engine)
    app.state.read_sessionmaker = create_sessionmaker(read_engine)
    app.state.metrics = Metrics()
    app.state.intake_rate_limiter = SharedRateLimiter(read_engine, settings.intake_reports_per_minute,
                                                      settings.intake_burst)
    app.state.photo_pool = PhotoPool.from_settings(settings)
    app.state.photo_budget = PixelBudget(settings.photo_megapixels_per_minute * 1_000_000)
    app.state.triage_runner = TriageRunner()
    app.state.report_intake = ReportIntakeFlow(app.state.triage_runner)
    app.state.warm_up = WarmUp(app)  # /readyz asks it too: ready means warm
    app.state.intake_writer = IntakeWriter(engine, app.state.read_sessionmaker, settings.photo_dir,
                                           app.state.report_intake)
    app.state.report_group_chosen = app.state.report_intake.group_chosen  # app.intake.group_choice's hook
    # Operations open and close on this clock (tests replace it); the outbox keeps the real time.
    app.state.operations_clock = utcnow
    app.state.privacy_clock = utcnow  # the retention purge's "now" (tests replace it)
    # Answers to our messages (operations' "ja"/"nee", alerts' "doorgestuurd"), and delivery status callbacks.
    alert_replies, app.state.whatsapp_status_handler = webhook_handlers(settings)
    app.state.whatsapp_reply_handler = reply_handler(settings, lambda: app.state.operations_clock(), alert_replies)
    app.state.whatsapp_public_handler = public_handler(settings, lambda: app.state.operations_clock())
    app.state.delivery_worker = None  # started in the lifespan unless broadcast_worker_in_app is off

    install_error_handlers(app)
    _include_routers(app, settings)
    install_openapi(app)
    app.add_middleware(RequestGuardMiddleware)  # inside the size limit: it reads whole bodies
    app.add_middleware(BodySizeLimitMiddleware, limit_for=_body_limit(settings))
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    return app


def _wake_delivery(app: FastAPI) -> None:
    if app.state.delivery_worker is not None:
        app.state.delivery_worker.wake()


# Dutch and English, a street, an injury: the first triage loads the lemma dictionaries of both languages
# (about 1.7 s), which the first real report would otherwise wait for.
WARM_UP_REPORT = "Nu wordt er ingebroken aan de Dorpsstraat 1, twee mannen rennen weg. Someone is injured."


class WarmUp:
    """Builds the triage knowledge base, triages one made-up report and loads the privacy check's lexicon
    before the first request, which would otherwise wait seconds for them. Runs at start-up; until it has
    succeeded (a database not migrated yet) /readyz tries it again and says "not ready"."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.done = False
        self._lock = asyncio.Lock()

    async def __call__(self) -> bool:
        if self.done:
            return True
        async with self._lock:
            if not self.done:
                self.done = await self._run()
        return self.done

    async def _run(self) -> bool:
        appearance_without_behaviour("")
        try:
            async with self.app.state.read_sessionmaker() as session:
                kb = await self.app.state.triage_runner.knowledge_base(session)
        except SQLAlchemyError:
            logger.warning("triage knowledge base not built yet: database not ready")
            return False
        triage(ReportFacts(text=WARM_UP_REPORT, received_at=datetime.now(UTC), source_wijk=None, lat=None, lon=None),
               kb)
        return True


def _body_limit(settings: Settings) -> Callable[[Scope], int]:
    def limit_for(scope: Scope) -> int:
        if scope.get("method") == "POST" and scope.get("path") in UPLOAD_PATHS:
            for name, value in scope.get("headers", []):
                if name == b"content-type" and value.startswith(b"multipart/"):
                    return settings.max_upload_bytes
        return settings.max_body_bytes

    return limit_for


def _include_routers(app: FastAPI, settings: Settings) -> None:
    # Routes are matched in the order they are included: the busiest (intake, webhooks) come first.
    app.include_router(intake_router, prefix="/api/v1")
    app.include_router(webhooks_router)
    app.include_router(health_router)
    if settings.serves_metrics:
        app.include_router(metrics_router)
    app.include_router(auth_router, prefix="/api/v1")
    app.include_router(admin_router, prefix="/api/v1")
    app.include_router(me_router, prefix="/api/v1")
    app.include_router(audit_router, prefix="/api/v1")
    app.include_router(quarantine_router, prefix="/api/v1")
    app.include_router(incidents_router, prefix="/api/v1")
    app.include_router(hotspots_router, prefix="/api/v1")
    app.include_router(meta_router, prefix="/api/v1")
    app.include_router(agreement_router, prefix="/api/v1")
    app.include_router(map_router, prefix="/api/v1")
    app.include_router(stats_router, prefix="/api/v1")
    app.include_router(events_router, prefix="/api/v1")
    app.include_router(events_ws_router)
    app.include_router(broadcast_router, prefix="/api/v1")
    app.include_router(alerts_router, prefix="/api/v1")
    app.include_router(operations_router, prefix="/api/v1")
    app.include_router(operation_from_incident_router, prefix="/api/v1")
    app.include_router(privacy_router, prefix="/api/v1")
    mount_dashboard(app, api_docs=settings.serves_api_docs)
