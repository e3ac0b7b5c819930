"""Photo files that no committed report names are deleted: a crash between writing a photo and committing its
report (or half-way through writing it) leaves a file behind that nothing will ever show or remove."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.periodic import PeriodicTask
from app.intake.models import ReportPhoto

logger = logging.getLogger("app.intake.orphans")
_CHUNK = 500  # names per IN (...) query


def _files_older_than(directory: Path, cutoff: float) -> set[str]:
    """Names of the regular files in `directory` last written before `cutoff` (a time.time() value)."""
    if not directory.is_dir():
        return set()
    return {entry.name for entry in directory.iterdir() if entry.is_file() and entry.stat().st_mtime < cutoff}


def _delete(directory: Path, names: Iterable[str]) -> None:
    for name in names:
        (directory / name).unlink(missing_ok=True)


async def _referenced(session: AsyncSession, names: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(names), _CHUNK):
        chunk = names[start:start + _CHUNK]
        found.update(await session.scalars(select(ReportPhoto.stored_name).where(ReportPhoto.stored_name.in_(chunk))))
    return found


async def sweep_orphan_photos(sessionmaker: async_sessionmaker[AsyncSession], directory: Path,
                              grace_seconds: float) -> list[str]:
    """Deletes the files in `directory` older than the grace period that no report photo row names; gives back
    their names. The grace period covers a report that is being written right now."""
    candidates = await asyncio.to_thread(_files_older_than, directory, time.time() - grace_seconds)
    if not candidates:
        return []
    async with sessionmaker() as session:
        orphans = sorted(candidates - await _referenced(session, sorted(candidates)))
    if orphans:
        await asyncio.to_thread(_delete, directory, orphans)
        logger.warning("deleted %d photo files that no report names", len(orphans))
    return orphans


class OrphanPhotoSweeper(PeriodicTask):
    """Runs the sweep shortly after start-up (the crash that left files is usually just behind us) and then
    every `interval_seconds`."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], directory: Path, *, grace_seconds: float,
                 interval_seconds: float, first_after_seconds: float = 10.0) -> None:
        super().__init__("orphan-photo-sweeper", interval_seconds, self.sweep, first_after_seconds=first_after_seconds)
        self.sessionmaker = sessionmaker
        self.directory = directory
        self.grace_seconds = grace_seconds

    async def sweep(self) -> list[str]:
        return await sweep_orphan_photos(self.sessionmaker, self.directory, self.grace_seconds)
