"""The logs hold no phone numbers and no statement parameters: nothing there for the retention to purge."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.core.logging import REDACTED_PHONE, JsonFormatter, RedactPersonalData


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    formatter = JsonFormatter()
    handler.setFormatter(formatter)
    handler.addFilter(RedactPersonalData(formatter))
    logger = logging.getLogger("test.privacy.logs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_phone_numbers_are_redacted_in_message_extras_and_exceptions(log_lines):
    logger, lines = log_lines
    logger.info("message from %s", "+31612345678", extra={"sender": "06-12345678", "photo_id": 12})
    try:
        raise ValueError("unknown number 0031 6 1234 5678")
    except ValueError:
        logger.exception("failed for 0612345678")
    first, second = lines()
    assert first["message"] == f"message from {REDACTED_PHONE}" and first["sender"] == REDACTED_PHONE
    assert first["photo_id"] == 12
    assert second["message"] == f"failed for {REDACTED_PHONE}"
    assert "5678" not in second["exception"] and REDACTED_PHONE in second["exception"]


def test_dates_and_case_numbers_are_left_alone(log_lines):
    logger, lines = log_lines
    logger.info("report MK-2026-000123 at 2026-12-03 22:31:09, 1234 ms")
    assert lines()[0]["message"] == "report MK-2026-000123 at 2026-12-03 22:31:09, 1234 ms"


async def test_a_database_error_does_not_carry_the_statement_parameters(app):
    async with app.state.sessionmaker() as session:
        with pytest.raises(SQLAlchemyError) as failure:
            await session.execute(text("INSERT INTO no_such_table (x) VALUES (:secret)"),
                                  {"secret": "Dorpsstraat 12, +31612345678"})
    assert "Dorpsstraat" not in str(failure.value)
