"""The Starlette app: GraphQL at /graphql, health probes, attachment content."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, process_result
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from apgraph.gateway.attachments import attachment_content
from apgraph.gateway.auth import authenticate
from apgraph.gateway.errors import with_code
from apgraph.gateway.health import healthz, readyz
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.schema import build_schema
from apgraph.policies.gateway import GatewayConfig
from apgraph.schema.context import Context
from apgraph.schema.loaders import Loaders
from apgraph.settings import Settings
from apgraph.store.read_store import ReadStore


class ApGraphQL(GraphQL[Context, None]):
    """Builds each request's context: the caller, the store scoped to them, fresh loaders."""

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response = process_result(result)
        errors = response.get("errors")
        if errors:
            response["errors"] = [with_code(error) for error in errors]  # type: ignore[arg-type]
        return response

    async def get_context(self, request: Request | WebSocket, response: Any = None) -> Context:
        runtime: Runtime = request.app.state.runtime
        principal = authenticate(request)
        store = ReadStore.scoped(runtime.engine, principal.row_scope)
        return Context(
            principal=principal,
            store=store,
            loaders=Loaders.over(store),
            page_limits=runtime.page_limits,
            request=request,
            response=response,
        )


def create_app(
    settings: Settings, config: GatewayConfig, *, runtime: Runtime | None = None
) -> Starlette:
    """`runtime` given: the caller owns it (tests). Else the app opens and closes its own."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if runtime is not None:
            yield
            return
        app.state.runtime = Runtime.open(settings, config)
        try:
            yield
        finally:
            await app.state.runtime.close()

    schema = build_schema(
        config.limits,
        show_error_detail=settings.dev,
        expose_sql_statements=settings.expose_sql_statements,
    )
    graphql = ApGraphQL(
        schema,
        graphql_ide="graphiql" if settings.dev else None,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        allow_queries_via_get=True,
    )
    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/attachments/{attachment_id}/content", attachment_content),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),  # graphql-transport-ws only, never legacy
        ],
        lifespan=lifespan,
    )
    if runtime is not None:
        app.state.runtime = runtime
    return app


def create_app_from_environment() -> Starlette:
    """The app of one worker process, when `apgraph serve --workers N` runs several."""
    from apgraph.policies.loader import load_gateway_config

    settings = Settings()
    return create_app(settings, load_gateway_config(settings.gateway_config))
