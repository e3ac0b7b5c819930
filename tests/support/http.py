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
