"""The event hub: one per app process. It reads committed event rows past its high-water mark and fans
them out to the subscriptions of the connected clients.

The row is the truth: a wake-up (NOTIFY on PostgreSQL, an in-process after-commit signal on SQLite, or
the slow safety poll) only tells the hub to look; what it delivers is what it reads from the table, in id
order. Why reading "id > mark" never skips a late commit is explained in `app.events.notify`.

Fan-out never waits for a client: every subscription has a bounded queue, filled with put_nowait. When a
queue overflows it is emptied and replaced by a single resync marker; the connection then tells its client
to resync and catches it up from the database (see `app.events.socket`). A watchdog task pings idle
clients and gives up on clients that have not taken a message within the send timeout."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core.retry import next_attempt_delay
from app.events import notify
from app.events.pg_listener import PostgresListener
from app.events.service import ACCESS_REVOKED, SYSTEM_AUDIENCE, event_rows_after, last_visible_id
from app.events.subscription import StreamEvent, Subscription
from app.events.visibility import Visibility

if TYPE_CHECKING:
    from fastapi import FastAPI

logger = logging.getLogger("app.events")


@dataclass(frozen=True)
class StreamConfig:
    queue_size: int = 1000  # per client; on overflow the client is resynced from the database
    page_size: int = 500  # rows per read, for the hub and for replays
    # An application-level ping after this many idle seconds. The wall counts a stream that stays silent for a
    # ping interval plus 5 s as lost (a half-open connection), so this sets how soon a frozen wall dims.
    ping_interval: float = 5.0
    hello_timeout: float = 5.0
    send_timeout: float = 15.0  # a client that takes longer to accept one message is closed
    # A token that expires, or is revoked while its access.revoked event is missed, ends its stream within this
    # time; a revocation normally ends it at once (app.events.service.emit_access_revoked).
    token_recheck_interval: float = 30.0
    sqlite_poll_interval: float = 1.0  # safety poll; commits in this process wake the hub at once
    postgres_poll_interval: float = 5.0  # safety poll; NOTIFY wakes the hub at once
    retry_min: float = 0.5
    retry_max: float = 15.0


class EventHub:
    def __init__(self, engine: AsyncEngine, reader: async_sessionmaker[AsyncSession],
                 config: StreamConfig | None = None) -> None:
        self.engine = engine
        # Events and tokens are read through plain reads that never queue behind writers (create_read_engine).
        self.reader = reader
        self.config = config or StreamConfig()
        self.high_water: int | None = None
        self.listener: PostgresListener | None = None
        self._subscriptions: set[Subscription] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    async def start(self) -> None:
        notify.register_waker(self.engine.sync_engine, notify.thread_safe_waker(self._wake_after_local_commit))
        self._tasks.append(asyncio.create_task(self._pump(), name="event-hub-pump"))
        self._tasks.append(asyncio.create_task(self._watch(), name="event-hub-watchdog"))
        if self.is_postgres:
            self.listener = PostgresListener(_asyncpg_connect_kwargs(self.engine), notify.CHANNEL, self._wake.set,
                                             retry_min=self.config.retry_min, retry_max=self.config.retry_max)
            self._tasks.append(asyncio.create_task(self.listener.run(), name="event-hub-listener"))

    def _wake_after_local_commit(self) -> None:
        # On PostgreSQL the commit's NOTIFY wakes the hub as well: waking on both read every batch twice.
        if self.listener is None or not self.listener.listening.is_set():
            self._wake.set()

    async def stop(self) -> None:
        notify.unregister_waker(self.engine.sync_engine)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    def subscribe(self, visibility: Visibility, *, token_id: int | None = None,
                  principal: tuple[str, int] | None = None) -> Subscription:
        subscription = Subscription(visibility, self.config.queue_size, token_id=token_id, principal=principal)
        self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    async def _pump(self) -> None:
        await self._establish_mark()
        poll = self.config.postgres_poll_interval if self.is_postgres else self.config.sqlite_poll_interval
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self._drain()
            except Exception:
                logger.warning("event hub could not read events; retrying", exc_info=True)
                await asyncio.sleep(self.config.retry_min)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.config.ping_interval / 4))
            now = time.monotonic()
            for subscription in list(self._subscriptions):
                subscription.check(now, self.config.ping_interval, self.config.send_timeout)

    async def _establish_mark(self) -> None:
        """Start after the newest event: what was committed before, clients get by replay."""
        failures = 0
        while self.high_water is None:
            try:
                async with self.reader() as session:
                    self.high_water = await last_visible_id(session)
            except Exception:
                failures += 1
                delay = next_attempt_delay(failures, base=self.config.retry_min, cap=self.config.retry_max)
                logger.warning("event hub cannot reach the database; retrying in %.1fs", delay, exc_info=True)
                await asyncio.sleep(delay)

    async def _drain(self) -> None:
        assert self.high_water is not None
        while True:
            async with self.reader() as session:
                rows = await event_rows_after(await session.connection(), self.high_water, self.config.page_size)
            for row in rows:
                if row.audience == SYSTEM_AUDIENCE:
                    self._signal(row)
                else:
                    self._fan_out(StreamEvent(row))
                self.high_water = row.id
            if len(rows) < self.config.page_size:
                return

    def _fan_out(self, event: StreamEvent) -> None:
        for subscription in self._subscriptions:
            if subscription.visibility.allows(event.audience, event.region_id, event.type):
                subscription.offer(event)

    def _signal(self, row: Any) -> None:
        if row.type == ACCESS_REVOKED:
            for subscription in self._subscriptions:
                if subscription.concerned_by(row.data or {}):
                    subscription.recheck.set()


def _asyncpg_connect_kwargs(engine: AsyncEngine) -> dict[str, Any]:
    """What the engine passes to asyncpg.connect (host, credentials, ssl...), minus SQLAlchemy's own options."""
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    for option in ("prepared_statement_cache_size", "prepared_statement_name_func", "async_creator_fn"):
        kwargs.pop(option, None)
    return dict(kwargs)


async def start_event_hub(app: FastAPI) -> EventHub:
    """Creates the app's hub, starts it and puts it on `app.state.event_hub`. Tests and benchmarks may
    tune it by setting `app.state.event_stream_config` (a StreamConfig) before the app starts."""
    config = getattr(app.state, "event_stream_config", None)
    hub = EventHub(app.state.engine, app.state.read_sessionmaker, config)
    await hub.start()
    app.state.event_hub = hub
    return hub
