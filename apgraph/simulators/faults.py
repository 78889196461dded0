"""Faults a simulator can be told to inject at runtime, and the ASGI layer that injects them.

Every simulator is wrapped in `FaultInjection`. A fault hits the requests of one operation
(`"POST /api/v2/invoices"`, or a SOAP action such as `"PostVendorInvoice"`; None: any), a set
number of `times` (None: until cleared). Requests to `/_control/...` are never faulted.

| kind | what the caller sees | was the request processed? |
|---|---|---|
| latency | the normal answer, `seconds` late | yes |
| error | HTTP `status` (503 unless told) | no |
| timeout | nothing for `seconds`, then 504 | no |
| rate_limit | 429 with `Retry-After: retry_after` | no |
| malformed | the answer without `field` (a JSON key or XML element), or cut in half | yes |
| lost_response | nothing for `seconds`, then 504: posted, but the answer never arrives | yes |
| hold | the normal answer, once released (`POST /_control/release`) or after `seconds` | yes |

`hold` lets a test or an operator act while a call is provably in flight: `held` counts the
requests waiting, so nobody has to guess how long a latency window lasts.
"""

import asyncio
import json
import threading
from collections import Counter
from collections.abc import MutableMapping
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any
from xml.etree import ElementTree

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_control"


class FaultKind(Enum):
    LATENCY = "latency"
    ERROR = "error"
    TIMEOUT = "timeout"
    RATE_LIMIT = "rate_limit"
    MALFORMED = "malformed"
    LOST_RESPONSE = "lost_response"
    HOLD = "hold"


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    operation: str | None = None
    times: int | None = 1  # None: until cleared
    seconds: float = 5.0
    status: int = 503
    retry_after: int = 1
    field: str | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "Fault":
        """A fault from the control API's JSON; unknown keys or kinds raise ValueError."""
        unknown = set(body) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        return cls(**{**body, "kind": FaultKind(body.get("kind"))})

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}


@dataclass(slots=True)
class FaultPlan:
    """The faults waiting to happen, and every request seen, per operation."""

    faults: list[Fault] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    held: int = 0  # requests waiting behind a `hold` fault right now
    _lock: threading.Lock = field(default_factory=threading.Lock)  # tests add from their thread
    _released: threading.Event = field(default_factory=threading.Event)

    def add(self, fault: Fault) -> None:
        with self._lock:
            if fault.kind is FaultKind.HOLD:
                self._released.clear()
            self.faults.append(fault)

    def clear(self) -> None:
        with self._lock:
            self.faults.clear()
            self.calls.clear()
        self.release()

    def release(self) -> None:
        """Lets every held request go on (and any held later, until a new hold is added)."""
        self._released.set()

    async def hold(self, seconds: float) -> None:
        """Waits until released, at most `seconds`; counted in `held` meanwhile."""
        with self._lock:
            self.held += 1
        try:
            # a thread's wait: the plan is shared with tests on other threads and event loops
            await asyncio.to_thread(self._released.wait, seconds)
        finally:
            with self._lock:
                self.held -= 1

    def take(self, operation: str) -> Fault | None:
        """Counts the request and returns the first fault that hits it, using one of its times."""
        with self._lock:
            self.calls[operation] += 1
            for fault in self.faults:
                if fault.operation not in (None, operation):
                    continue
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                return fault
        return None


def route_path(scope: Scope) -> str:
    """The path below the simulator's mount point."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def operation_of(scope: Scope) -> str:
    """A SOAP request's action, else "METHOD /path" below the mount point."""
    for name, value in scope.get("headers", []):
        if name == b"soapaction":
            return value.decode("latin-1").strip('"').rsplit("/", 1)[-1]
    return f"{scope['method']} {route_path(scope)}"


class FaultInjection:
    """ASGI middleware: applies the plan's faults to a simulator's requests."""

    def __init__(self, app: ASGIApp, plan: FaultPlan) -> None:
        self.app = app
        self.plan = plan

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or route_path(scope).startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self.plan.take(operation_of(scope))
        if fault is None:
            await self.app(scope, receive, send)
            return
        kind = fault.kind
        if kind is FaultKind.LATENCY:
            await asyncio.sleep(fault.seconds)
            await self.app(scope, receive, send)
        elif kind is FaultKind.ERROR:
            await _reply(send, fault.status, b"simulated failure")
        elif kind is FaultKind.TIMEOUT:
            await asyncio.sleep(fault.seconds)
            await _reply(send, 504, b"simulated timeout")
        elif kind is FaultKind.RATE_LIMIT:
            headers = [(b"retry-after", str(fault.retry_after).encode())]
            await _reply(send, 429, b"slow down", headers)
        elif kind is FaultKind.HOLD:
            await self.plan.hold(fault.seconds)
            await self.app(scope, receive, send)
        elif kind is FaultKind.MALFORMED:
            status, headers, body = await _captured(self.app, scope, receive)
            await _reply(send, status, _malformed(body, headers, fault.field), headers)
        else:  # LOST_RESPONSE: processed; the answer never makes it back in time
            await _captured(self.app, scope, receive)
            await asyncio.sleep(fault.seconds)
            await _reply(send, 504, b"simulated lost response")


def control_routes(plan: FaultPlan) -> list[Route]:
    """`/_control/faults` (GET, POST one fault as JSON, DELETE all), `/_control/calls`,
    `/_control/held` (how many requests a `hold` fault keeps waiting) and `/_control/release`."""

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            try:
                plan.add(Fault.from_json(await request.json()))
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": str(error)}, status_code=400)
        elif request.method == "DELETE":
            plan.clear()
        return JSONResponse([fault.as_json() for fault in plan.faults])

    async def calls(_: Request) -> Response:
        return JSONResponse(dict(plan.calls))

    async def held(_: Request) -> Response:
        return JSONResponse({"held": plan.held})

    async def release(_: Request) -> Response:
        plan.release()
        return JSONResponse({"released": True})

    return [
        Route(f"{CONTROL_PREFIX}/faults", faults, methods=["GET", "POST", "DELETE"]),
        Route(f"{CONTROL_PREFIX}/calls", calls),
        Route(f"{CONTROL_PREFIX}/held", held),
        Route(f"{CONTROL_PREFIX}/release", release, methods=["POST"]),
    ]


Headers = list[tuple[bytes, bytes]]


async def _reply(send: Send, status: int, body: bytes, headers: Headers | None = None) -> None:
    kept = [(k, v) for k, v in headers or [] if k.lower() != b"content-length"]
    kept.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": kept})
    await send({"type": "http.response.body", "body": body})


async def _captured(app: ASGIApp, scope: Scope, receive: Receive) -> tuple[int, Headers, bytes]:
    start: MutableMapping[str, Any] = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start.get("status", 500), list(start.get("headers", [])), b"".join(chunks)


def _malformed(body: bytes, headers: Headers, name: str | None) -> bytes:
    if name is None:
        return body[: len(body) // 2]
    content_type = dict(headers).get(b"content-type", b"").decode()
    if "json" in content_type:
        document = json.loads(body)
        _drop_key(document, name)
        return json.dumps(document).encode()
    root = ElementTree.fromstring(body)
    for parent in root.iter():
        for child in list(parent):
            if child.tag.rsplit("}", 1)[-1] == name:
                parent.remove(child)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _drop_key(document: Any, name: str) -> None:
    """Removes `name` wherever it occurs in a JSON document."""
    if isinstance(document, dict):
        document.pop(name, None)
        for value in document.values():
            _drop_key(value, name)
    elif isinstance(document, list):
        for value in document:
            _drop_key(value, name)
