"""Hotspots and wanted signalementen: the local knowledge triage weighs reports against, and the map."""
