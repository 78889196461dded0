"""What one GraphQL operation runs with: the caller, the store scoped to them, fresh loaders.

Built per HTTP request, and per operation on a WebSocket (where the caller is re-checked
before each operation), so no operation inherits another's caller, cache or audit notes.
"""

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from starlette.websockets import WebSocket

from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.principal import Principal, RowScope
from apgraph.events.relay import OutboxRelay
from apgraph.gateway import webhooks
from apgraph.gateway.runtime import Runtime
from apgraph.policies.access import ANY_SIGNED_IN
from apgraph.schema.context import Context
from apgraph.schema.loaders import Loaders
from apgraph.services.dead_letters import ReplayRegistry, workflow_replays
from apgraph.services.ports.workflow import Workflow
from apgraph.store.dead_letters import SqlDeadLetters
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork

SLOW_SUBSCRIBER = 4413  # graphql-transport-ws leaves 44xx to the server: "too slow, resume"
NOBODY = Principal(
    subject="anonymous", roles=frozenset(), scopes=frozenset(), facility_ids=frozenset()
)


def context_for(
    runtime: Runtime,
    principal: Principal,
    *,
    schema: strawberry.Schema,
    request: Any,
    response: Any,
    trace_id: str,
) -> Context:
    """`schema`: the one the operation runs on; a product's view may leave a type out."""
    store = runtime.reads(principal.row_scope)
    types = runtime.config.access.types

    def may_read(type_name: str) -> bool:
        if schema.get_type_by_name(type_name) is None:
            return False
        requirement = types.get(type_name)
        return requirement == ANY_SIGNED_IN or requirement in principal.scopes

    return Context(
        principal=principal,
        store=store,
        loaders=Loaders.over(store),
        page_limits=runtime.page_limits,
        may_read=may_read,
        trace_id=trace_id,
        clock=runtime.clock,
        connectors=runtime.connectors,
        workflow=workflow_for(runtime, trace_id or None),
        onboarding=runtime.onboarding,
        webhooks=runtime.webhooks,
        live=runtime.live.feed(
            runtime.settings, OutboxRepository(runtime.engine), closer_of(request)
        ),
        configuration=runtime.configuration,
        dead_letters=SqlDeadLetters(runtime.engine),
        replays=lambda: dead_letter_replays(runtime, trace_id or None),
        request=request,
        response=response,
    )


def closer_of(request: Any) -> Callable[[], Awaitable[None]]:
    """How a subscriber that fell behind is cut off: a WebSocket is closed with 4413 (it
    resumes from its cursor); an SSE stream ends by itself when its feed does."""

    async def close() -> None:
        if isinstance(request, WebSocket):
            await request.close(code=SLOW_SUBSCRIBER, reason="too slow: resume from your cursor")

    return close


def dead_letter_replays(runtime: Runtime, trace_id: str | None) -> ReplayRegistry:
    """Every kind of dead letter this process replays, and with what (`replayDeadLetter`,
    `apgraph deadletters replay`). The invoice workflow's kinds come from
    services/dead_letters.py; a worker that files letters of its own kind (the relay, webhook
    deliveries) registers its handler here. `trace_id`: the operator's request."""
    registry = workflow_replays(
        workflow=workflow_for(runtime, trace_id),
        reads=runtime.reads(RowScope()),
        clock=runtime.clock,
    )
    relay = OutboxRelay(
        outbox=OutboxRepository(runtime.engine),
        invoices=InvoiceRepository(runtime.engine, RowScope()),
        analytics=runtime.connectors.analytics,
        clock=runtime.clock,
        bus=runtime.live.bus,  # None outside a server (the command line): analytics only
        dead_letters=SqlDeadLetters(runtime.engine),
    )
    registry.register(DeadLetterKind.RELAY, relay.replay)
    registry.register(
        DeadLetterKind.WEBHOOK_DELIVERY, webhooks.dispatcher_for(runtime).replay_letter
    )
    return registry


def workflow_for(runtime: Runtime, trace_id: str | None) -> Workflow:
    """The write side of one request: its units of work carry the request's trace id."""
    return Workflow(
        unit_of_work=lambda: SqlUnitOfWork(
            runtime.engine,
            trace_id=trace_id,
            on_events=runtime.live.wake.set,
            keyring=runtime.keyring,
        ),
        connectors=runtime.connectors,
        policy=runtime.workflow_policy,
        trace_id=trace_id,
    )
