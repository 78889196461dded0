"""The consumers `apgraph events replay --to …` can name, wired from this process's parts.

`analytics` reaches the analytics platform (each posted invoice's forecast); `bus` the event
bus this process is connected to (NATS JetStream with APGRAPH_BUS_URL: the subscription hubs
and webhook deliveries of every server consume it). A worker with consumers of its own (webhook
subscriptions) registers a prefix here, e.g. `webhook:<subscription id>`.
"""

from apgraph.domain.principal import RowScope
from apgraph.events.relay import OutboxRelay
from apgraph.events.replay import ReplayConsumers
from apgraph.gateway.runtime import Runtime
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
    return consumers
