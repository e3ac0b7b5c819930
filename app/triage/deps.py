"""The process's current knowledge base as a request dependency (read on a connection of its own)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.triage.knowledge import KnowledgeBase
from app.triage.runner import TriageRunner


async def current_knowledge_base(request: Request) -> KnowledgeBase:
    runner: TriageRunner = request.app.state.triage_runner
    async with request.app.state.read_sessionmaker() as session:
        return await runner.knowledge_base(session)


KnowledgeBaseDep = Annotated[KnowledgeBase, Depends(current_knowledge_base)]
