"""Reports with personal data for the privacy tests: a text, an address and a photo, through the REST intake."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
from PIL import Image

from tests.support.http import bearer


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def report_with_photo(client: httpx.AsyncClient, token: str, text: str, *, street: str = "Dorpsstraat",
                            house_number: str = "12", point: tuple[float, float] | None = None) -> dict[str, Any]:
    """`point` (lat, lon) adds the reporter's exact coordinates to the street."""
    files = [("photos", ("foto.jpg", jpeg(), "image/jpeg"))]
    location: dict[str, Any] = {"street": street, "house_number": house_number}
    if point is not None:
        location |= {"lat": point[0], "lon": point[1]}
    body = {"text": text, "location": location}
    response = await client.post("/api/v1/reports", headers=bearer(token), files=files,
                                 data={"report": json.dumps(body)})
    assert response.status_code == 201, response.text
    report: dict[str, Any] = response.json()
    return report
