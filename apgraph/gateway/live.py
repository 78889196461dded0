"""The live half of a running server: the event bus, this process's hub, and the relay
feeding them (DESIGN §5). Started in the app's lifespan, stopped with it."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from apgraph.events.hub import Hub
from apgraph.events.in_process import InProcessBus
from apgraph.events.jetstream import BusUnreachable, JetStreamBus
from apgraph.events.relay import OutboxRelay
from apgraph.events.subscriptions import LiveFeed
from apgraph.services.ports.bus import EventBus
from apgraph.settings import Settings
from apgraph.store import outbox_notices
from apgraph.store.outbox import OutboxRepository

HUB_CATCH_UP_SECONDS = 1.0  # how late an event whose bus message was lost may arrive


@dataclass
class Live:
    """Filled in by `start`; `wake` is set by every commit that wrote events."""

    wake: asyncio.Event = field(default_factory=asyncio.Event)
    bus: EventBus | None = None
    hub: Hub | None = None
    close_bus: Callable[[], Awaitable[None]] | None = None

    def feed(
        self,
        settings: Settings,
        outbox: OutboxRepository,
        on_overflow: Callable[[], Awaitable[None]],
    ) -> LiveFeed | None:
        if self.hub is None:
            return None
        return LiveFeed(
            hub=self.hub,
            outbox=outbox,
            queue_size=settings.subscription_queue_size,
            resume_window=settings.subscription_resume_window,
            on_overflow=on_overflow,
        )


async def connect_bus(settings: Settings) -> InProcessBus | JetStreamBus:
    """Raises BusUnreachable (one line) when APGRAPH_BUS_URL is set and NATS does not answer."""
    if settings.bus_url is None:
        return InProcessBus()
    return await JetStreamBus.connect(settings.bus_url, prefix=settings.bus_stream_prefix)


async def start(
    live: Live,
    settings: Settings,
    outbox: OutboxRepository,
    relay: OutboxRelay,
    stop: asyncio.Event,
) -> list[asyncio.Task[None]]:
    bus = await connect_bus(settings)
    live.bus, live.close_bus = bus, bus.close
    live.hub = await Hub.at_head(outbox)
    relayed_elsewhere = asyncio.Event()
    tasks = [
        asyncio.create_task(
            live.hub.run(bus, stop, interval=HUB_CATCH_UP_SECONDS, wake=relayed_elsewhere)
        ),
    ]
    if isinstance(bus, InProcessBus):  # JetStream carries every relay's batch to every hub
        listening = outbox_notices.listen(outbox.engine, relayed_elsewhere, stop)
        tasks.append(asyncio.create_task(listening))
    if settings.relay_interval_seconds > 0:
        relay = OutboxRelay(
            outbox=relay.outbox,
            invoices=relay.invoices,
            analytics=relay.analytics,
            clock=relay.clock,
            bus=bus,
            wake=live.wake,
            dead_letters=relay.dead_letters,
        )
        tasks.append(
            asyncio.create_task(relay.run_until(stop, interval=settings.relay_interval_seconds))
        )
    return tasks


__all__ = ["BusUnreachable", "Live", "connect_bus", "start"]
