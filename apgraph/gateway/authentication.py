"""The gate in front of every protected route: no valid bearer token, no entry.

Answers 401 with RFC 6750's WWW-Authenticate header, records the refusal in the audit
trail, and hands the Principal on in the ASGI scope's state. In dev mode the GraphiQL page
itself (a plain GET for HTML) passes; every query it sends still needs a token.
"""

import logging
import re
import uuid

from starlette.datastructures import Headers, QueryParams
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.gateway.auth import AuthenticationFailed
from apgraph.observability import tracing
from apgraph.observability.logs import current_trace_id
from apgraph.schema.errors import ErrorCode

log = logging.getLogger("apgraph.auth")

WEBSOCKET_UNAUTHORIZED = 4401  # graphql-transport-ws leaves 44xx to the server


_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-(?P<trace>[0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_id_of(headers: Headers) -> str:
    """The W3C traceparent's trace id when the caller sent a well-formed one (lower-case hex,
    not all zeros, version ff never valid), else a fresh one: a caller cannot put arbitrary
    text into our logs, events and audit rows through it."""
    found = _TRACEPARENT.match(headers.get("traceparent", ""))
    if found and not found.string.startswith("ff") and found["trace"].strip("0"):
        return found["trace"]
    return uuid.uuid4().hex


BEARER_SUBPROTOCOL = "apgraph.bearer."


def with_browser_bearer(scope: Scope) -> Scope:
    """A browser cannot set headers on a WebSocket: it may offer its token as a subprotocol
    entry `apgraph.bearer.<token>` beside `graphql-transport-ws` (as Kubernetes' API server
    takes one). The entry becomes the Authorization header and leaves the offered list, so
    only graphql-transport-ws is ever negotiated and every later check reads the header."""
    if scope["type"] != "websocket":
        return scope
    headers = list(scope.get("headers", []))
    offered = [
        entry.strip()
        for name, value in headers
        if name == b"sec-websocket-protocol"
        for entry in value.decode("latin-1").split(",")
    ]
    tokens = [
        entry[len(BEARER_SUBPROTOCOL) :]
        for entry in offered
        if entry.startswith(BEARER_SUBPROTOCOL)
    ]
    if not tokens or any(name == b"authorization" for name, _ in headers):
        return scope
    kept = ", ".join(entry for entry in offered if not entry.startswith(BEARER_SUBPROTOCOL))
    headers = [(n, v) for n, v in headers if n != b"sec-websocket-protocol"]
    headers.append((b"authorization", f"Bearer {tokens[0]}".encode("latin-1")))
    if kept:
        headers.append((b"sec-websocket-protocol", kept.encode("latin-1")))
    subprotocols = [
        entry for entry in scope.get("subprotocols", []) if not entry.startswith(BEARER_SUBPROTOCOL)
    ]
    return {**scope, "headers": headers, "subprotocols": subprotocols}


class RequireBearer:
    def __init__(self, app: ASGIApp, *, graphql_errors: bool, allow_ide: bool = False) -> None:
        self.app = app
        self.graphql_errors = graphql_errors
        self.allow_ide = allow_ide

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = with_browser_bearer(scope)
        headers = Headers(scope=scope)
        if self.allow_ide and _wants_ide(scope, headers):
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        state = scope.setdefault("state", {})
        # with tracing on, the request span's: one id for logs, audit rows, events, traces
        state["trace_id"] = tracing.current_trace_id() or trace_id_of(headers)
        current_trace_id.set(state["trace_id"])  # on every log line of this request
        try:
            state["principal"] = await runtime.authenticator.authenticate(headers)
        except AuthenticationFailed as failure:
            log.info("refused %s %s: %s", scope["type"], scope["path"], failure.description)
            await runtime.audit.record(
                [
                    AuditEvent(
                        subject="anonymous",
                        action="auth.failed",
                        outcome=AuditOutcome.DENIED,
                        trace_id=state["trace_id"],
                        detail=f"{scope['path']}: {failure.description}",
                    )
                ],
                at=runtime.clock.now(),
            )
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": WEBSOCKET_UNAUTHORIZED})
                return
            await self._refusal(failure)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _refusal(self, failure: AuthenticationFailed) -> JSONResponse:
        code = ErrorCode.UNAUTHENTICATED.value
        body: dict[str, object] = (
            {
                "data": None,
                "errors": [{"message": failure.description, "extensions": {"code": code}}],
            }
            if self.graphql_errors
            else {"code": code, "message": failure.description}
        )
        return JSONResponse(
            body, status_code=401, headers={"WWW-Authenticate": failure.www_authenticate}
        )


def _wants_ide(scope: Scope, headers: Headers) -> bool:
    return (
        scope["type"] == "http"
        and scope["method"] == "GET"
        and "text/html" in headers.get("accept", "")
        and "query" not in QueryParams(scope.get("query_string", b""))
    )
