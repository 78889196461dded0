"""The Starlette app: GraphQL at /graphql, health probes, attachment content, the issuer."""

import asyncio
import gc
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException  # what strawberry answers a bad request with
from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from apgraph.domain.principal import Role, RowScope
from apgraph.events.relay import OutboxRelay
from apgraph.gateway import live, oauth, simulator_control, webhooks
from apgraph.gateway.attachments import attachment_content
from apgraph.gateway.authentication import RequireBearer
from apgraph.gateway.body_limit import BodyLimit, Limit
from apgraph.gateway.dashboard import page as dashboard
from apgraph.gateway.errors import with_code
from apgraph.gateway.graphiql import page as graphiql
from apgraph.gateway.health import healthz, readyz
from apgraph.gateway.key_encryption import dropped_event, resealed_event
from apgraph.gateway.metrics import metrics_endpoint
from apgraph.gateway.operators_only import OperatorsOnly, product_endpoints
from apgraph.gateway.products.routes import ProductSchemas, product_routes
from apgraph.gateway.request_context import NOBODY, context_for, workflow_for
from apgraph.gateway.retention import run_retention
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.schema import build_schema
from apgraph.gateway.sse import sse_endpoint
from apgraph.gateway.transport_errors import decode_bounded, refusal_response
from apgraph.gateway.websocket_session import SocketSessions
from apgraph.observability import logs, tracing
from apgraph.policies.gateway import GatewayConfig
from apgraph.schema.context import Context
from apgraph.services.escalation import Escalator
from apgraph.services.periodic import repeat_until
from apgraph.services.posting_recovery import PostingRecovery
from apgraph.services.rematch import Rematcher
from apgraph.services.scheduling import Scheduler
from apgraph.settings import Settings
from apgraph.store.connector_state import SqlPostingLedger
from apgraph.store.dead_letters import SqlDeadLetters
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository
from apgraph.store.resealing import keys_in_use, reseal
from apgraph.store.usage import UsageRepository

MULTIPART_OVERHEAD = 1024 * 1024  # the operations and map parts around an uploaded file
USAGE_FLUSH_SECONDS = 10.0  # API product usage reaches the database this often per instance


def _embedded_value(value: object) -> object:
    """`json.dumps`'s fallback for an `orjson.Fragment` (JSON text the database built): its
    value, parsed from the text orjson writes for it."""
    if isinstance(value, orjson.Fragment):
        return orjson.loads(orjson.dumps(value))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class ApGraphQL(GraphQL[Context, None]):
    """Builds each request's context: the caller, the store scoped to them, fresh loaders.

    `product_ide`: set on the operators' /graphql, the product IDE its GraphiQL page points
    the demo reader (not an operator) to."""

    def __init__(self, *args: Any, product_ide: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.product_ide = product_ide

    def encode_json(self, data: object) -> str:
        """Responses and WebSocket messages through orjson: a 50-invoice page is ~60 kB,
        and strawberry's `json.dumps` took ~4 % of its CPU (issue 19). The same compact JSON,
        non-ASCII as UTF-8 rather than escapes, and a page the database built as JSON
        (`Context.embeds_json`) written as the database wrote it. Anything orjson refuses (an
        integer past 64 bits, say) goes through `json.dumps` as strawberry's own encoder
        does, which answers or fails as before."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:  # orjson.JSONEncodeError is one
            return json.dumps(data, separators=(",", ":"), default=_embedded_value)

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        # RequireBearer set the principal; only the GraphiQL page itself (which executes
        # nothing) arrives without one, and gets a caller who may see nothing. On a WebSocket
        # this is the connection's context: each operation gets its own
        # (ContextPerSocketOperation).
        context = context_for(
            request.app.state.runtime,
            getattr(request.state, "principal", NOBODY),
            schema=self.schema,  # type: ignore[arg-type]  # ours is always a strawberry.Schema
            request=request,
            response=response,
            trace_id=getattr(request.state, "trace_id", ""),
        )
        context.embeds_json = not isinstance(request, WebSocket)  # answered by encode_json
        return context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """As strawberry's, but a request refused before execution gets a JSON answer."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as refusal:
            response = refusal_response(refusal)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        return decode_bounded(data)

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """Strawberry answers some malformed multipart requests (e.g. `operations` sent as a
        file part, a map path into a non-object) with a 500; they are the client's to fix."""
        try:
            return await super().parse_multipart(request)
        except (TypeError, AttributeError, IndexError) as error:
            raise HTTPException(
                400,
                "malformed GraphQL multipart request: `operations` and `map` must be form "
                f"fields holding JSON, and each map path must lead to a variable ({error})",
            ) from None

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = process_result(result)
        errors = response.get("errors")
        if errors:
            response["errors"] = [with_code(error) for error in errors]  # type: ignore[arg-type]
        return response

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL from the package; signed in as the read-only demo reader, on this machine
        only, so a newcomer can try it at once and nobody else gets a token."""
        runtime: Runtime = request.app.state.runtime
        signed_in = None
        if runtime.issuer is not None and graphiql.from_this_machine(request):
            signed_in = graphiql.reader_token(runtime.issuer, runtime.clock.now())
        return graphiql.page(signed_in, product_ide=self.product_ide)


def outbox_relay(runtime: Runtime) -> OutboxRelay:
    """The relay of this process. With several workers (or servers) the relays take turns
    (`Outbox.relay_turn`), and the outbox's idempotent marking plus the consumers' dedupe by
    event id keep delivery at least once."""
    return OutboxRelay(
        outbox=OutboxRepository(runtime.engine),
        invoices=InvoiceRepository(runtime.engine, RowScope()),
        analytics=runtime.connectors.analytics,
        clock=runtime.clock,
        dead_letters=SqlDeadLetters(runtime.engine),
    )


def rematcher(runtime: Runtime) -> Rematcher:
    """The re-match loop of this process: it works for the system, so it reads unscoped."""
    return Rematcher(
        workflow=workflow_for(runtime, None),
        reads=runtime.reads(RowScope()),
        clock=runtime.clock,
    )


def posting_recovery(runtime: Runtime) -> PostingRecovery:
    """The recovery loop of interrupted postings: it works for the system, so it reads
    unscoped."""
    return PostingRecovery(
        workflow=workflow_for(runtime, None),
        reads=runtime.reads(RowScope()),
        ledger=SqlPostingLedger(runtime.engine),
        clock=runtime.clock,
        grace=timedelta(seconds=runtime.settings.posting_recovery_grace_seconds),
    )


def escalator(runtime: Runtime) -> Escalator:
    """The escalation loop of this process: it works for the system, so it reads unscoped."""
    return Escalator(
        workflow=workflow_for(runtime, None),
        reads=runtime.reads(RowScope()),
        clock=runtime.clock,
    )


def retainer(runtime: Runtime) -> Callable[[], Awaitable[bool]]:
    """The periodic purge of what gateway.yaml's `retention` says is past keeping."""

    async def once() -> bool:
        await run_retention(
            runtime.engine,
            runtime.keyring,
            runtime.config,
            now=runtime.clock.now(),
            dry_run=False,
            actor="system:retention",
        )
        return False  # each run goes on in batches until nothing is left

    return once


def resealer(runtime: Runtime) -> Callable[[], Awaitable[bool]]:
    """The background pass that moves rows onto the active data key after a rotation made
    elsewhere (`apgraph keys rotate-data --no-reseal`, another instance), then deletes the
    retired keys no row needs once they are past the drop grace (store/keyring.py); audited
    when it moved or dropped anything."""

    async def once() -> bool:
        report = await reseal(runtime.engine, runtime.keyring)
        now = runtime.clock.now()
        drops = await runtime.keyring.drop_retired(
            in_use=await keys_in_use(runtime.engine), now=now
        )
        events = []
        if report.moved or report.secrets_moved or report.unreadable:
            events.append(resealed_event(report))
        if drops.dropped:
            events.append(dropped_event(drops.dropped))
        if events:
            await runtime.audit.record(events, at=now)
        return False  # reseal itself runs until nothing is left

    return once


def tracer_provider_for(settings: Settings) -> TracerProvider | None:
    """APGRAPH_TRACING and the standard OTEL_* variables (observability/tracing.py)."""
    return tracing.tracer_provider(
        enabled=settings.tracing == "on",
        export=bool(settings.otel_exporter_otlp_endpoint),
        service=tracing.SERVICE,
    )


YOUNG_GENERATION_THRESHOLD = 10_000


def settle_heap() -> None:
    """Moves what start-up built out of the garbage collector's way.

    The runtime, the schema and above all the demo network loaded into the in-process
    simulators are ~300k objects that live as long as the process. Left in the oldest
    generation, every full collection walks them all (~95 ms each, every ~18 portal pages:
    that was the p99, and collection was 22 % of CPU; issue 19). `gc.freeze()` moves them to
    the permanent generation, which no collection visits; collecting first keeps start-up's
    garbage from being frozen with them. A page allocates tens of thousands of short-lived
    objects, so a young generation of 700 was collected ~10 times a page; 10,000 makes that
    about once in four pages for a few MB of memory. Server CPU per portal page went from
    37-42 ms to 30 ms, collection from ~22-33 to ~3 ms a page (bench/portal_cpu.py).
    """
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)


def create_app(
    settings: Settings,
    config: GatewayConfig,
    *,
    runtime: Runtime | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """`runtime` given: the caller owns it (tests). Else the app opens and closes its own.
    `tracer_provider` given (tests: an in-memory exporter): traces go there whatever the
    settings say; else the runtime's, else the settings'."""
    provider = tracer_provider or (runtime.tracer_provider if runtime is not None else None)
    owns_provider = provider is None
    if provider is None:
        provider = tracer_provider_for(settings)
    if provider is not None:
        tracing.install(provider)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        app.state.runtime = Runtime.open(settings, config, tracer_provider=provider)
        running: Runtime = app.state.runtime
        await running.keyring.reload()  # the data keys in memory before the first request
        await running.connectors.ready_to_post(running.engine, running.keyring)
        stop = asyncio.Event()
        runtime_now: Runtime = app.state.runtime
        background = await live.start(
            runtime_now.live,
            settings,
            OutboxRepository(runtime_now.engine),
            outbox_relay(runtime_now),
            stop,
        )
        if settings.webhook_interval_seconds > 0 and runtime_now.live.bus is not None:
            background += webhooks.start(runtime_now, runtime_now.live.bus, stop)
        if settings.rematch_interval_seconds > 0:
            rematch = rematcher(app.state.runtime)
            background.append(
                asyncio.create_task(
                    rematch.run_until(stop, interval=settings.rematch_interval_seconds)
                )
            )
        if settings.posting_recovery_interval_seconds > 0:
            recovery = posting_recovery(app.state.runtime)
            background.append(
                asyncio.create_task(
                    recovery.run_until(stop, interval=settings.posting_recovery_interval_seconds)
                )
            )
        if settings.escalation_interval_seconds > 0:
            escalation = escalator(app.state.runtime)
            background.append(
                asyncio.create_task(
                    escalation.run_until(stop, interval=settings.escalation_interval_seconds)
                )
            )
        if settings.reseal_interval_seconds > 0:
            background.append(
                asyncio.create_task(
                    repeat_until(
                        stop,
                        resealer(running),
                        interval=settings.reseal_interval_seconds,
                    )
                )
            )
        if settings.retention_interval_seconds > 0 and config.retention.kinds:
            background.append(
                asyncio.create_task(
                    repeat_until(
                        stop, retainer(running), interval=settings.retention_interval_seconds
                    )
                )
            )
        if settings.auth_mode == "embedded":
            refusals = app.state.runtime.token_refusals
            background.append(
                asyncio.create_task(
                    refusals.run_until(
                        stop,
                        audit=app.state.runtime.audit,
                        clock=app.state.runtime.clock,
                        interval=min(1.0, settings.token_refusal_burst_seconds),
                    )
                )
            )
        background.append(
            asyncio.create_task(
                runtime_now.usage.run_until(
                    stop, UsageRepository(runtime_now.engine), interval=USAGE_FLUSH_SECONDS
                )
            )
        )
        if settings.scheduling_interval_seconds > 0:
            payments = Scheduler(
                workflow=workflow_for(app.state.runtime, None), clock=app.state.runtime.clock
            )
            background.append(
                asyncio.create_task(
                    payments.run_until(stop, interval=settings.scheduling_interval_seconds)
                )
            )
        settle_heap()
        try:
            yield
        finally:
            stop.set()
            for task in background:
                await task
            await app.state.runtime.close()
            if owns_provider and provider is not None:
                provider.shutdown()  # the last batch of spans goes out

    schema = build_schema(
        config,
        show_error_detail=settings.dev,
        expose_sql_statements=settings.expose_sql_statements,
        fast_reads=settings.fast_reads,
    )

    def graphql_app(schema: strawberry.Schema, product_ide: str | None = None) -> ApGraphQL:
        return ApGraphQL(
            schema,
            product_ide=product_ide,
            graphql_ide="graphiql" if settings.dev else None,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            allow_queries_via_get=True,
            # importMasterData takes a bundle file (GraphQL multipart request spec). Safe from
            # cross-site forms: a request needs its bearer token, which a form cannot send.
            multipart_uploads_enabled=True,
        )

    def socket_sessions(app: ASGIApp) -> ASGIApp:
        return SocketSessions(app, recheck_seconds=settings.websocket_recheck_seconds)

    def body_limit(app: ASGIApp) -> ASGIApp:
        """Plain GraphQL bodies are small; only a multipart upload (importMasterData's
        bundle) may reach the upload limit."""
        return BodyLimit(
            app,
            max_bytes=settings.max_request_bytes,
            multipart=Limit(
                settings.max_upload_bytes + MULTIPART_OVERHEAD, shown=settings.max_upload_bytes
            ),
        )

    operators = config.internal_schema.scope
    reader_products = product_endpoints(config.products).get(Role(graphiql.READER_ROLE), [])
    graphql = graphql_app(
        schema, product_ide=reader_products[0] if operators and reader_products else None
    )

    def operators_only(app: ASGIApp) -> ASGIApp:
        if operators is None:
            return app
        return OperatorsOnly(app, scope=operators, products=config.products)

    # the bearer token is checked before a byte of the body is read, then the operators'
    # scope, then the body's size
    protected_graphql = RequireBearer(
        operators_only(body_limit(graphql)), graphql_errors=True, allow_ide=settings.dev
    )
    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/dashboard", dashboard.dashboard_page),
        Route("/dashboard/assets/{name}", dashboard.dashboard_asset),
        Route("/readyz", readyz),
        Route("/graphql", protected_graphql, methods=["GET", "POST"]),
        # graphql-transport-ws only, never legacy; each socket ends with its token
        WebSocketRoute(
            "/graphql",
            RequireBearer(operators_only(socket_sessions(graphql)), graphql_errors=True),
        ),
        Route("/metrics", RequireBearer(request_response(metrics_endpoint), graphql_errors=False)),
        # subscriptions over Server-Sent Events (graphql-sse, distinct connections mode)
        Route(
            "/graphql/stream",
            RequireBearer(
                operators_only(request_response(sse_endpoint(lambda request: schema))),
                graphql_errors=True,
            ),
            methods=["GET", "POST"],
        ),
        Route(
            "/attachments/{attachment_id}/content",
            RequireBearer(request_response(attachment_content), graphql_errors=False),
        ),
        *product_routes(
            settings,
            config,
            ProductSchemas.build(settings, config),
            graphql_app=graphql_app,
            socket_sessions=socket_sessions,
            body_limit=body_limit,
        ),
    ]
    if settings.dev:
        routes.append(Route(graphiql.ASSETS_PATH + "/{name}", graphiql.asset_endpoint))
        # the in-process simulators' fault-control API, for operators (admin), dev only
        routes.append(
            Route(
                simulator_control.EMBEDDED_PREFIX + "/{rest:path}",
                RequireBearer(
                    request_response(simulator_control.embedded_control), graphql_errors=False
                ),
                methods=["GET", "POST", "DELETE"],
            )
        )
    if settings.auth_mode == "embedded":
        routes += [
            Route("/oauth/token", oauth.token_endpoint, methods=["POST"]),
            Route("/.well-known/jwks.json", oauth.jwks),
            Route("/.well-known/openid-configuration", oauth.discovery),
        ]
    app = Starlette(routes=routes, lifespan=lifespan)
    if provider is not None:
        tracing.instrument_app(app, provider)
    if runtime is not None:
        app.state.runtime = runtime
    return app


def create_app_from_environment() -> Starlette:
    """The app of one worker process, when `apgraph serve --workers N` runs several."""
    from apgraph.policies.loader import load_gateway_config
    from apgraph.policies.policy_file import with_policy_file

    settings = Settings()
    logs.configure(format=settings.effective_log_format)
    config = load_gateway_config(settings.gateway_config)
    return create_app(settings, with_policy_file(config, settings.policy_file))
