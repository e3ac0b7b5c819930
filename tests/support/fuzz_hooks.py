"""Schemathesis hooks for tests/support/fuzz.py: a bearer token for every request, fetched again after a 401
(the fuzzer may log the admin out or revoke the token it uses)."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import schemathesis


@schemathesis.auth(refresh_interval=600, retry_on=[401])
class FuzzToken:
    def get(self, case: Any, ctx: Any) -> str:
        auth = json.loads(os.environ["FUZZ_AUTH"])
        if "token" in auth:
            return str(auth["token"])
        response = httpx.post(f"{os.environ['FUZZ_BASE_URL']}/api/v1/auth/login",
                              json={"username": auth["username"], "password": auth["password"]}, timeout=30)
        response.raise_for_status()
        return str(response.json()["access_token"])

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
