"""Fault injection as an operator drives it: the control API of every simulator."""

import httpx
import pytest

from apgraph.simulators import suite
from apgraph.simulators.suite import PREFIXES


@pytest.fixture
async def client(network):
    simulators = suite.create(network, cloud_client_id="apgraph", cloud_client_secret="s")
    transport = httpx.ASGITransport(app=simulators.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sim") as http:
        yield http


@pytest.mark.parametrize("system", sorted(PREFIXES))
async def test_a_fault_posted_to_the_control_api_hits_the_next_request_only(client, system):
    prefix = PREFIXES[system]
    # given one injected 503 for any operation of the simulator
    added = await client.post(f"{prefix}/_control/faults", json={"kind": "error", "times": 1})
    assert added.status_code == 200
    assert [f["kind"] for f in added.json()] == ["error"]

    # when two requests arrive
    first = await client.get(f"{prefix}/anything")
    second = await client.get(f"{prefix}/anything")

    # then the first failed, the second did not, and both were counted
    assert first.status_code == 503
    assert second.status_code != 503
    calls = (await client.get(f"{prefix}/_control/calls")).json()
    assert calls == {"GET /anything": 2}
    assert (await client.get(f"{prefix}/_control/faults")).json() == []


async def test_a_fault_for_one_operation_leaves_the_others_alone(client):
    fault = {"kind": "rate_limit", "operation": "GET /api/health", "times": None, "retry_after": 4}
    await client.post("/materials/_control/faults", json=fault)

    limited = await client.get("/materials/api/health")
    other = await client.get("/materials/api/purchase-orders/PO-2026-000001/receipts")

    assert (limited.status_code, limited.headers["retry-after"]) == (429, "4")
    assert other.status_code == 200


async def test_delete_clears_faults_and_counts(client):
    await client.post("/sourcing/_control/faults", json={"kind": "error", "times": None})
    await client.get("/sourcing/v1/health")

    cleared = await client.delete("/sourcing/_control/faults")

    assert cleared.json() == []
    assert (await client.get("/sourcing/v1/health")).status_code == 200
    assert (await client.get("/sourcing/_control/calls")).json() == {"GET /v1/health": 1}


@pytest.mark.parametrize(
    "body", [{"kind": "meteor"}, {"kind": "error", "sometimes": True}, {"times": 1}]
)
async def test_a_fault_the_simulator_does_not_know_is_refused(client, body):
    refused = await client.post("/analytics/_control/faults", json=body)

    assert refused.status_code == 400
    assert (await client.get("/analytics/_control/faults")).json() == []


async def test_malformed_drops_the_named_json_field_wherever_it_is(client):
    fault = {"kind": "malformed", "field": "quantityReceived"}
    await client.post("/materials/_control/faults", json=fault)

    body = (await client.get("/materials/api/purchase-orders/PO-2026-000002/receipts")).json()

    assert body["receipts"]
    assert all("quantityReceived" not in receipt for receipt in body["receipts"])


async def test_an_erp_can_be_told_other_payment_terms_and_to_pay_a_document(client, network):
    supplier = network.suppliers[0].id

    terms = await client.put(f"/cloud-erp/_control/payment-terms/{supplier}", json={"days": 75})
    paid = await client.post("/legacy-erp/_control/documents/5100001/pay", json={})

    assert terms.json()["days"] == 75
    assert paid.status_code == 200
    booked = next(i for i in network.invoices if i.erp_document_ref == "LEG-5100001")
    assert paid.json()["amount"] == format(booked.total, "f")


async def test_the_legacy_erp_answers_xml_it_cannot_read_with_a_client_fault(client):
    response = await client.post("/legacy-erp/soap", content=b"<not-closed")

    assert response.status_code == 500
    assert b"soap:Client" in response.content
