"""Fixtures for the triage engine tests: the reference knowledge base, and a helper to triage one text."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.triage.engine import ReportFacts, TriageResult, triage
from app.triage.knowledge import KnowledgeBase, load_knowledge_base_from_dir
from tests.triage.helpers import CONFIG, Run


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge_base_from_dir(CONFIG)


@pytest.fixture(scope="session")
def run(kb: KnowledgeBase) -> Run:
    def _run(text: str, at: str, source_wijk: str | None = None, lat: float | None = None,
             lon: float | None = None, **extra: str) -> TriageResult:
        return triage(ReportFacts(text, datetime.fromisoformat(at), source_wijk, lat, lon, **extra), kb)

    return _run
