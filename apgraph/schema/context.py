"""The per-request context every resolver sees, and the `Info` type that carries it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry

from apgraph.domain.configuration import ConfigurationStart
from apgraph.domain.principal import Principal
from apgraph.schema.loaders import Loaders
from apgraph.services.ports.bus import LiveEvents
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import ConnectorViews
from apgraph.services.ports.dead_letters import DeadLetterReplays, DeadLetterStore
from apgraph.services.ports.master_data import Onboarding
from apgraph.services.ports.reads import PageLimits, Reads
from apgraph.services.ports.webhooks import WebhookDeps
from apgraph.services.ports.workflow import Workflow


@dataclass(slots=True)
class Context:
    principal: Principal
    store: Reads  # scoped to `principal` already
    loaders: Loaders
    page_limits: PageLimits
    may_read: Callable[[str], bool]  # may the principal read objects of this GraphQL type?
    trace_id: str
    clock: Clock  # services and time-dependent reads take it from here, never from the wall
    connectors: ConnectorViews  # operator queries only
    workflow: Workflow  # what mutations hand their services: units of work, connectors, policy
    onboarding: Onboarding  # what importMasterData hands the onboarding service
    webhooks: WebhookDeps | None = None  # partner webhooks' registry and URL policy
    live: LiveEvents | None = None  # subscriptions' feed; None where no hub runs (ASGI tests)
    denied: list[str] = field(default_factory=list)  # fields refused, for the audit trail
    classified_reads: list[tuple[str, str | None]] = field(default_factory=list)  # (field, owner)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (field, owner): tampered
    configuration: ConfigurationStart | None = None  # what this server runs with
    dead_letters: DeadLetterStore | None = None  # operators' deadLetters and replayDeadLetter
    # the replay handlers per kind, made on the first replay (a request that lists pays nothing)
    replays: Callable[[], DeadLetterReplays] | None = None
    request: Any = None  # the Starlette request or websocket
    # the batched fields (schema/batched.py declarations) the operation selects anywhere, as
    # the fast path planned it: a root's read may read them with its own statement (a page's
    # lines) instead of leaving each to a statement of its own; empty when nobody planned
    selects: frozenset[object] = frozenset()
    response: Any = None
    # set by the HTTP view, whose encoder (orjson) writes an `orjson.Fragment` as the JSON text
    # it holds: the fast path may then hand over a root the database built as JSON as that
    # text, unparsed (parsing it and encoding it again was ~15 % of a portal page's CPU).
    # Everywhere else (a WebSocket, Server-Sent Events, `schema.execute` in-process) the data
    # stays plain Python values.
    embeds_json: bool = False


Info = strawberry.Info[Context, None]
