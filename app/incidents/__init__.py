"""Incidents: reports of one event grouped, the operators' queue, claims, decisions, merge and split."""
