"""Talking to the API as a client does: staff login, bearer headers, and the problem+json check."""

from __future__ import annotations

import json
from typing import Any

import httpx


async def login(client: httpx.AsyncClient, credentials: dict[str, Any]) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={
        "username": credentials["username"], "password": credentials["password"]})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def problem(response: httpx.Response) -> dict[str, Any]:
    """Asserts the response is RFC 9457 problem+json with a title, and returns the body."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body: dict[str, Any] = json.loads(response.text)
    assert body["status"] == response.status_code
    assert body["title"]
    return body


def westwijk_beheerders(demo: dict[str, Any]) -> list[dict[str, Any]]:
    """Beheerders of the demo's single-group Westwijk groups, one per group: reports from different groups."""
    seen: set[int] = set()
    result: list[dict[str, Any]] = []
    for beheerder in demo["beheerders"]:
        groups = beheerder["group_ids"]
        if beheerder["wijkcodes"] == ["WK036204"] and len(groups) == 1 and groups[0] not in seen:
            seen.add(groups[0])
            result.append(beheerder)
    return result


async def post_report(client: httpx.AsyncClient, beheerder: dict[str, Any], text: str, **extra: Any) -> dict[str, Any]:
    """A report through the REST intake as the beheerder; it must be accepted."""
    response = await client.post("/api/v1/reports", headers=bearer(beheerder["token"]), json={"text": text, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
