"""Liveness, readiness (database reachable and migrated to head) and Prometheus metrics."""

from __future__ import annotations

from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.errors import ASYNCPG_UNAVAILABLE, problem_response
from app.core.openapi import problems
from app.core.settings import PROJECT_ROOT

router = APIRouter(tags=["beheer"])


@lru_cache
def alembic_heads() -> frozenset[str]:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@router.get("/healthz", summary="Proces leeft")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database bereikbaar en gemigreerd", response_model=None, responses=problems(503))
async def readyz(request: Request) -> dict[str, str] | Response:
    try:
        current = await _current_revisions(request)
    except (SQLAlchemyError, OSError, *ASYNCPG_UNAVAILABLE):
        return problem_response(503, "Dienst niet beschikbaar", "De database is niet bereikbaar.")
    if current != alembic_heads():
        return problem_response(
            503, "Dienst niet beschikbaar", "De database is niet bijgewerkt: voer 'meldkamer migrate' uit.",
            current=sorted(current), expected=sorted(alembic_heads()),
        )
    warm_up = getattr(request.app.state, "warm_up", None)  # the factory's: the triage engine loaded
    if warm_up is not None and not await warm_up():
        return problem_response(503, "Dienst niet beschikbaar", "De server warmt nog op; probeer het zo opnieuw.")
    return {"status": "ready", "revision": ",".join(sorted(current))}


async def _current_revisions(request: Request) -> frozenset[str]:
    """The database's Alembic revisions; empty when it was never migrated."""
    async with request.app.state.engine.connect() as connection:
        try:
            rows = (await connection.execute(text("SELECT version_num FROM alembic_version"))).all()
        except SQLAlchemyError:
            return frozenset()
    return frozenset(row[0] for row in rows)


metrics_router = APIRouter(tags=["beheer"])  # included only when settings.serves_metrics


@metrics_router.get("/metrics", summary="Prometheus-metrieken", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}})
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
