"""The consumers `apgraph events replay --to …` can name, wired from this process's parts.

`analytics` reaches the analytics platform (each posted invoice's forecast); `bus` the event
bus this process is connected to (NATS JetStream with APGRAPH_BUS_URL: the subscription hubs
and webhook deliveries of every server consume it); `webhook:<id>` one partner webhook: the
deliveries it is owed are planned (never twice: they are keyed by event and webhook) and the
servers' webhook workers send them.
"""

from dataclasses import replace

from apgraph.domain.principal import RowScope
from apgraph.events.relay import OutboxRelay
from apgraph.events.replay import ReplayConsumer, ReplayConsumers
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.webhooks import planner_for
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository


def replay_consumers(runtime: Runtime) -> ReplayConsumers:
    """`bus` only once the process holds one (runtime.live.bus)."""
    consumers = ReplayConsumers()
    relay = OutboxRelay(
        outbox=OutboxRepository(runtime.engine),
        invoices=InvoiceRepository(runtime.engine, RowScope()),
        analytics=runtime.connectors.analytics,
        clock=runtime.clock,
    )
    consumers.register("analytics", relay.forecast_each)
    bus = runtime.live.bus
    if bus is not None:
        consumers.register("bus", bus.publish)

    async def webhook(webhook_id: str) -> ReplayConsumer | None:
        """Plans the deliveries one webhook is owed (the servers' webhook workers send them);
        None for an unknown or removed webhook."""
        planner = planner_for(runtime, wake=None)
        if await planner.queue.secret_of(webhook_id) is None:
            return None
        return replace(planner, only=webhook_id).receive_all

    consumers.register_prefix("webhook", webhook)
    return consumers
