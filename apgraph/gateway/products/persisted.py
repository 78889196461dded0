"""Persisted operations on the wire, before GraphQL sees the request.

Accepted: `extensions.persistedQuery: {version: 1, sha256Hash}` (Apollo's APQ) and
`documentId` (GraphQL-over-HTTP trusted documents; also accepted inside `extensions`). The
operation's text is looked up and handed on as if the client had sent it.

- A product that *requires* persisted operations runs only operations on its list: an
  unknown id is PERSISTED_QUERY_NOT_IN_LIST, a free-text query not on the list
  OPERATION_NOT_IN_ALLOW_LIST.
- A product with *APQ* lets a client register its operation: an unknown hash alone is
  PERSISTED_QUERY_NOT_FOUND (the client then sends the text with the hash), and a text sent
  with a hash that does not match it is PERSISTED_QUERY_HASH_MISMATCH.
- Anything else about `extensions` or `documentId` that is not as above: MALFORMED_EXTENSIONS.

All are refused before parsing, so no resolver runs and no SQL is sent.

APQ registrations live in this process (bounded, least recently used dropped) or, with
APGRAPH_REDIS_URL, in Redis, so that a client which registered an operation on one instance
runs it by hash on every other instance behind the same load balancer.
"""

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

import coredis
from coredis.exceptions import RedisError
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apgraph.gateway.products.operation_lists import SHA256, OperationList, sha256_of
from apgraph.gateway.products.refusals import refusal
from apgraph.gateway.recent import Recent
from apgraph.policies.products import PersistedOperations

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"
NOT_ALLOWED = "OPERATION_NOT_IN_ALLOW_LIST"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
MALFORMED = "MALFORMED_EXTENSIONS"
REGISTERED_KEPT = 1000  # APQ registrations kept per process, least recently used dropped
REGISTERED_SECONDS = 24 * 3600  # in Redis: a registration not used for a day is dropped

log = logging.getLogger("apgraph.products")


class Refused(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class Registrations(Protocol):
    """Where APQ registrations are kept. A miss only costs the client one more round trip
    (it sends the text with the hash), so losing one is safe; answering a wrong text is not,
    which the hash check on registration rules out."""

    async def get(self, sha256: str) -> str | None: ...

    async def add(self, sha256: str, document: str) -> None: ...


class Registered:
    """APQ registrations of this process, bounded: a client re-registers after a miss."""

    def __init__(self, kept: int = REGISTERED_KEPT) -> None:
        self.documents: Recent[str, str] = Recent(kept)

    async def get(self, sha256: str) -> str | None:
        return self.documents.get(sha256)

    async def add(self, sha256: str, document: str) -> None:
        self.documents.put(sha256, document)


class SharedRegistrations:
    """APQ registrations in Redis, one key per product version and hash, kept a day after
    their last use. Redis unreachable: a lookup is a miss (the client sends the text again)
    and a registration is skipped, both logged; the request itself still runs."""

    def __init__(self, client: "coredis.Redis[str]", key_prefix: str) -> None:
        self.client = client
        self.key_prefix = key_prefix

    async def get(self, sha256: str) -> str | None:
        try:
            return await self.client.getex(self._key(sha256), ex=REGISTERED_SECONDS)
        except RedisError as error:
            log.warning("APQ lookup in Redis failed, answered as a miss: %s", error)
            return None

    async def add(self, sha256: str, document: str) -> None:
        try:
            await self.client.set(self._key(sha256), document, ex=REGISTERED_SECONDS)
        except RedisError as error:
            log.warning("APQ registration in Redis failed, not kept: %s", error)

    def _key(self, sha256: str) -> str:
        return f"{self.key_prefix}:{sha256}"


def registrations_for(redis_url: str | None) -> Callable[[str], Registrations]:
    """Where each product version keeps its registrations (called with its key prefix): in
    Redis when the deployment has one (every instance sees every registration), through one
    client for the whole process; else in the process."""
    if redis_url is None:
        return lambda _key_prefix: Registered()
    client: coredis.Redis[str] = coredis.Redis.from_url(redis_url, decode_responses=True)
    return lambda key_prefix: SharedRegistrations(client, key_prefix)


async def resolve(
    request: Mapping[str, Any],
    *,
    policy: PersistedOperations,
    allowed: OperationList,
    registered: Registrations,
) -> str | None:
    """The text to run for this request (None: leave the request as sent)."""
    extensions = request.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise Refused(MALFORMED, "`extensions` must be an object")
    extensions = extensions or {}
    query = request.get("query")
    document_id = request.get("documentId", extensions.get("documentId"))
    persisted = extensions.get("persistedQuery")
    if persisted is not None:
        document_id = _apq_hash(persisted)
    if document_id is not None and (not isinstance(document_id, str) or not document_id):
        raise Refused(MALFORMED, "`documentId` must be a non-empty string")
    if query is not None and not isinstance(query, str):
        return None  # the GraphQL layer words that refusal
    if document_id is None:
        if policy.required and (query is None or not allowed.allows(query)):
            raise Refused(
                NOT_ALLOWED,
                "this product runs only registered operations: send a documentId from its list",
                403,
            )
        return None
    if query is not None:
        return await _registering(
            document_id, query, policy=policy, allowed=allowed, registered=registered
        )
    found = allowed.get(document_id) or (await registered.get(document_id) if policy.apq else None)
    if found is not None:
        return found
    if policy.apq:
        # the message is the one Apollo's clients look for before sending the text
        raise Refused(NOT_FOUND, "PersistedQueryNotFound", 200)
    raise Refused(NOT_IN_LIST, f"no operation {document_id} on this product's list")


def _apq_hash(persisted: object) -> str:
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(persisted.get("sha256Hash"), str)
        or not SHA256.match(persisted["sha256Hash"])
    ):
        raise Refused(
            MALFORMED,
            "`extensions.persistedQuery` must be {version: 1, sha256Hash: <64 lowercase hex>}",
        )
    return str(persisted["sha256Hash"])


async def _registering(
    document_id: str,
    query: str,
    *,
    policy: PersistedOperations,
    allowed: OperationList,
    registered: Registrations,
) -> str:
    """Text and id together: the text must be the id's, and on the list unless APQ."""
    listed = allowed.get(document_id)
    if listed is not None:
        if listed != query:
            raise Refused(HASH_MISMATCH, f"the query is not the text of {document_id}")
        return listed
    if SHA256.match(document_id) and sha256_of(query) != document_id:
        raise Refused(HASH_MISMATCH, "sha256Hash is not the SHA-256 of the query")
    if not policy.apq:
        raise Refused(NOT_IN_LIST, f"no operation {document_id} on this product's list")
    await registered.add(document_id, query)
    return query


class PersistedQueries:
    """ASGI: swaps a persisted operation's id for its text, or refuses (module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        policy: PersistedOperations,
        allowed: OperationList,
        registered: Registrations | None = None,
    ) -> None:
        self.app = app
        self.policy = policy
        self.allowed = allowed
        self.registered = registered if registered is not None else Registered()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] == "GET":
            await self._get(scope, receive, send)
            return
        content_type = headers.get("content-type", "")
        if "application/json" not in content_type:
            if self.policy.required and scope["method"] == "POST":
                await self._refuse(
                    Refused(NOT_ALLOWED, "send a documentId as JSON", 403), scope, receive, send
                )
                return
            await self.app(scope, receive, send)  # the GraphQL layer refuses other bodies
            return
        body = await _read_body(receive)
        try:
            request = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            await self.app(scope, _replay(body, receive), send)  # worded by the GraphQL layer
            return
        if not isinstance(request, dict):
            await self.app(scope, _replay(body, receive), send)  # a batch: refused there
            return
        try:
            text = await resolve(
                request, policy=self.policy, allowed=self.allowed, registered=self.registered
            )
        except Refused as refused:
            await self._refuse(refused, scope, receive, send)
            return
        if text is not None:
            body = json.dumps({**_without_ids(request), "query": text}).encode()
            scope = {**scope, "headers": _with_length(scope["headers"], len(body))}
        await self.app(scope, _replay(body, receive), send)

    async def _get(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        request: dict[str, Any] = dict(params)
        if "extensions" in params:
            try:
                request["extensions"] = json.loads(params["extensions"])
            except json.JSONDecodeError:
                await self._refuse(
                    Refused(MALFORMED, "`extensions` is not JSON"), scope, receive, send
                )
                return
        if not params:
            await self.app(scope, receive, send)  # the IDE page, or a GET asking nothing
            return
        try:
            text = await resolve(
                request, policy=self.policy, allowed=self.allowed, registered=self.registered
            )
        except Refused as refused:
            await self._refuse(refused, scope, receive, send)
            return
        if text is not None:
            query = {**_without_ids(params), "query": text}
            scope = {**scope, "query_string": urlencode(query).encode()}
        await self.app(scope, receive, send)

    async def _refuse(self, refused: Refused, scope: Scope, receive: Receive, send: Send) -> None:
        await refusal(refused.status, refused.code, str(refused))(scope, receive, send)


def _without_ids(request: Mapping[str, Any]) -> dict[str, Any]:
    """The request less what named the persisted operation, once its text is in `query`."""
    kept = {k: v for k, v in request.items() if k not in ("documentId", "extensions")}
    extensions = request.get("extensions")
    if isinstance(extensions, dict):
        rest = {k: v for k, v in extensions.items() if k not in ("persistedQuery", "documentId")}
        if rest:
            kept["extensions"] = rest
    return kept


async def _read_body(receive: Receive) -> bytes:
    """The whole body: BodyLimit, outside this wrapper, has already bounded its size."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Receive:
    """The body again, as one message; after it, whatever the client sends (a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    kept = [(name, value) for name, value in headers if name.lower() != b"content-length"]
    return [*kept, (b"content-length", str(length).encode())]
