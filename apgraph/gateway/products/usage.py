"""Usage per product: requests, errors and latency per product version, client and
operation name, counted in memory on the request path and added to the database every few
seconds (and at shutdown) by each instance, so `apgraph products usage` and the operators'
`productUsage` field show who still calls a deprecated version.

Counted: every HTTP request to a product's GraphQL endpoint that carries a valid token,
refusals included (as errors), and every operation over its WebSocket.
"""

import asyncio
import time
from collections.abc import Iterator
from datetime import datetime

from graphql import DocumentNode, OperationDefinitionNode
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from apgraph.gateway.products.rate_limits import client_key
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.usage import UsageCount, UsageKey, UsageWriter

ANONYMOUS = "(anonymous)"
NOT_PARSED = "(not parsed)"  # refused before GraphQL read the operation
OPERATION_NAME = "operation_name"  # keys of the ASGI scope's state the extension fills
GRAPHQL_ERRORS = "graphql_errors"


class UsageMeter:
    """This process's counts since the last flush."""

    def __init__(self) -> None:
        self.counts: dict[UsageKey, list[float]] = {}  # requests, errors, total ms, max ms

    def record(self, key: UsageKey, *, failed: bool, latency_ms: float) -> None:
        count = self.counts.setdefault(key, [0, 0, 0.0, 0.0])
        count[0] += 1
        count[1] += int(failed)
        count[2] += latency_ms
        count[3] = max(count[3], latency_ms)

    async def flush(self, writer: UsageWriter) -> bool:
        """Hands the counts to `writer`; on failure they are kept for the next flush."""
        taken, self.counts = self.counts, {}
        try:
            await writer.add(
                [
                    UsageCount(
                        key, int(c[0]), int(c[1]), latency_ms_total=c[2], latency_ms_max=c[3]
                    )
                    for key, c in taken.items()
                ]
            )
        except BaseException:
            for key, c in taken.items():  # put back, merged with what arrived meanwhile
                merged = self.counts.setdefault(key, [0, 0, 0.0, 0.0])
                merged[0] += c[0]
                merged[1] += c[1]
                merged[2] += c[2]
                merged[3] = max(merged[3], c[3])
            raise
        return False  # repeat_until: wait the interval before the next flush

    async def run_until(self, stop: asyncio.Event, writer: UsageWriter, *, interval: float) -> None:
        await repeat_until(stop, lambda: self.flush(writer), interval=interval)
        await self.flush(writer)  # what the last interval counted


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


class MeterUsage:
    """ASGI, just inside authentication: times each request and records it when answered."""

    def __init__(self, app: ASGIApp, *, product: str, version: str) -> None:
        self.app = app
        self.product = product
        self.version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope.get("state", {})
        principal = state.get("principal")
        if scope["type"] != "http" or principal is None:
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            key = UsageKey(
                minute=minute_of(clock_of(runtime).now()),
                product=self.product,
                version=self.version,
                client=client_key(principal),
                operation=state.get(OPERATION_NAME, NOT_PARSED),
            )
            runtime.usage.record(
                key,
                failed=status >= 400 or bool(state.get(GRAPHQL_ERRORS)),
                latency_ms=(time.perf_counter() - started) * 1000,
            )


def clock_of(runtime: object) -> Clock:
    return runtime.clock  # type: ignore[attr-defined, no-any-return]


class NameOperation(SchemaExtension):
    """Over HTTP, tells MeterUsage which operation ran and whether it answered errors; over
    WebSocket (no request to time), records each operation itself."""

    def __init__(self, *, product: str, version: str) -> None:
        self.product = product
        self.version = version

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        request = getattr(context.context, "request", None)
        if request is None:
            return
        name = context.operation_name or _only_operation_name(context.graphql_document)
        failed = bool(getattr(context.result, "errors", None))
        if request.scope["type"] == "http":
            state = request.scope.setdefault("state", {})
            state[OPERATION_NAME] = name or ANONYMOUS
            state[GRAPHQL_ERRORS] = failed
            return
        runtime = request.app.state.runtime
        key = UsageKey(
            minute=minute_of(clock_of(runtime).now()),
            product=self.product,
            version=self.version,
            client=client_key(context.context.principal),
            operation=name or ANONYMOUS,
        )
        runtime.usage.record(key, failed=failed, latency_ms=(time.perf_counter() - started) * 1000)


def _only_operation_name(document: DocumentNode | None) -> str | None:
    if document is None:
        return None
    names = [
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
    return names[0] if len(names) == 1 else None
