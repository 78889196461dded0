"""GraphQL subscriptions over Server-Sent Events: the graphql-sse protocol, "distinct
connections" mode (github.com/enisdenjo/graphql-sse, PROTOCOL.md).

The client POSTs `{query, variables, operationName}` (or GETs them as query parameters) with
`Accept: text/event-stream`; each result is an `event: next` whose `data` is the execution
result, and the stream ends with `event: complete`. A refused subscription (FORBIDDEN, a bad
cursor) is one `next` carrying the errors, then `complete`. The stream ends when the token
expires or stops being accepted (client revoked), re-checked as a WebSocket's is, and when the
subscriber falls behind its queue (one last `next` with the code SLOW_SUBSCRIBER: resume from
the last cursor). strawberry serves graphql-transport-ws but not this protocol; the protocol is
small, so it is written here on strawberry's public `Schema.subscribe`.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from strawberry.types import ExecutionResult

from apgraph.gateway.errors import with_code
from apgraph.gateway.request_context import context_for
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.websocket_session import SocketSession
from apgraph.schema.errors import ErrorCode
from apgraph.store.outbox import OutboxRepository

log = logging.getLogger("apgraph.sse")

MEDIA_TYPE = "text/event-stream"
KEEPALIVE_SECONDS = 15.0  # an SSE comment line, so proxies do not cut an idle stream


def _event(name: str, data: object | None) -> bytes:
    body = "" if data is None else json.dumps(data, separators=(",", ":"))
    return f"event: {name}\ndata: {body}\n\n".encode()


def _result(result: ExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [with_code(dict(error.formatted)) for error in result.errors]
    return body


async def _request_body(request: Request) -> dict[str, Any] | None:
    if request.method == "GET":
        params = request.query_params
        variables = params.get("variables")
        try:
            return {
                "query": params.get("query"),
                "variables": json.loads(variables) if variables else None,
                "operationName": params.get("operationName"),
            }
        except ValueError:
            return None
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _refusal(message: str, status: int = 400) -> Response:
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": ErrorCode.BAD_USER_INPUT.value}}]},
        status_code=status,
    )


def sse_endpoint(schema_of: Any) -> Any:
    """The endpoint for one schema (the full one, or a product version's view)."""

    async def endpoint(request: Request) -> Response:
        if MEDIA_TYPE not in request.headers.get("accept", ""):
            return _refusal(f"ask for {MEDIA_TYPE}: this endpoint streams subscriptions", 406)
        body = await _request_body(request)
        query = body.get("query") if body else None
        variables = body.get("variables") if body else None
        if not isinstance(query, str) or not isinstance(variables, dict | None):
            return _refusal("send {query, variables?, operationName?} as JSON")
        runtime: Runtime = request.app.state.runtime
        schema = schema_of(request)
        session = SocketSession(
            principal=request.state.principal,
            headers=request.headers,
            authenticator=runtime.authenticator,
            periodic=runtime.rechecks,
            clock=runtime.clock,
        )
        context = context_for(
            runtime,
            session.principal,
            schema=schema,
            request=request,
            response=None,
            trace_id=getattr(request.state, "trace_id", ""),
        )
        overflowed = asyncio.Event()

        async def note_overflow() -> None:
            overflowed.set()

        context.live = runtime.live.feed(
            runtime.settings, OutboxRepository(runtime.engine), note_overflow
        )
        results = await schema.subscribe(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=body.get("operationName") if body else None,
        )
        stream = _stream(
            results, session, overflowed, recheck=runtime.settings.websocket_recheck_seconds
        )
        return StreamingResponse(
            stream,
            media_type=MEDIA_TYPE,
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return endpoint


async def _stream(
    results: Any, session: SocketSession, overflowed: asyncio.Event, *, recheck: float
) -> AsyncIterator[bytes]:
    if isinstance(results, ExecutionResult):  # refused before the first event
        yield _event("next", _result(results))
        yield _event("complete", None)
        return
    ended = asyncio.ensure_future(_watch(session, recheck))
    try:
        while True:
            following = asyncio.ensure_future(anext(results))
            waited = asyncio.ensure_future(asyncio.sleep(KEEPALIVE_SECONDS))
            done, _ = await asyncio.wait(
                {following, ended, waited}, return_when=asyncio.FIRST_COMPLETED
            )
            waited.cancel()
            if following not in done:
                following.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await following
                if ended in done:
                    yield _event("next", _ended(session))
                    break
                yield b": keep-alive\n\n"
                continue
            try:
                result = following.result()
            except StopAsyncIteration:
                if overflowed.is_set():
                    yield _event("next", _slow())
                break
            yield _event("next", _result(result))
        yield _event("complete", None)
    finally:
        ended.cancel()
        await results.aclose()


async def _watch(session: SocketSession, recheck: float) -> None:
    """Returns when the caller's token has expired or is no longer accepted."""
    while True:
        left = session.seconds_left()
        await asyncio.sleep(recheck if left is None else min(left, recheck))
        if await session.recheck(periodic=True) is not None:
            return


def _ended(session: SocketSession) -> dict[str, Any]:
    code = ErrorCode.UNAUTHENTICATED.value
    error = GraphQLError(f"subscription ended: {session.refusal}", extensions={"code": code})
    return {"data": None, "errors": [error.formatted]}


def _slow() -> dict[str, Any]:
    message = "too slow: the server's queue for this subscription is full; resume from your cursor"
    error = GraphQLError(message, extensions={"code": ErrorCode.SLOW_SUBSCRIBER.value})
    return {"data": None, "errors": [error.formatted]}
