"""Prometheus metrics: counted per GraphQL operation, served at /metrics to operators.

`/metrics` needs a bearer token with the `admin` scope (Prometheus sends one with
`authorization: {credentials_file: …}`), so the figures never leak to a supplier. It answers
in the Prometheus text format: this process's (or, with PROMETHEUS_MULTIPROC_DIR set, every
worker's) request metrics, each connector's counters, and the business figures read from the
database at the scrape (apgraph/observability/metrics.py names them all).
"""

import os
import re
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from strawberry.extensions import SchemaExtension

from apgraph.observability import metrics
from apgraph.observability.metrics import Metric
from apgraph.store.database import StatementCount, counting_statements
from apgraph.store.figures import SqlFigures

METRICS_SCOPE = "admin"
NEEDS_SCOPE = f"/metrics needs the {METRICS_SCOPE} scope"
_PRODUCT_PATH = re.compile(r"^/products/(?P<product>[^/]+)/(?P<version>[^/]+)/graphql$")
_NAMES = metrics.OperationNames()


def product_of(path: str) -> tuple[str, str]:
    """(product, version) of the endpoint called; `/graphql` is the operators' internal one."""
    found = _PRODUCT_PATH.match(path)
    return (found["product"], found["version"]) if found else ("internal", "-")


class RequestMetrics(SchemaExtension):
    """Counts and times every operation, with its outcome and the error codes it answered."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        if _streams(self.execution_context.context):
            # a subscription's stream is consumed in other contexts than the one that began it:
            # a statement count (a context variable) cannot span it, so none is kept
            statements = StatementCount()
            yield
        else:
            with counting_statements() as statements:
                yield
        context = self.execution_context
        request = getattr(context.context, "request", None)
        path = request.url.path if request is not None and hasattr(request, "url") else "/graphql"
        product, version = product_of(path)
        operation = _NAMES.label(context.operation_name)
        # a subscription's result is its event stream (no `errors`), a query's an ExecutionResult
        errors = list(getattr(context.result, "errors", None) or [])
        errors += list(context.pre_execution_errors or [])
        outcome = "error" if errors else "success"
        metrics.REQUESTS.labels(product, version, operation, outcome).inc()
        metrics.REQUEST_SECONDS.labels(product, version, operation).observe(
            time.perf_counter() - started
        )
        metrics.SQL_STATEMENTS.labels(product, version, operation).observe(statements.statements)
        for error in errors:
            code = (error.extensions or {}).get("code", "INTERNAL_SERVER_ERROR")
            metrics.ERRORS.labels(product, version, str(code)).inc()


def _streams(context: Any) -> bool:
    """Is this operation served as a stream (a WebSocket, or graphql-sse at /…/stream)?"""
    request = getattr(context, "request", None)
    if request is None:
        return False
    if request.scope.get("type") == "websocket":
        return True
    return str(request.url.path).endswith("/stream")


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        yield from self.families


async def metrics_endpoint(request: Request) -> Response:
    """Behind RequireBearer: the admin scope is checked here."""
    if METRICS_SCOPE not in request.state.principal.scopes:
        return JSONResponse(
            {"errors": [{"message": NEEDS_SCOPE, "extensions": {"code": "FORBIDDEN"}}]},
            status_code=403,
        )
    runtime: Any = request.app.state.runtime
    figures = await SqlFigures(runtime.engine).figures(now=runtime.clock.now())
    stats = [probe.stats() for probe in runtime.connectors.probes]
    hub = runtime.live.hub if getattr(runtime, "live", None) is not None else None
    snapshot = [
        *metrics.business_families(figures),
        *metrics.connector_families(stats),
        metrics.subscriptions_family(hub.listeners if hub is not None else 0),
    ]
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # every worker's request metrics, summed
    else:
        for collector in (
            metrics.REQUESTS,
            metrics.REQUEST_SECONDS,
            metrics.ERRORS,
            metrics.SQL_STATEMENTS,
        ):
            registry.register(collector)
    registry.register(_Snapshot(snapshot))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
