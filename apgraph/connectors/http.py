"""One HTTP exchange of any connector: where httpx's errors and unwanted statuses become
ConnectorErrors (most specific first), so no adapter ever sees an httpx exception."""

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from apgraph.connectors.resilience import OutcomeUnknown, RateLimited
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import (
    ConnectorMappingError,
    ConnectorRejected,
    ConnectorUnavailable,
)

_SHOWN_BODY = 200  # characters of an error body kept for the operator

R = TypeVar("R")


async def send(system: ExternalSystem, request: Callable[[], Awaitable[R]]) -> R:
    """What `request` returns (a response, whatever its status); a transport failure as a
    ConnectorError.

    Refused connections and connect timeouts never reached the system: plainly unavailable.
    Anything after the request left (read timeout, dropped connection) may have been
    processed: OutcomeUnknown.
    """
    try:
        return await request()
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
        raise ConnectorUnavailable(system, f"cannot connect: {_describe(error)}") from None
    except httpx.TimeoutException as error:
        raise OutcomeUnknown(system, f"timed out waiting: {_describe(error)}") from None
    except httpx.TransportError as error:
        raise OutcomeUnknown(system, f"connection failed: {_describe(error)}") from None


def check_status(system: ExternalSystem, response: httpx.Response) -> httpx.Response:
    """The response when it is a success; else 429, 5xx or 4xx as the matching error."""
    status = response.status_code
    if status < 400:
        return response
    summary = f"HTTP {status} from {response.request.method} {response.request.url.path}"
    if status == httpx.codes.TOO_MANY_REQUESTS:
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        raise RateLimited(system, f"{summary} (rate limited)", retry_after=retry_after)
    detail = response.text[:_SHOWN_BODY].strip()
    if status >= 500:
        raise OutcomeUnknown(system, f"{summary}: {detail}")
    raise ConnectorRejected(system, f"{summary}: {detail}")


async def exchange(
    system: ExternalSystem, request: Callable[[], Awaitable[httpx.Response]]
) -> httpx.Response:
    """`send`, then `check_status`: the usual path of a REST call."""
    return check_status(system, await send(system, request))


def retry_after_seconds(header: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent
    or unreadable, so the usual back-off applies."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def _describe(error: httpx.HTTPError) -> str:
    return str(error) or type(error).__name__


def json_body(system: ExternalSystem, response: httpx.Response) -> Any:
    """The decoded JSON body, numbers as Decimal (never float); unreadable → a mapping error."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as error:
        raise ConnectorMappingError(system, "(body)", f"not JSON: {error}") from None
