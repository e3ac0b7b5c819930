"""No input gives a 500: NUL characters, integers beyond the database's range, null in PATCH fields, deep JSON
and a broken message in a WhatsApp batch each get a clear 4xx (or, for WhatsApp, quarantine), and nothing is
half written. The general checks walk every operation of the OpenAPI document, on both engines."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.guard import NUL_TOLERANT_PATHS
from app.core.schemas import MAX_DB_BIGINT, MAX_DB_INT
from app.core.settings import Settings
from app.factory import create_app
from app.intake.models import QuarantinedMessage, Report
from app.intake.whatsapp import compute_signature
from app.registry.models import Beheerder
from tests.fakes.graph_api import text_message, webhook_payload
from tests.support.http import bearer, login, problem
from tests.support.settings import TEST_SECRETS

BIGINT_PARAMS = {"after", "last_event_id"}  # event ids: a 64-bit column on both engines
TOO_LARGE = [MAX_DB_INT + 1, 2**63]


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    schema = create_app(Settings(environment="test"), configure_logs=False).openapi()
    return [(method.upper(), path, operation) for path, methods in schema["paths"].items()
            for method, operation in methods.items()]


OPERATIONS = _operations()
SCHEMAS = create_app(Settings(environment="test"), configure_logs=False).openapi()["components"]["schemas"]


def _int_params(operation: dict[str, Any], where: str) -> list[str]:
    return [p["name"] for p in operation.get("parameters", []) if p["in"] == where
            and any(option.get("type") == "integer" for option in p["schema"].get("anyOf", [p["schema"]]))]


def _url(path: str, **values: Any) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), 1)), path)


async def _principals(client: httpx.AsyncClient, demo: dict[str, Any]) -> dict[str, dict[str, str]]:
    found = {role: await login(client, demo[role]) for role in ("admin", "operator", "wijkagent")}
    return {**found, "beheerder": bearer(demo["beheerders"][0]["token"]), "wall": bearer(demo["wall_token"])}


def _integer_schemas(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "integer":
            found.append((path, node))
        for key, value in node.items():
            found += _integer_schemas(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _integer_schemas(value, f"{path}[{index}]")
    return found


def test_every_integer_a_request_can_carry_is_bounded_by_the_database():
    """Walks every parameter and every request body schema: a new route with a bare `int` fails here."""
    unbounded = []
    for method, path, operation in OPERATIONS:
        for parameter in operation.get("parameters", []):
            for where, schema in _integer_schemas(parameter["schema"]):
                limit = MAX_DB_BIGINT if parameter["name"] in BIGINT_PARAMS else MAX_DB_INT
                if schema.get("maximum", float("inf")) > limit:
                    unbounded.append(f"{method} {path} {parameter['name']}{where}")
    request_models = {ref.rsplit("/", 1)[-1] for _, _, operation in OPERATIONS
                      for content in operation.get("requestBody", {}).get("content", {}).values()
                      for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(content))}
    for name in sorted(request_models | {"LocationIn", "TargetIn", "CircleIn"}):
        for where, schema in _integer_schemas(SCHEMAS[name]):
            if schema.get("maximum", float("inf")) > MAX_DB_INT:
                unbounded.append(f"{name}{where}")
    assert len(OPERATIONS) > 60
    assert unbounded == []


@pytest.mark.db
async def test_integers_beyond_the_engines_range_are_422_on_every_route(client, demo):
    principals = await _principals(client, demo)
    checked = 0
    for method, path, operation in OPERATIONS:
        for where in ("path", "query"):
            for name in _int_params(operation, where):
                if name in BIGINT_PARAMS:
                    continue
                for value in TOO_LARGE:
                    url = _url(path, **{name: value}) if where == "path" else f"{_url(path)}?{name}={value}"
                    answers = [await client.request(method, url, headers=headers, json={} if method != "GET" else None)
                               for headers in principals.values()]
                    assert all(400 <= r.status_code < 500 and problem(r) for r in answers), (method, url)
                    assert any(r.status_code == 422 and problem(r)["field"] == name for r in answers), (method, url)
                    checked += 1
    assert checked > 40


@pytest.mark.db
async def test_a_nul_anywhere_in_url_or_json_body_is_a_dutch_4xx_on_every_route(client, demo):
    principals = await _principals(client, demo)
    for method, path, operation in OPERATIONS:
        headers = principals["admin"]
        response = await client.request(method, _url(path) + "?q=a%00b", headers=headers)
        assert response.status_code == 422 and problem(response)["field"] == "q", (method, path)
        json_body = "application/json" in operation.get("requestBody", {}).get("content", {})
        if json_body and path not in NUL_TOLERANT_PATHS:  # WhatsApp's NULs are removed (test below)
            response = await client.request(method, _url(path), headers={**headers, "Content-Type": "application/json"},
                                             content=b'{"name": "a\\u0000b", "text": "x"}')
            assert response.status_code == 422, (method, path, response.text)
            assert "NUL" in problem(response)["detail"]


@pytest.mark.db
async def test_json_ten_thousand_levels_deep_is_400_on_every_json_route(client, demo):
    headers = {**(await _principals(client, demo))["admin"], "Content-Type": "application/json"}
    deep = b"[" * 10_000 + b"]" * 10_000
    routes = [(m, p) for m, p, operation in OPERATIONS
              if "application/json" in operation.get("requestBody", {}).get("content", {})]
    assert len(routes) > 15
    for method, path in routes:
        response = await client.request(method, _url(path), headers=headers, content=deep)
        assert response.status_code == 400, (method, path)
        assert problem(response)["title"] == "Ongeldige JSON"


def _patch_fields() -> list[tuple[str, str, str]]:
    fields = []
    for method, path, operation in OPERATIONS:
        if method != "PATCH":
            continue
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        for name, schema in SCHEMAS[ref.rsplit("/", 1)[-1]]["properties"].items():
            if not any(option.get("type") == "null" for option in schema.get("anyOf", [schema])):
                fields.append((path, name, ref))
    return fields


@pytest.mark.db
async def test_null_in_a_patch_field_that_needs_a_value_is_422_naming_it(app, client, demo):
    principals = await _principals(client, demo)
    fields = _patch_fields()
    assert {name for _, name, _ in fields} >= {"name", "active", "group_ids", "wijkcodes", "description"}
    for path, name, _ in fields:
        answers = [await client.patch(_url(path, code="HS1"), json={name: None}, headers=headers)
                   for headers in principals.values()]
        assert all(400 <= r.status_code < 500 for r in answers), (path, name)
        assert any(r.status_code == 422 and problem(r)["field"] == name for r in answers), (path, name)
    beheerder = demo["beheerders"][0]
    response = await client.patch(f"/api/v1/admin/beheerders/{beheerder['id']}", json={"email": None},
                                  headers=principals["admin"])
    assert response.status_code == 200  # a field that may be empty can still be cleared


async def _count(app, model, *where) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.mark.db
async def test_a_nul_in_report_text_street_or_beheerder_name_is_422_and_nothing_is_stored(app, client, demo):
    """The cases that gave a 500 on PostgreSQL (and put the text in the error log)."""
    beheerder = bearer(demo["beheerders"][0]["token"])
    admin = await login(client, demo["admin"])
    before = (await _count(app, Report), await _count(app, Beheerder))
    bodies = [
        ("/api/v1/reports", beheerder, {"text": "Inbraak\x00 bezig"}),
        ("/api/v1/reports", beheerder, {"text": "Inbraak bezig", "location": {"street": "Kerk\x00straat"}}),
        ("/api/v1/admin/beheerders", admin, {"name": "Anja\x00", "phone": "0612345678"}),
        ("/api/v1/auth/login", {}, {"username": "admin\x00", "password": "x"}),
    ]
    for path, headers, body in bodies:
        response = await client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert problem(response)["title"] == "Ongeldige invoer"
    form = await client.post("/api/v1/reports", headers=beheerder,
                             files={"report": (None, json.dumps({"text": "Inbraak\x00"}))})
    assert form.status_code == 422 and problem(form)["field"] == "report"
    assert (await _count(app, Report), await _count(app, Beheerder)) == before


async def _webhook(client: httpx.AsyncClient, payload: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(payload).encode()
    return await client.post("/webhooks/whatsapp", content=raw, headers={
        "Content-Type": "application/json",
        "X-Hub-Signature-256": compute_signature(raw, TEST_SECRETS["whatsapp_app_secret"])})


def _single_group_wa_id(demo: dict[str, Any]) -> str:
    beheerder = next(b for b in demo["beheerders"] if len(b["group_ids"]) == 1)
    return str(beheerder["phone"]).lstrip("+")


@pytest.mark.db
async def test_one_message_without_id_is_quarantined_and_the_rest_of_the_batch_goes_in(app, client, demo):
    wa_id = _single_group_wa_id(demo)
    broken = text_message(wa_id, "Verdachte man bij de school")
    del broken["id"]
    payload = webhook_payload(messages=[
        text_message(wa_id, "Inbraak Kerkstraat 4, dader rent weg", message_id="wamid.A"), broken,
        text_message(wa_id, "Autokraak bezig Dorpsstraat", message_id="wamid.B")])
    response = await _webhook(client, payload)
    assert response.status_code == 200
    assert response.json()["messages"] == ["created", "created", "quarantined"]
    assert await _count(app, Report, Report.idempotency_key.in_(["wa:wamid.A", "wa:wamid.B"])) == 2
    [kept] = (await _rows(app, QuarantinedMessage))
    assert kept.text == "Verdachte man bij de school" and kept.reason.startswith("ongeldig")
    again = await _webhook(client, payload)  # Meta sends it again: nothing twice
    assert again.json()["messages"] == ["duplicate", "duplicate", "quarantined"]
    assert await _count(app, QuarantinedMessage) == 1


async def _rows(app, model) -> list[Any]:
    async with app.state.sessionmaker() as session:
        return list((await session.scalars(select(model))).all())


@pytest.mark.db
async def test_a_nul_in_a_whatsapp_message_is_dropped_and_the_report_stored(app, client, demo):
    wa_id = _single_group_wa_id(demo)
    payload = webhook_payload(messages=[text_message(wa_id, "Inbraak\x00 bezig Kerkstraat", message_id="wamid.N")])
    response = await _webhook(client, payload)
    assert response.status_code == 200 and response.json()["messages"] == ["created"]
    [report] = await _rows(app, Report)
    assert report.text == "Inbraak bezig Kerkstraat" and "\x00" not in report.text_original


@pytest.mark.db
async def test_a_time_outside_the_calendar_in_utc_or_given_as_a_number_is_422(client, demo):
    admin = await login(client, demo["admin"])
    for since in ("0001-01-01T00:00:00%2B23:59", "9999-12-31T23:59:59-23:59", "1700000000"):
        response = await client.get(f"/api/v1/admin/audit?since={since}", headers=admin)
        assert response.status_code == 422 and problem(response)["field"] == "since", since
    wijkagent = await login(client, demo["wijkagent"])
    response = await client.post("/api/v1/signalementen", headers=wijkagent, json={
        "code": "SG-X", "issued_at": "0001-01-01T00:00:00+23:59", "valid_until": "2030-01-01T00:00:00Z",
        "wijkcodes": ["WK036204"], "description": "Man met rode jas", "keywords": ["rode jas"]})
    assert response.status_code == 422 and problem(response)["field"] == "issued_at"
    listed = (await client.get("/api/v1/signalementen", headers=wijkagent)).json()
    assert "SG-X" not in {s["code"] for s in listed}
