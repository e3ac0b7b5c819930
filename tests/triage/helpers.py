"""Shared names for the triage tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.triage.engine import TriageResult

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "config"
DATA = REPO / "tests" / "data"

Run = Callable[..., TriageResult]
