"""Login limits that do not reveal which accounts exist, security headers on every HTML page, offline API
documentation, and the operational endpoints behind settings in production."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from app.core.settings import Settings
from app.factory import create_app
from tests.support.http import problem
from tests.support.settings import TEST_SECRETS

LOCKED = {"status": 429, "title": "Te veel mislukte inlogpogingen",
          "detail": "Dit account is tijdelijk geblokkeerd. Probeer het later opnieuw."}


async def _fail(client: httpx.AsyncClient, username: str, times: int) -> None:
    for _ in range(times):
        response = await client.post("/api/v1/auth/login", json={"username": username, "password": "fout-wachtwoord"})
        assert response.status_code == 401


def _shape(response: httpx.Response) -> dict[str, object]:
    body = problem(response)
    return {"status": response.status_code, "title": body["title"], "detail": body["detail"]}


@pytest.mark.db
async def test_an_unknown_name_is_locked_exactly_like_a_known_one(client, demo):
    await _fail(client, "operator", 5)
    await _fail(client, "bestaat-niet", 5)
    known = await client.post("/api/v1/auth/login", json=demo["operator"])
    unknown = await client.post("/api/v1/auth/login", json={"username": "bestaat-niet", "password": "x"})
    assert _shape(known) == _shape(unknown) == LOCKED
    assert int(known.headers["retry-after"]) > 0 and int(unknown.headers["retry-after"]) > 0
    other = await client.post("/api/v1/auth/login", json=demo["specialist"])  # another name is not locked
    assert other.status_code == 200


@pytest.mark.db
async def test_one_address_spraying_passwords_over_many_names_is_locked(client, demo):
    for number in range(20):  # below the per-name limit for every name, at the per-address limit in total
        await _fail(client, f"naam{number}", 1)
    response = await client.post("/api/v1/auth/login", json=demo["operator"])
    assert _shape(response) == LOCKED


@pytest.mark.db
async def test_a_success_starts_the_names_count_again(client, demo):
    await _fail(client, "operator", 4)
    assert (await client.post("/api/v1/auth/login", json=demo["operator"])).status_code == 200
    await _fail(client, "operator", 4)  # eight failures in the window, but four since the success
    assert (await client.post("/api/v1/auth/login", json=demo["operator"])).status_code == 200


HTML_PAGES = ["/", "/wall", "/ops", "/beheerder", "/docs", "/static/index.html", "/static/wall.html",
              "/static/ops.html", "/static/beheerder.html", "/static/docs.html"]


def _app(**settings: object) -> httpx.AsyncClient:
    app = create_app(Settings(**{**TEST_SECRETS, **settings}), configure_logs=False)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def plain_client() -> AsyncIterator[httpx.AsyncClient]:
    """The app without a database: pages, documentation and metrics need none."""
    async with _app(environment="test") as http:
        yield http


@pytest.mark.parametrize("path", HTML_PAGES)
async def test_every_html_page_has_a_csp_and_cannot_be_framed(plain_client, path):
    response = await plain_client.get(path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_the_api_documentation_loads_only_assets_of_the_relay(plain_client):
    page = (await plain_client.get("/docs")).text
    assert "http://" not in page and "https://" not in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert (await plain_client.get(asset)).status_code == 200, asset
    script = (await plain_client.get("/static/js/docs.js")).text
    assert '"/openapi.json"' in script and "validatorUrl: null" in script
    assert (await plain_client.get("/openapi.json")).json()["info"]["title"] == "Meldkamer relay"
    assert (await plain_client.get("/static/vendor/swagger-ui/LICENSE")).status_code == 200


async def test_production_hides_docs_openapi_and_metrics_unless_configured():
    async with _app(environment="production") as production:
        for path in ("/docs", "/openapi.json", "/metrics"):
            response = await production.get(path)
            assert response.status_code == 404, path
            assert problem(response)["title"] == "Niet gevonden"
        assert (await production.get("/healthz")).status_code == 200
    async with _app(environment="production", api_docs_enabled=True, metrics_enabled=True) as opened:
        for path in ("/docs", "/openapi.json", "/metrics"):
            assert (await opened.get(path)).status_code == 200, path
    async with _app(environment="development", api_docs_enabled=False, metrics_enabled=False) as closed:
        assert (await closed.get("/openapi.json")).status_code == 404
        assert (await closed.get("/metrics")).status_code == 404
