"""Requests refused before any GraphQL runs, answered as GraphQL errors with a stable code.

strawberry refuses malformed JSON, an unsupported content type, a mutation over GET and a
batch with a plain-text body; clients get the same JSON shape as for every other error,
`{"data": null, "errors": [{"message", "extensions": {"code"}}]}`. JSON nested deeper than
any GraphQL request needs is refused while decoding, before anything recurses over it.
"""

import json
from collections.abc import Iterator
from enum import Enum
from typing import Any

from cross_web import HTTPException  # strawberry's refusals; a declared dependency (pyproject)
from starlette.responses import JSONResponse
from strawberry.schema.exceptions import InvalidOperationTypeError

MAX_JSON_DEPTH = 64  # objects and arrays inside one another; real variables use a handful


class TransportCode(Enum):
    MALFORMED_JSON = "MALFORMED_JSON"
    JSON_TOO_DEEP = "JSON_TOO_DEEP"
    UNSUPPORTED_CONTENT_TYPE = "UNSUPPORTED_CONTENT_TYPE"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    BATCHING_NOT_SUPPORTED = "BATCHING_NOT_SUPPORTED"
    NOT_FOUND = "NOT_FOUND"
    BAD_REQUEST = "BAD_REQUEST"


class JsonTooDeep(json.JSONDecodeError):
    """A JSONDecodeError, so every path that refuses malformed JSON refuses this too (the
    WebSocket handler closes with 4400); the HTTP answer names it apart."""

    def __init__(self) -> None:
        super().__init__(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels", "", 0)


def decode_bounded(document: str | bytes) -> Any:
    """json.loads, refusing nesting past MAX_JSON_DEPTH: Python's decoder itself gives up
    only at the interpreter's recursion limit, with a RecursionError (an HTTP 500)."""
    try:
        value = json.loads(document)
    except RecursionError:
        raise JsonTooDeep() from None
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise JsonTooDeep()
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Iterative, so checking a deep document cannot itself overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children: Iterator[Any]
        if isinstance(item, dict):
            children = iter(item.values())
        elif isinstance(item, list):
            children = iter(item)
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


# strawberry's reasons that carry no exception of their own to recognise them by
_BY_REASON = {
    "Unsupported content type": (415, TransportCode.UNSUPPORTED_CONTENT_TYPE),
    "Batching is not enabled": (400, TransportCode.BATCHING_NOT_SUPPORTED),
}


def classify(refusal: HTTPException) -> tuple[int, TransportCode, str]:
    """(status, code, message) of one of strawberry's refusals."""
    cause = refusal.__cause__
    if isinstance(cause, JsonTooDeep):
        return 400, TransportCode.JSON_TOO_DEEP, cause.msg
    if isinstance(cause, json.JSONDecodeError):
        return 400, TransportCode.MALFORMED_JSON, refusal.reason
    if isinstance(cause, InvalidOperationTypeError) or refusal.status_code == 405:
        return 405, TransportCode.METHOD_NOT_ALLOWED, refusal.reason
    if refusal.reason in _BY_REASON:
        status, code = _BY_REASON[refusal.reason]
        return status, code, refusal.reason
    if refusal.status_code == 404:
        return 404, TransportCode.NOT_FOUND, refusal.reason
    return refusal.status_code, TransportCode.BAD_REQUEST, refusal.reason


def refusal_response(refusal: HTTPException) -> JSONResponse:
    status, code, message = classify(refusal)
    headers = {"Allow": "POST"} if code is TransportCode.METHOD_NOT_ALLOWED else None
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code.value}}]}
    return JSONResponse(body, status_code=status, headers=headers)
