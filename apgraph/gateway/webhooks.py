"""Partner webhooks in a running server: the bus consumer that plans deliveries and the
worker that makes them, wired to this runtime's store, policy, clock and metrics."""

import asyncio

from apgraph.events.webhooks import Outcome, WebhookDispatcher, WebhookPlanner
from apgraph.gateway.runtime import Runtime
from apgraph.observability.metrics import WEBHOOK_ATTEMPTS
from apgraph.services.ports.bus import EventBus
from apgraph.store.dead_letters import SqlDeadLetters
from apgraph.store.webhooks import SqlWebhooks


def count(outcome: Outcome) -> None:
    WEBHOOK_ATTEMPTS.labels(outcome.value).inc()


def dispatcher_for(runtime: Runtime) -> WebhookDispatcher:
    policy = runtime.config.webhooks
    return WebhookDispatcher(
        queue=SqlWebhooks(runtime.engine, runtime.keyring),
        http=runtime.http,
        clock=runtime.clock,
        retries=policy.retries,
        targets=policy.targets,
        timeout=policy.timeout,
        observe=count,
        dead_letters=SqlDeadLetters(runtime.engine),
    )


def planner_for(runtime: Runtime, wake: asyncio.Event | None) -> WebhookPlanner:
    return WebhookPlanner(
        queue=SqlWebhooks(runtime.engine, runtime.keyring),
        rules=runtime.webhook_rules,
        clock=runtime.clock,
        wake=wake,
    )


def start(runtime: Runtime, bus: EventBus, stop: asyncio.Event) -> list[asyncio.Task[None]]:
    """Both halves; the worker wakes as soon as the planner persisted a delivery."""
    wake = asyncio.Event()
    dispatcher = dispatcher_for(runtime)
    interval = runtime.settings.webhook_interval_seconds
    return [
        asyncio.create_task(planner_for(runtime, wake).run(bus, stop)),
        asyncio.create_task(dispatcher.run_until(stop, interval=interval, wake=wake)),
    ]
