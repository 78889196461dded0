"""/graphql is the full internal schema, for operators: a caller without the operators' scope
(admin, gateway.yaml `internal_schema.scope`) is refused there after authentication, before
the body is read and before any resolver, with no SQL: 403 OPERATORS_ONLY naming the product
endpoints its roles are admitted to (a WebSocket is closed with 4403). The same gate stands
in front of /graphql over HTTP, WebSocket and Server-Sent Events."""

from starlette.types import ASGIApp, Receive, Scope, Send

from apgraph.domain.principal import Role
from apgraph.gateway.products.lifecycle import endpoint_path
from apgraph.gateway.products.refusals import WEBSOCKET_FORBIDDEN, refusal
from apgraph.policies.products import Lifecycle, Product, Products

OPERATORS_ONLY = "OPERATORS_ONLY"


def product_endpoints(products: Products) -> dict[Role, list[str]]:
    """Each role's product endpoints, one per product: its newest active version, else its
    newest one still served (a beta)."""
    found: dict[Role, list[str]] = {}
    for name, product in sorted(products.items()):
        version = current_version(product)
        if version is None:
            continue
        for role in product.roles:
            found.setdefault(role, []).append(endpoint_path(name, version))
    return found


def current_version(product: Product) -> str | None:
    served = {
        name: version
        for name, version in product.versions.items()
        if version.status is not Lifecycle.RETIRED
    }
    active = [name for name, version in served.items() if version.status is Lifecycle.ACTIVE]
    newest = sorted(active or served, key=lambda name: int(name.removeprefix("v")))
    return newest[-1] if newest else None


class OperatorsOnly:
    def __init__(self, app: ASGIApp, *, scope: str, products: Products) -> None:
        self.app = app
        self.scope = scope
        self.endpoints = product_endpoints(products)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal")
        if principal is None or principal.has_scope(self.scope):
            # no principal: only the dev IDE page itself, which executes nothing
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_FORBIDDEN})
            return
        endpoints = sorted(
            {path for role in principal.roles for path in self.endpoints.get(role, ())}
        )
        response = refusal(
            403,
            OPERATORS_ONLY,
            f"/graphql is the internal schema for operators (the {self.scope} scope); "
            + (f"use {', '.join(endpoints)}" if endpoints else "no API product admits you"),
            endpoints=endpoints,
        )
        await response(scope, receive, send)
