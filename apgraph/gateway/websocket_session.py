"""A WebSocket connection lives only as long as the credentials it was opened with.

HTTP checks the bearer token on every request; a socket is opened once and may run for hours.
`SocketSessions` wraps the GraphQL app's WebSocket side and gives each connection a
`SocketSession`: its caller, re-authenticated (signature, expiry, client still registered,
its scopes now) before every `subscribe` message, the one message that starts an operation,
and again every `recheck_seconds` and at the token's `exp`. The moment the token has expired
the server closes the socket with 4401, and with 4403 when the caller is no longer allowed
(client revoked, signing key withdrawn): graphql-transport-ws's own close codes. An operation
asked for after that moment never reaches the schema.

The session sits in the ASGI scope's state (`session_of(websocket)`), so every operation, and
every event of a subscription, can ask it who the caller is now and whether it has ended.

The periodic re-checks of all sockets go through one `Rechecks`: sockets opened with the same
token (a portal's tabs, a dashboard wall, a partner's pool) share one verification per half
interval instead of each verifying the signature and asking the store on its own, so a
revoked client's sockets all end within 1.5 × `recheck_seconds`.
"""

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.principal import Principal
from apgraph.gateway.auth import AuthenticationFailed, Authenticator
from apgraph.services.ports.clock import Clock

log = logging.getLogger("apgraph.websocket")

EXPIRED = 4401  # graphql-transport-ws: Unauthorized
FORBIDDEN = 4403  # graphql-transport-ws: Forbidden
UNAVAILABLE = 1011  # the check itself failed (database down): fail closed
REASONS = {
    EXPIRED: "Unauthorized: the token has expired",
    FORBIDDEN: "Forbidden: the token is no longer accepted",
    UNAVAILABLE: "the credentials could not be re-checked",
}
STATE_KEY = "socket_session"


class Authenticates(Protocol):
    async def authenticate(self, headers: Headers) -> Principal: ...


class Rechecks:
    """`Authenticator.authenticate` for re-checks, shared by the sockets holding the same
    token: an answer (a principal, or the refusal) is reused for `fresh_for` seconds, and
    sockets asking at the same moment wait for one verification."""

    def __init__(self, authenticator: Authenticator, *, fresh_for: float) -> None:
        if fresh_for < 0:
            raise ValueError(f"fresh_for must not be negative, got {fresh_for}")
        self.authenticator = authenticator
        self.fresh_for = fresh_for
        self._answers: dict[str, tuple[float, asyncio.Future[Principal]]] = {}
        self.verified = 0  # verifications made (the rest were shared), for tests and benches

    async def authenticate(self, headers: Headers) -> Principal:
        token = headers.get("authorization") or ""
        now = time.monotonic()
        held = self._answers.get(token)
        if held is None or now - held[0] >= self.fresh_for:
            if len(self._answers) > 1024:  # forget answers gone stale
                self._answers = {
                    t: a for t, a in self._answers.items() if now - a[0] < self.fresh_for
                }
            held = (now, asyncio.ensure_future(self._verify(headers)))
            self._answers[token] = held
        return await asyncio.shield(held[1])

    async def _verify(self, headers: Headers) -> Principal:
        self.verified += 1
        return await self.authenticator.authenticate(headers)


@dataclass
class SocketSession:
    """One connection's caller, kept current; `ended` is set once the server has closed it."""

    principal: Principal
    headers: Headers  # the handshake's: the bearer token is re-verified from here
    authenticator: Authenticates  # before an operation: a verification of its own
    periodic: Authenticates  # the re-checks in between: shared by sockets of one token
    clock: Clock
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    refusal: str = ""

    def expired(self) -> bool:
        expires_at = self.principal.expires_at
        return expires_at is not None and self.clock.now() >= expires_at

    def seconds_left(self) -> float | None:
        expires_at = self.principal.expires_at
        if expires_at is None:
            return None
        return max((expires_at - self.clock.now()).total_seconds(), 0.0)

    async def recheck(self, *, periodic: bool = False) -> int | None:
        """None while the caller may go on (with `principal` refreshed), else the close code.

        Expiry is judged at `exp` itself, without the leeway HTTP allows for clock skew:
        the server's own clock decides when its own socket ends."""
        if self.ended.is_set():
            return self.close_code
        if self.expired():
            self.refusal = "the token has expired"
            return EXPIRED
        try:
            checker = self.periodic if periodic else self.authenticator
            self.principal = await checker.authenticate(self.headers)
        except AuthenticationFailed as failure:
            self.refusal = failure.description
            return EXPIRED if self.expired() else FORBIDDEN
        except Exception:
            log.exception("could not re-check a WebSocket caller; closing the socket")
            self.refusal = "the credentials could not be re-checked"
            return UNAVAILABLE
        return None


async def _record_end(runtime: Any, session: SocketSession, *, trace_id: str) -> None:
    """The audit trail says why a socket was cut; the socket is closed even if it cannot."""
    event = AuditEvent(
        subject=session.principal.subject,
        action="websocket.closed",
        outcome=AuditOutcome.DENIED,
        client_id=session.principal.client_id,
        trace_id=trace_id,
        detail=f"{session.close_code}: {session.refusal}",
    )
    try:
        await runtime.audit.record([event], at=runtime.clock.now())
    except Exception:
        log.exception("could not record the end of a WebSocket session")


def session_of(connection: Any) -> SocketSession | None:
    """The session of a Starlette WebSocket (None for an HTTP request)."""
    state = connection.scope.get("state") or {}
    session = state.get(STATE_KEY)
    return session if isinstance(session, SocketSession) else None


def _starts_an_operation(message: Message) -> bool:
    if message["type"] != "websocket.receive" or not message.get("text"):
        return False
    try:
        decoded = json.loads(message["text"])
    except ValueError:
        return False  # the protocol handler answers malformed frames itself
    return isinstance(decoded, dict) and decoded.get("type") == "subscribe"


class SocketSessions:
    """ASGI wrapper for the WebSocket side of /graphql, behind RequireBearer."""

    def __init__(self, app: ASGIApp, *, recheck_seconds: float) -> None:
        if recheck_seconds <= 0:
            raise ValueError(f"recheck_seconds must be positive, got {recheck_seconds}")
        self.app = app
        self.recheck_seconds = recheck_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        runtime = scope["app"].state.runtime
        state = scope["state"]
        session = SocketSession(
            principal=state["principal"],
            headers=Headers(scope=scope),
            authenticator=runtime.authenticator,
            periodic=runtime.rechecks,
            clock=runtime.clock,
        )
        state[STATE_KEY] = session
        sending = asyncio.Lock()  # the watchdog and the protocol handler both send
        incoming: asyncio.Future[Message] | None = None

        async def end(code: int) -> None:
            async with sending:
                if session.ended.is_set():
                    return
                session.close_code = code
                session.ended.set()
                await send({"type": "websocket.close", "code": code, "reason": REASONS[code]})
            log.info("closed a WebSocket of %s: %s", session.principal.subject, session.refusal)
            await _record_end(runtime, session, trace_id=state.get("trace_id", ""))

        async def gated_receive() -> Message:
            """The client's next message, or a disconnect once the session has ended; an
            operation asked for by a caller no longer allowed ends the session instead."""
            nonlocal incoming
            while not session.ended.is_set():
                incoming = incoming or asyncio.ensure_future(receive())
                ending = asyncio.ensure_future(session.ended.wait())
                either: set[asyncio.Future[Any]] = {incoming, ending}
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
                ending.cancel()
                if not incoming.done():
                    break
                message, incoming = incoming.result(), None
                if _starts_an_operation(message):
                    code = await session.recheck()
                    if code is not None:
                        await end(code)
                        break
                return message
            return {"type": "websocket.disconnect", "code": session.close_code}

        async def guarded_send(message: Message) -> None:
            async with sending:
                if session.ended.is_set():
                    return  # closed by us: results and the handler's own close are dropped
                await send(message)

        async def watch() -> None:
            """Ends the session at the token's `exp`, or when a periodic re-check fails."""
            while not session.ended.is_set():
                left = session.seconds_left()
                wait = self.recheck_seconds if left is None else min(left, self.recheck_seconds)
                await asyncio.sleep(wait)
                code = await session.recheck(periodic=True)
                if code is not None:
                    await end(code)

        watchdog = asyncio.create_task(watch())
        try:
            await self.app(scope, gated_receive, guarded_send)
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            if incoming is not None:
                incoming.cancel()
