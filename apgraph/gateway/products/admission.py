"""Admits only the roles a product is for: a supplier token has no business on the partner
product, whatever its scopes would allow. Runs after authentication, before the body is
read; refuses with 403 PRODUCT_NOT_ADMITTED (a WebSocket is closed with 4403)."""

from starlette.types import ASGIApp, Receive, Scope, Send

from apgraph.domain.principal import Role
from apgraph.gateway.products.refusals import WEBSOCKET_FORBIDDEN, refusal

PRODUCT_NOT_ADMITTED = "PRODUCT_NOT_ADMITTED"


class AdmitRoles:
    def __init__(self, app: ASGIApp, *, product: str, roles: frozenset[Role]) -> None:
        self.app = app
        self.product = product
        self.roles = roles

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal")
        if principal is None or principal.roles & self.roles:
            # no principal: only the dev IDE page itself, which executes nothing
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_FORBIDDEN})
            return
        admitted = ", ".join(sorted(role.value for role in self.roles))
        response = refusal(
            403,
            PRODUCT_NOT_ADMITTED,
            f"{self.product} admits only these roles: {admitted}",
        )
        await response(scope, receive, send)
