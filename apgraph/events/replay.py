"""Replaying the outbox to one named consumer: `apgraph events replay --since … --to …`.

Events committed since a point (an event cursor, or a timestamp) are handed again, in sequence
order, to one consumer: `analytics` (the posted invoices' forecasts), `bus` (the event bus, so
subscription hubs and webhook deliveries see them again), or a prefixed name a worker resolves
itself (webhooks register `webhook:<subscription id>`). Every consumer dedupes by event id (or
sequence), so a replay over events it already has does not apply them twice. The replay ends at
the head as it stood when it started: events committed meanwhile are the relay's business.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apgraph.domain import event_cursors as cursors
from apgraph.services.ports.unit_of_work import Outbox, OutboxRecord

PAGE = 200

# Delivers a batch to the consumer; raises when it could not (the replay stops there).
ReplayConsumer = Callable[[Sequence[OutboxRecord]], Awaitable[None]]
# Resolves the part after `<prefix>:` (e.g. a webhook subscription id); None: no such one.
ConsumerResolver = Callable[[str], Awaitable[ReplayConsumer | None]]


class ReplayRefused(ValueError):
    """An unknown consumer or a `--since` that names no point of the outbox: one line."""


@dataclass(slots=True)
class ReplayConsumers:
    """Consumer name → how a batch reaches it: fixed names, and prefixes (`webhook:`)."""

    named: dict[str, ReplayConsumer] = field(default_factory=dict)
    prefixed: dict[str, ConsumerResolver] = field(default_factory=dict)

    def register(self, name: str, consumer: ReplayConsumer) -> None:
        self.named[name] = consumer

    def register_prefix(self, prefix: str, resolve: ConsumerResolver) -> None:
        self.prefixed[prefix] = resolve

    async def resolve(self, name: str) -> ReplayConsumer:
        if name in self.named:
            return self.named[name]
        prefix, _, rest = name.partition(":")
        if rest and prefix in self.prefixed:
            found = await self.prefixed[prefix](rest)
            if found is not None:
                return found
            raise ReplayRefused(f"--to {name}: no {prefix} consumer {rest!r}")
        known = sorted([*self.named, *(f"{p}:<id>" for p in self.prefixed)])
        raise ReplayRefused(f"--to {name}: unknown consumer; known: {', '.join(known)}")


async def start_after(outbox: Outbox, since: str) -> int:
    """The sequence to replay after: the event an `events`/subscription cursor names (that one
    was seen already), or the last one before an ISO 8601 timestamp (UTC when it names no
    zone)."""
    try:
        sequence, event_id = cursors.parse(since)
    except cursors.MalformedCursor:
        pass
    else:
        found = await outbox.by_ids([event_id])
        if not found or found[0].sequence != sequence:
            raise ReplayRefused(f"--since {since}: no such event in the outbox")
        return sequence
    try:
        at = datetime.fromisoformat(since)
    except ValueError:
        raise ReplayRefused(
            f"--since {since!r}: neither an event cursor nor an ISO 8601 timestamp "
            "(e.g. 2026-12-06T09:00:00Z)"
        ) from None
    return await outbox.sequence_before(at if at.tzinfo else at.replace(tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class EventReplay:
    after: int
    through: int  # the head when the replay started

    @property
    def total(self) -> int:
        return max(self.through - self.after, 0)


async def plan(outbox: Outbox, since: str) -> EventReplay:
    return EventReplay(after=await start_after(outbox, since), through=await outbox.head())


async def replay_events(
    outbox: Outbox,
    replay: EventReplay,
    consumer: ReplayConsumer,
    *,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Hands every event of `replay` to `consumer`, a page at a time, oldest first; returns
    how many. `on_batch` is told each page's size (a progress bar)."""
    seen, delivered = replay.after, 0
    while seen < replay.through:
        page = [
            r
            for r in await outbox.after(seen, min(PAGE, replay.through - seen))
            if r.sequence <= replay.through
        ]
        if not page:
            break
        await consumer(page)
        delivered += len(page)
        seen = page[-1].sequence
        if on_batch is not None:
            on_batch(len(page))
    return delivered
