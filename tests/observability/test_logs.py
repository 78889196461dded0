"""Logs are JSON lines with the request's trace id, and never carry a secret, a token or a
bank account number, whatever the code around them logs."""

import io
import json
import logging

import pytest

from apgraph.domain.principal import Role
from apgraph.observability import logs

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SUPPLIER_WITH_BANK = (
    "query($id: ID!) { supplier(id: $id) { remitTo { accountNumber routingNumber } } }"
)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer [token]"),
        ("token eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig_nature", "token [token]"),
        (
            "grant_type=client_credentials&client_secret=hunter2",
            "grant_type=client_credentials&client_secret=[secret]",
        ),
        ("account 000123456789 routing 071000013", "account [number] routing [number]"),
        ("INV-00000042 and PO-2026-000012 stay", "INV-00000042 and PO-2026-000012 stay"),
    ],
)
def test_what_must_never_be_logged_is_masked(text, shown):
    assert logs.redact(text) == shown


@pytest.fixture
def captured():
    stream = io.StringIO()
    root = logging.getLogger()
    kept, level = list(root.handlers), root.level
    logs.configure(format="json", stream=stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in kept:
        root.addHandler(handler)
    root.setLevel(level)


async def test_a_days_traffic_logs_json_lines_with_trace_ids_and_nothing_secret(
    workflow_api, network, captured
):
    # given a supplier's real token, an operator reading bank details in full, and strangers
    supplier = network.suppliers[0]
    own = workflow_api.token(Role.SUPPLIER, supplier_id=supplier.id)
    secrets_seen = [own, workflow_api.admin, "wrong-secret-value"]

    # when they call: a forged token, a wrong client secret, a full bank read, a normal read
    forged = own[:-4] + "AAAA"
    await workflow_api.client.post(
        "/products/supplier-portal/v1/graphql",
        json={"query": "{ viewer { subject } }"},
        headers={
            "Authorization": f"Bearer {forged}",
            "traceparent": f"00-{TRACE}-00f067aa0ba902b7-01",
        },
    )
    await workflow_api.client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "cli_unknown",
            "client_secret": "wrong-secret-value",
        },
    )
    await workflow_api.data(SUPPLIER_WITH_BANK, {"id": supplier.id})
    await workflow_api.data("{ viewer { subject } }", token=own, product="supplier-portal/v1")
    logging.getLogger("apgraph.test").info("a careless line: Bearer %s", own)

    # then every line is a JSON object with a level, a logger and a message
    lines = [json.loads(line) for line in captured.getvalue().splitlines() if line.strip()]
    assert lines
    assert all({"level", "logger", "message"} <= set(line) for line in lines)
    # the forged request's refusal carries the trace id the caller sent
    assert any(line.get("trace_id") == TRACE for line in lines)
    # and no token, secret or bank number appears anywhere
    text = captured.getvalue()
    numbers = [
        value
        for s in network.suppliers
        if s.remit_to is not None
        for value in (s.remit_to.account_number, s.remit_to.routing_number)
    ]
    leaked = [value for value in [*secrets_seen, forged, *numbers] if value in text]
    assert leaked == []


def test_every_process_leaves_out_httpxs_line_per_request_but_not_its_warnings(captured):
    # given the logging each process (serve, each worker) configures

    # when httpx logs a connector call, then trouble
    logging.getLogger("httpx").info('HTTP Request: POST http://127.0.0.1:9/post "HTTP/1.1 200"')
    logging.getLogger("httpx").warning("connection pool is full")

    # then only the warning is written
    lines = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["connection pool is full"]
