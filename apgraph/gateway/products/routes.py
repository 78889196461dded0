"""Every product version's endpoints: /products/<product>/<version>/graphql (HTTP and
WebSocket), .../graphql/stream (Server-Sent Events) and .../schema.graphql (the view's SDL),
each behind the same gates in the same order: lifecycle, bearer token, usage metering, role
admission, requests per minute, body size, persisted operations. Those answer before the
body is read (persisted operations: before it is parsed as GraphQL); the view's schema then
checks depth, aliases, tokens, the allow-list and the cost before execution. No refusal
reaches a resolver."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute, request_response
from starlette.types import ASGIApp

from apgraph.gateway.authentication import RequireBearer
from apgraph.gateway.products.admission import AdmitRoles
from apgraph.gateway.products.lifecycle import VersionLifecycle, endpoint_path
from apgraph.gateway.products.operation_lists import (
    OperationList,
    list_path,
    read_operation_list,
)
from apgraph.gateway.products.persisted import PersistedQueries, registrations_for
from apgraph.gateway.products.throttle import Throttle
from apgraph.gateway.products.usage import MeterUsage
from apgraph.gateway.products.views import ViewSchema, build_view_schema
from apgraph.gateway.sse import sse_endpoint
from apgraph.policies.gateway import GatewayConfig
from apgraph.services.ports.reads import PageLimits
from apgraph.settings import Settings

GraphQLApp = Callable[[ViewSchema], ASGIApp]


@dataclass(frozen=True, slots=True)
class ProductSchemas:
    """Each product version's schema, by (product, version); each product's allow-list."""

    by_version: dict[tuple[str, str], ViewSchema]
    operation_lists: dict[str, OperationList]

    @classmethod
    def build(cls, settings: Settings, config: GatewayConfig) -> "ProductSchemas":
        """Raises OperationListError when a product's allow-list cannot be read."""
        lists = {
            name: read_operation_list(path)
            for name, product in config.products.items()
            if (path := list_path(settings.gateway_config, product.persisted_operations))
        }
        page_limits = PageLimits(
            default_size=config.limits.default_page_size, max_size=config.limits.max_page_size
        )
        schemas = {
            (name, version_name): build_view_schema(
                config,
                product,
                version.view,
                show_error_detail=settings.dev,
                expose_sql_statements=settings.expose_sql_statements,
                fast_reads=settings.fast_reads,
                introspection=settings.dev or product.introspection_in_production,
                product_name=name,
                version_name=version_name,
                page_limits=page_limits,
                allowed=lists.get(name) if product.persisted_operations.required else None,
            )
            for name, product in config.products.items()
            for version_name, version in product.versions.items()
        }
        return cls(schemas, lists)


def product_routes(
    settings: Settings,
    config: GatewayConfig,
    schemas: ProductSchemas,
    *,
    graphql_app: GraphQLApp,
    socket_sessions: Callable[[ASGIApp], ASGIApp],
    body_limit: Callable[[ASGIApp], ASGIApp],
) -> list[BaseRoute]:
    routes: list[BaseRoute] = []
    registrations = registrations_for(settings.redis_url)
    for (name, version_name), schema in schemas.by_version.items():
        gate = Gate(settings, config, name, version_name)
        view = graphql_app(schema)
        persisted = PersistedQueries(
            view,
            policy=config.products[name].persisted_operations,
            allowed=schemas.operation_lists.get(name, OperationList()),
            registered=registrations(f"{settings.redis_key_prefix}:apq:{name}:{version_name}"),
        )
        graphql = gate(body_limit(persisted), errors=True)
        path = endpoint_path(name, version_name)
        routes += [
            Route(path, graphql, methods=["GET", "POST"]),
            # graphql-transport-ws only; each socket ends with its token, as on /graphql
            WebSocketRoute(path, gate(socket_sessions(view), errors=True)),
            # subscriptions over Server-Sent Events (graphql-sse), as /graphql/stream
            Route(
                path + "/stream",
                gate(request_response(sse_endpoint(lambda _, s=schema: s)), errors=True),
                methods=["GET", "POST"],
            ),
            Route(
                path.removesuffix("graphql") + "schema.graphql",
                gate(request_response(sdl_of(schema)), errors=False),
            ),
        ]
    return routes


@dataclass(frozen=True, slots=True)
class Gate:
    """Wraps an endpoint of one product version in its gates, outermost first."""

    settings: Settings
    config: GatewayConfig
    product: str
    version: str

    def __call__(self, app: ASGIApp, *, errors: bool) -> ASGIApp:
        """`errors`: refusals shaped as GraphQL responses (the GraphQL endpoint)."""
        product = self.config.products[self.product]
        throttled = Throttle(
            app, product=self.product, requests_per_minute=product.limits.requests_per_minute
        )
        admitted: ASGIApp = AdmitRoles(throttled, product=self.product, roles=product.roles)
        if errors:  # the GraphQL endpoint: its requests count as usage, refusals included
            admitted = MeterUsage(admitted, product=self.product, version=self.version)
        bearer = RequireBearer(admitted, graphql_errors=errors, allow_ide=self.settings.dev)
        return VersionLifecycle(
            bearer, product=self.product, name=self.version, version=product.versions[self.version]
        )


def sdl_of(schema: ViewSchema) -> Callable[[Request], Awaitable[Response]]:
    """The view's SDL, exactly what `apgraph contracts export` freezes for the version."""
    text = schema.as_str() + "\n"

    async def sdl(request: Request) -> Response:
        return PlainTextResponse(text, media_type="application/graphql")

    return sdl
