"""The event bus (DESIGN §5) between the outbox relay and its consumers, and the live feed
subscriptions follow."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from apgraph.services.ports.unit_of_work import OutboxRecord

EventHandler = Callable[[OutboxRecord], Awaitable[None]]
BatchHandler = Callable[[Sequence[OutboxRecord]], Awaitable[None]]


class BusUnavailable(Exception):
    """The bus did not take or deliver a record; the outbox keeps it for the next relay run."""


class BusRejected(Exception):
    """The bus refused a record it will never take (e.g. an event type without a stream):
    publishing it again will not help, so the relay files it as a dead letter."""


class EventBus(Protocol):
    """Carries committed outbox records to consumers, at least once.

    Two adapters: in-process (embedded mode) and NATS JetStream (APGRAPH_BUS_URL). A record
    published twice (a relay retrying after a lost answer, a replay) may be delivered twice;
    every consumer dedupes by the record's `id` (or its `sequence`).
    """

    async def publish(self, records: Sequence[OutboxRecord]) -> None:
        """Returns once the bus holds every record; raises BusUnavailable (try again later) or
        BusRejected (never) otherwise."""
        ...

    async def consume(
        self, consumer: str, handler: EventHandler, *, stop: asyncio.Event, shared: bool
    ) -> None:
        """Runs `handler` on each record until `stop` is set.

        A handler that returns acknowledges the record; one that raises has it delivered
        again. `shared`: one durable consumer named `consumer` for every process (each record
        handled by one of them: webhooks); else this process alone sees every record from
        now on (the subscription hub).
        """
        ...

    async def consume_batches(
        self, consumer: str, handler: BatchHandler, *, stop: asyncio.Event
    ) -> None:
        """`consume(shared=True)`, a batch at a time: `handler` gets the records the bus holds
        together (a published batch, a fetched one), in order, so it can read once for all of
        them (webhook planning reads the webhooks once per batch). One that returns
        acknowledges the batch; one that raises has all of it delivered again."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """A committed event as a subscriber receives it, with the cursor to resume after it."""

    record: OutboxRecord
    cursor: str


class CursorRejected(Exception):
    """An `after` cursor this server cannot resume from: forged, unknown, or `too_old`."""

    def __init__(self, message: str, *, too_old: bool = False) -> None:
        super().__init__(message)
        self.too_old = too_old


class LiveEvents(Protocol):
    """What subscription resolvers follow: committed events, in sequence order, each once."""

    async def open(
        self, *, after: str | None, admits: Callable[[OutboxRecord], bool]
    ) -> AsyncIterator[LiveEvent]:
        """The events `admits` lets through: first every one committed since the `after`
        cursor (none when None), then live ones, with no gap and no repeat at the seam.

        Raises CursorRejected at once, before any event. The stream ends (without raising)
        when the subscriber fell too far behind: its connection is then closed, and it
        resumes from the last cursor it received.
        """
        ...
