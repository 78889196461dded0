"""OpenTelemetry traces: one trace per request, through services, SQL and connector calls.

`tracer_provider` decides what a process records. Tracing off: no provider, nothing is
instrumented. On with an exporter (OTEL_EXPORTER_OTLP_ENDPOINT set): spans go out over
OTLP/HTTP in batches, configured by the standard OTEL_* variables (sampler, headers, service
name). On without one: a provider that samples nothing, so each request still gets a trace
id (logs, audit rows, events and the simulators' requests share it) for the price of an id,
and no span is recorded.

The instrumentations are applied to what the composition root builds (`instrument_app`,
`instrument_engine`, `traced_transport`), with the provider passed explicitly, so tests can
hand in one with an in-memory exporter. apgraph's own spans (the GraphQL operation, the
services) use the global API: `install` makes a recording provider the global one.
"""

import logging
from collections.abc import Callable
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.routing import Match

log = logging.getLogger("apgraph.tracing")

SERVICE = "apgraph"
SIMULATORS_SERVICE = "apgraph-simulators"
_NO_METRICS = NoOpMeterProvider()  # Prometheus counts requests; the instrumentations need not


def tracer_provider(*, enabled: bool, export: bool, service: str) -> TracerProvider | None:
    """None when tracing is off; else a provider exporting over OTLP when `export`, or one
    that samples nothing (trace ids without recording)."""
    if not enabled:
        return None
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES, when set, win over our name
    resource = Resource.create({SERVICE_NAME: service}).merge(OTELResourceDetector().detect())
    if not export:
        return TracerProvider(resource=resource, sampler=ALWAYS_OFF)
    # imported here: the exporter pulls in protobuf and requests, needed only when exporting
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=resource)  # the sampler from OTEL_TRACES_SAMPLER
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def recording(provider: TracerProvider) -> bool:
    return provider.sampler is not ALWAYS_OFF


def install(provider: TracerProvider) -> None:
    """Makes a recording provider the global one (apgraph's own spans use it). The global can
    be set once per process: a second, different one is refused with a warning."""
    if not recording(provider):
        return  # the API's no-op tracer keeps the request's (non-recording) span current
    current = trace.get_tracer_provider()
    if current is provider:
        return
    if isinstance(current, TracerProvider):
        log.warning("a tracer provider is installed already; apgraph's own spans go there")
        return
    trace.set_tracer_provider(provider)


def instrument_app(app: Starlette, provider: TracerProvider) -> None:
    """A server span for each HTTP request and WebSocket, continuing a valid incoming W3C
    traceparent (the propagator drops a malformed one and starts a new trace)."""
    app.add_middleware(
        OpenTelemetryMiddleware,
        tracer_provider=provider,
        meter_provider=_NO_METRICS,
        exclude_spans=["receive", "send"],  # a span per ASGI message costs more than it tells
        default_span_details=_route_of(app),
    )


def _route_of(app: Starlette) -> Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]:
    """Spans are named by route template (`GET /attachments/{attachment_id}/content`), never
    by the path itself: an id in a span name makes every span name unique."""

    def details(scope: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        method = scope.get("method", "WEBSOCKET" if scope["type"] == "websocket" else "")
        for route in app.routes:
            matched, _ = route.matches(scope)
            if matched is Match.FULL:
                return f"{method} {getattr(route, 'path', '')}".strip(), {}
        return method or scope["type"], {}

    return details


def instrument_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """A client span for each SQL statement, child of whatever span is current."""
    EngineTracer(
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"),
        engine.sync_engine,
        _NO_METRICS.get_meter("apgraph").create_up_down_counter("db.client.connections.usage"),
    )


def traced_transport(
    transport: httpx.AsyncBaseTransport | None, provider: TracerProvider | None
) -> httpx.AsyncBaseTransport | None:
    """`transport` (or httpx's default) with a client span per request and the W3C
    traceparent injected, so the system called continues the trace; unchanged when off."""
    if provider is None:
        return transport
    inner = transport if transport is not None else httpx.AsyncHTTPTransport()
    return AsyncOpenTelemetryTransport(inner, tracer_provider=provider, meter_provider=_NO_METRICS)


def current_trace_id() -> str | None:
    """The trace id of the span current in this context, as 32 hex digits; None outside one."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None
