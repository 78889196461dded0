"""This process's fan-out of committed events to its live subscribers.

The bus may deliver a record twice, late, or out of order (two streams, two relays). The hub
hands listeners each sequence once and in order: a record below its position is a repeat and
dropped; one beyond the next expected fills the gap from the outbox first, which holds every
lower sequence once a higher one is committed. A catch-up every `interval` reads the outbox
head too, so an event whose bus message was lost still arrives.
"""

import asyncio
import logging
from collections.abc import AsyncIterator

from apgraph.services.periodic import repeat_until
from apgraph.services.ports.bus import EventBus
from apgraph.services.ports.unit_of_work import Outbox, OutboxRecord

log = logging.getLogger("apgraph.hub")

FILL_PAGE = 500
CONSUMER = "hub"


class Overflow(Exception):
    """The listener's queue was full: its subscriber is too slow."""


class Listener:
    """One subscriber's bounded queue; `since` is the hub position when it was opened."""

    def __init__(self, since: int, size: int) -> None:
        self.since = since
        self._queue: asyncio.Queue[OutboxRecord | None] = asyncio.Queue(size)
        self.overflowed = False

    def offer(self, record: OutboxRecord) -> None:
        if self.overflowed:
            return
        try:
            self._queue.put_nowait(record)
        except asyncio.QueueFull:
            self.overflowed = True
            self._queue = asyncio.Queue(1)
            self._queue.put_nowait(None)  # wakes the subscriber to end

    async def __aiter__(self) -> AsyncIterator[OutboxRecord]:
        while True:
            record = await self._queue.get()
            if record is None:
                raise Overflow
            yield record


class Hub:
    def __init__(self, outbox: Outbox, position: int) -> None:
        self._outbox = outbox
        self._position = position
        self._listeners: set[Listener] = set()
        self._lock = asyncio.Lock()

    @classmethod
    async def at_head(cls, outbox: Outbox) -> "Hub":
        return cls(outbox, await outbox.head())

    @property
    def position(self) -> int:
        return self._position

    @property
    def listeners(self) -> int:
        return len(self._listeners)

    def listen(self, size: int) -> Listener:
        listener = Listener(self._position, size)
        self._listeners.add(listener)
        return listener

    def drop(self, listener: Listener) -> None:
        self._listeners.discard(listener)

    async def receive(self, record: OutboxRecord) -> None:
        """The bus handler: idempotent, and safe against any order of delivery."""
        async with self._lock:
            if record.sequence <= self._position:
                return
            await self._fill(record.sequence - 1)
            self._fan_out(record)

    async def catch_up(self) -> bool:
        async with self._lock:
            await self._fill(await self._outbox.head())
        return False

    async def run(self, bus: EventBus, stop: asyncio.Event, *, interval: float) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(bus.consume(CONSUMER, self.receive, stop=stop, shared=False))
            group.create_task(repeat_until(stop, self.catch_up, interval=interval))

    async def _fill(self, through: int) -> None:
        while self._position < through:
            page = await self._outbox.after(
                self._position, min(FILL_PAGE, through - self._position)
            )
            if not page:
                log.warning(
                    "outbox has nothing after %d though %d is committed", self._position, through
                )
                return
            for record in page:
                self._fan_out(record)

    def _fan_out(self, record: OutboxRecord) -> None:
        self._position = record.sequence
        for listener in self._listeners:
            listener.offer(record)
