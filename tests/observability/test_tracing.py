"""One submitInvoice, one trace: from the HTTP request through the GraphQL operation, the
service, its SQL and the ERP call, into the simulator that continues it (issue 16).

Both servers are real uvicorn servers on loopback, the simulators a separate app reached
over HTTP (remote connectors), each with its own tracer provider writing to one in-memory
exporter; the trace id also ties the request's audit row to the trace.
"""

import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app
from apgraph.gateway.connectors import standalone_simulators
from apgraph.gateway.runtime import embedded_issuer
from apgraph.observability import tracing
from apgraph.policies.loader import load_gateway_config
from apgraph.store import migrate
from tests.conftest import Api, settings_for
from tests.databases import drop_database, make_database
from tests.keys import keyring_for
from tests.live_server import free_port, serving
from tests.test_erp_outage import SECRET, apgraph, remote_config
from tests.workflow import Orders, as_input

SUBMIT = """
mutation SubmitInvoice($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id status } userErrors { code } }
}
"""
AUDIT = """
{ auditLog(filter: {action: "invoice.submit"}, first: 50) {
    edges { node { entityIds traceId } } } }
"""
WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    found = InMemorySpanExporter()
    yield found
    found.shutdown()


def provider(exporter: InMemorySpanExporter, service: str) -> TracerProvider:
    made = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    made.add_span_processor(SimpleSpanProcessor(exporter))
    return made


@pytest.fixture
async def traced_api(
    tmp_path: Path, network: generator.DemoNetwork, exporter: InMemorySpanExporter
) -> AsyncIterator[Api]:
    database = await make_database("postgresql", tmp_path / "db")
    try:
        engine = database.engine()
        await migrate.upgrade(engine)
        await demo_writer.write(engine, network, keyring=await keyring_for(engine))
        await engine.dispose()
        port = free_port()
        config_path = remote_config(tmp_path, port, port)
        settings = settings_for(
            database,
            tmp_path / "data",
            cloud_erp_client_secret=SECRET,
            posting_recovery_interval_seconds=0,  # no background posting in the exporter
            rematch_interval_seconds=0,
            escalation_interval_seconds=0,
            reseal_interval_seconds=0,
            retention_interval_seconds=0,
        ).model_copy(update={"gateway_config": config_path})
        config = load_gateway_config(config_path)
        simulators, _ = standalone_simulators(
            settings,
            config,
            tracer_provider=provider(exporter, tracing.SIMULATORS_SERVICE),
        )
        app = create_app(settings, config, tracer_provider=provider(exporter, tracing.SERVICE))
        with (
            serving(simulators.app, name="simulators", port=port),
            serving(app, name="traced server") as base,
        ):
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                api = Api(client, "postgresql", embedded_issuer(settings), settings)
                await apgraph(api, config_path, "connectors", "sync-suppliers")  # as operators do
                yield api
    finally:
        await drop_database(database)


def spans_until(
    exporter: InMemorySpanExporter, present: Callable[[list[ReadableSpan]], bool]
) -> list[ReadableSpan]:
    """A server span ends once its response is sent, so just after the client has it: the
    spans are read again until what the test looks for has arrived."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        spans = list(exporter.get_finished_spans())
        if present(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.01)


PORTAL_POST = "POST /products/supplier-portal/v1/graphql"


async def test_one_submit_invoice_is_one_trace_from_the_request_to_the_simulator(
    traced_api, network, exporter
):
    # given a clean invoice for a fully received PO (it is matched and posted at once)
    order = Orders(network).take("tracing", "full")
    exporter.clear()

    # when the supplier submits it
    body = await traced_api.data(
        SUBMIT,
        {"input": as_input(order.clean_invoice()), "key": f"key-{uuid.uuid4()}"},
        token=traced_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product="supplier-portal/v1",
    )
    invoice = body["submitInvoice"]["invoice"]
    assert invoice["status"] == "POSTED"

    # then the request is one trace, rooted at the server span of the portal's POST
    def complete(spans: list[ReadableSpan]) -> bool:
        return any(s.name == PORTAL_POST for s in spans) and any(
            s.resource.attributes[SERVICE_NAME] == tracing.SIMULATORS_SERVICE for s in spans
        )

    spans = spans_until(exporter, complete)
    request = next(s for s in spans if s.name == PORTAL_POST)
    assert request.kind is SpanKind.SERVER
    assert request.parent is None
    trace_id = request.context.trace_id
    trace = [s for s in spans if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in trace}

    def parent_of(span: ReadableSpan) -> ReadableSpan | None:
        return by_id.get(span.parent.span_id) if span.parent else None

    def ancestors(span: ReadableSpan) -> list[str]:
        found, at = [], parent_of(span)
        while at is not None:
            found.append(at.name)
            at = parent_of(at)
        return found

    # the GraphQL operation, named as the OTel GraphQL conventions say
    operation = next(s for s in trace if s.name == "mutation SubmitInvoice")
    assert operation.attributes["graphql.operation.name"] == "SubmitInvoice"
    assert parent_of(operation) is request

    # the service, inside the operation
    service = next(s for s in trace if s.name == "apgraph.submit_invoice")
    assert "mutation SubmitInvoice" in ancestors(service)

    # its SQL statements, inside the service; or inside the relay's publishing of its events
    # (the relay continues the request's trace, and on the embedded bus the webhook planner
    # reads the webhooks an event owes deliveries to while it is published)
    statements = [s for s in trace if s.kind is SpanKind.CLIENT and "db.system" in _keys(s)]
    assert statements
    assert any("apgraph.submit_invoice" in ancestors(s) for s in statements)
    assert all(
        "apgraph.submit_invoice" in ancestors(s)
        or any(name.startswith("outbox.publish") for name in ancestors(s))
        for s in statements
    )

    # the ERP call: the posting span, the connector's HTTP request inside it
    posting = next(s for s in trace if s.name == "apgraph.post_invoice")
    assert "apgraph.submit_invoice" in ancestors(posting)
    erp_requests = [
        s
        for s in trace
        if s.kind is SpanKind.CLIENT
        and s.attributes.get("http.request.method", s.attributes.get("http.method")) == "POST"
        and "-erp/" in str(s.attributes.get("url.full", s.attributes.get("http.url", "")))
    ]
    assert erp_requests
    assert all("apgraph.post_invoice" in ancestors(s) for s in erp_requests)

    # and the ERP simulator continued the trace: its server span is a child of that request
    simulated = [
        s
        for s in trace
        if s.resource.attributes[SERVICE_NAME] == tracing.SIMULATORS_SERVICE
        and s.kind is SpanKind.SERVER
        and s.parent is not None
        and s.parent.span_id in {r.context.span_id for r in erp_requests}
    ]
    assert simulated
    assert all(s.parent.is_remote for s in simulated)

    # the outbox relay published the invoice's events in the same trace
    published = spans_until(
        exporter,
        lambda found: any(
            s.name == "outbox.publish invoice.posted" and s.context.trace_id == trace_id
            for s in found
        ),
    )
    relayed = [
        s for s in published if s.context.trace_id == trace_id and s.kind is SpanKind.PRODUCER
    ]
    assert {s.name for s in relayed} >= {
        "outbox.publish invoice.received",
        "outbox.publish invoice.posted",
    }

    # one id ties the trace to the audit row of this submission
    audit = await traced_api.data(AUDIT)
    rows = [
        e["node"] for e in audit["auditLog"]["edges"] if invoice["id"] in e["node"]["entityIds"]
    ]
    assert [row["traceId"] for row in rows] == [format_trace_id(trace_id)]


def _keys(span: ReadableSpan) -> set[str]:
    """Attribute names, with the database system's under its old and new names."""
    names = set(span.attributes or {})
    return names | ({"db.system"} if "db.system.name" in names else set())
