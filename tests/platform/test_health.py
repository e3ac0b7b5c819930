"""Operations endpoints: liveness, readiness against the migration head, and Prometheus metrics."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import OperationalError

from app.core.settings import Settings
from app.factory import create_app
from tests.support.http import problem
from tests.support.settings import TEST_SECRETS


async def test_healthz_and_readyz_on_a_migrated_database(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


async def test_readyz_is_503_on_an_unmigrated_database(tmp_path: Path):
    import httpx

    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", environment="test",
                        **TEST_SECRETS)  # type: ignore[arg-type]
    app = create_app(settings, configure_logs=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get("/readyz")
    await app.state.engine.dispose()
    assert response.status_code == 503
    assert "meldkamer migrate" in problem(response)["detail"]


async def test_readyz_says_ready_only_once_the_triage_engine_is_warm(app, client, monkeypatch):
    """The first report must not wait for the engine to load: until the warm-up (at start-up, or again from
    /readyz when the database was not ready then) has built the knowledge base and triaged a report, a load
    balancer is told to wait."""
    runner = app.state.triage_runner
    loaded = runner.knowledge_base

    async def database_busy(session):
        raise OperationalError("SELECT", {}, Exception("database is locked"))

    monkeypatch.setattr(runner, "knowledge_base", database_busy)
    waiting = await client.get("/readyz")
    assert waiting.status_code == 503 and "warmt nog op" in problem(waiting)["detail"]
    monkeypatch.setattr(runner, "knowledge_base", loaded)
    assert (await client.get("/readyz")).status_code == 200


async def test_start_up_warms_the_engine_before_serving(app, client):
    async with app.router.lifespan_context(app):
        assert app.state.warm_up.done  # before the first request
        assert (await client.get("/readyz")).status_code == 200


async def test_metrics_count_requests_by_route_template(client):
    await client.get("/api/v1/admin/groups/5")
    text = (await client.get("/metrics")).text
    assert 'meldkamer_http_requests_total{method="GET",route="/api/v1/admin/groups/{group_id}",status="401"}' \
        in text
    assert "meldkamer_http_request_duration_seconds_bucket" in text
