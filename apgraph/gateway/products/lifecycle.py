"""A version's lifecycle on the wire: retired versions are refused naming their successor;
deprecated ones are served with `Deprecation` (RFC 9745), `Sunset` (RFC 8594) and a `Link`
to the successor, so clients and their monitoring notice before the sunset date."""

from datetime import UTC, datetime, time
from email.utils import format_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apgraph.gateway.products.refusals import WEBSOCKET_FORBIDDEN, refusal
from apgraph.policies.products import Lifecycle, ProductVersion

VERSION_RETIRED = "VERSION_RETIRED"


def endpoint_path(product: str, version: str) -> str:
    return f"/products/{product}/{version}/graphql"


def lifecycle_headers(product: str, version: ProductVersion) -> list[tuple[bytes, bytes]]:
    """The headers a deprecated version answers with; none for beta and active ones."""
    if version.status is not Lifecycle.DEPRECATED:
        return []
    headers: list[tuple[bytes, bytes]] = []
    if version.deprecated_since is not None:
        since = datetime.combine(version.deprecated_since, time(), tzinfo=UTC)
        headers.append((b"deprecation", f"@{int(since.timestamp())}".encode()))
    if version.sunset is not None:
        sunset = datetime.combine(version.sunset, time(), tzinfo=UTC)
        headers.append((b"sunset", format_datetime(sunset, usegmt=True).encode()))
    if version.successor is not None:
        link = f'<{endpoint_path(product, version.successor)}>; rel="successor-version"'
        headers.append((b"link", link.encode()))
    return headers


class VersionLifecycle:
    def __init__(self, app: ASGIApp, *, product: str, name: str, version: ProductVersion) -> None:
        self.app = app
        self.product = product
        self.name = name
        self.version = version
        self.headers = lifecycle_headers(product, version)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.version.status is Lifecycle.RETIRED:
            await self._refuse(scope, receive, send)
            return
        if not self.headers or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.headers]}
            await send(message)

        await self.app(scope, receive, with_headers)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": WEBSOCKET_FORBIDDEN})
            return
        successor = self.version.successor
        message = f"{self.product} {self.name} is retired"
        if successor is not None:
            message += f"; use {successor} at {endpoint_path(self.product, successor)}"
        response = refusal(410, VERSION_RETIRED, message, successor=successor)
        await response(scope, receive, send)
