"""The requests-per-minute gate: one request spends one unit of the caller's budget on the
product, before the body is read. Over budget: 429 RATE_LIMITED with Retry-After; every
answer carries the RateLimit-* headers so clients can slow down before they are refused.
A WebSocket spends one unit when it opens (its operations are priced by demand control)."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apgraph.gateway.products.rate_limits import RATE_LIMITED, client_key
from apgraph.gateway.products.refusals import WEBSOCKET_FORBIDDEN, refusal

REQUESTS = "requests"


class Throttle:
    def __init__(self, app: ASGIApp, *, product: str, requests_per_minute: int) -> None:
        self.app = app
        self.product = product
        self.limit = requests_per_minute

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal")
        if principal is None:  # the dev IDE page itself: it executes nothing
            await self.app(scope, receive, send)
            return
        limits = scope["app"].state.runtime.rate_limits
        verdict = await limits.spend_request(
            self.limit, product=self.product, client=client_key(principal)
        )
        headers = verdict.headers(f"{REQUESTS} per minute")
        if not verdict.allowed:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": WEBSOCKET_FORBIDDEN})
                return
            response = refusal(
                429,
                RATE_LIMITED,
                f"over {self.limit} requests per minute on {self.product}; retry in "
                f"{headers['Retry-After']} s",
                headers=headers,
                retryAfter=int(headers["Retry-After"]),
            )
            await response(scope, receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoded = [(name.lower().encode(), value.encode()) for name, value in headers.items()]

        async def with_headers(message: Message) -> None:
            """Adds the request budget's headers, unless the answer already names a budget
            (a cost refusal names the cost budget, the one that said no)."""
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(name, value) for name, value in encoded if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, with_headers)
