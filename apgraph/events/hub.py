"""This process's fan-out of committed events to its live subscribers.

The bus may deliver a record twice, late, or out of order (two streams, a relay's retry, a
replay), and an in-process bus never carries what another process's relay published (relays
take turns). The hub hands listeners each sequence once and in order: a record below its
position is a repeat and dropped; one beyond the next expected fills the gap from the outbox
first, which holds every lower sequence once a higher one is committed. A catch-up every
`interval` reads the outbox head too, so an event whose bus message was lost, or went to
another process, still arrives.

Listeners are grouped by what they admit (their caller's row scope and their filter, one
hashable value): each event is judged once per group, not once per subscriber, and only the
listeners of the groups that admit it are woken. Its cursor is computed once, too.
"""

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable

from apgraph.domain.event_cursors import cursor_of
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.bus import EventBus, LiveEvent
from apgraph.services.ports.unit_of_work import Outbox, OutboxRecord

log = logging.getLogger("apgraph.hub")

FILL_PAGE = 500
CONSUMER = "hub"

Admission = Callable[[OutboxRecord], bool]  # hashable: equal admissions share one decision


class Overflow(Exception):
    """The listener's queue was full: its subscriber is too slow."""


class Listener:
    """One subscriber's bounded queue of events its group admitted; `since` is the hub
    position when it was opened. A deque and one waiter, not an asyncio.Queue: per
    connection, the memory and the wake-up are what fan-out to thousands costs."""

    __slots__ = ("_items", "_size", "_waiter", "admits", "overflowed", "since")

    def __init__(self, since: int, size: int, admits: Admission) -> None:
        self.since = since
        self.admits = admits
        self._size = size
        self._items: deque[LiveEvent] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self.overflowed = False

    def offer(self, live: LiveEvent) -> None:
        if self.overflowed:
            return
        if len(self._items) >= self._size:
            self.overflowed = True
            self._items.clear()  # nothing more is held for a subscriber being cut off
        else:
            self._items.append(live)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def __aiter__(self) -> AsyncIterator[LiveEvent]:
        items = self._items
        while True:
            while items:
                yield items.popleft()
            if self.overflowed:
                raise Overflow
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None


class Hub:
    def __init__(self, outbox: Outbox, position: int) -> None:
        self._outbox = outbox
        self._position = position
        self._groups: dict[Admission, set[Listener]] = {}
        self._lock = asyncio.Lock()

    @classmethod
    async def at_head(cls, outbox: Outbox) -> "Hub":
        return cls(outbox, await outbox.head())

    @property
    def position(self) -> int:
        return self._position

    @property
    def listeners(self) -> int:
        return sum(len(group) for group in self._groups.values())

    @property
    def groups(self) -> int:
        """Distinct admissions: how many decisions each event costs."""
        return len(self._groups)

    def listen(self, size: int, admits: Admission = lambda record: True) -> Listener:
        """`admits` is asked once per event for all listeners that passed an equal one."""
        listener = Listener(self._position, size, admits)
        self._groups.setdefault(admits, set()).add(listener)
        return listener

    def drop(self, listener: Listener) -> None:
        group = self._groups.get(listener.admits)
        if group is None:
            return
        group.discard(listener)
        if not group:
            del self._groups[listener.admits]

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

    async def run(
        self,
        bus: EventBus,
        stop: asyncio.Event,
        *,
        interval: float,
        wake: asyncio.Event | None = None,
    ) -> None:
        """`wake`: set when another process relayed a batch, so the catch-up runs at once."""
        async with asyncio.TaskGroup() as group:
            group.create_task(bus.consume(CONSUMER, self.receive, stop=stop, shared=False))
            group.create_task(repeat_until(stop, self.catch_up, interval=interval, wake=wake))

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
        live = LiveEvent(record, cursor_of(record.sequence, record.id))
        for admits, listeners in self._groups.items():
            if admits(record):
                for listener in listeners:
                    listener.offer(live)
