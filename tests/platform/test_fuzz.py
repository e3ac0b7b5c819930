"""Schemathesis over every operation of a served relay, as beheerder and as admin, with all its checks: no
answer is a server error, and every answer (status, content type, body) is declared in the OpenAPI document.
A few examples per operation here; `make fuzz` runs the long version and docs/security.md keeps its figures."""

from __future__ import annotations

import pytest

from tests.support import fuzz

pytestmark = [pytest.mark.db, pytest.mark.fuzz]


def test_no_operation_gives_a_server_error_or_an_undocumented_answer(database_url):
    runs = fuzz.run(database_url, examples=3, phases="examples,fuzzing")
    for run in runs:
        assert run.operations > 60, run.output[-3000:]
        assert run.requests > 3 * run.operations
        assert run.server_errors == [], run.output[-3000:]
        assert run.undocumented == [], run.output[-3000:]
