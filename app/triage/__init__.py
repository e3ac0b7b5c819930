"""Triage: the engine suggests, the operator decides; every suggestion says why."""
