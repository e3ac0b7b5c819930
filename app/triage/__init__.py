"""Triage engine of the meldkamer relay: pure functions over a loaded knowledge base.

    kb = load_knowledge_base_from_dir(default_config_dir())
    result = triage(ReportFacts(text, received_at, source_wijk, lat, lon), kb)
"""

from app.triage.engine import LocationMatch, Reason, ReportFacts, TriageResult, triage
from app.triage.knowledge import (
    Hotspot,
    KnowledgeBase,
    KnowledgeBaseCache,
    Lexicon,
    Signalement,
    Street,
    Wijk,
    build_knowledge_base,
    default_config_dir,
    load_knowledge_base_from_dir,
)

__all__ = [
    "Hotspot", "KnowledgeBase", "KnowledgeBaseCache", "Lexicon", "LocationMatch",
    "Reason", "ReportFacts", "Signalement", "Street", "TriageResult", "Wijk", "build_knowledge_base",
    "default_config_dir", "load_knowledge_base_from_dir", "triage",
]
