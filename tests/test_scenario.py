"""Issue 5's scenario end to end: a real uvicorn server over HTTP, PostgreSQL, the simulators.

The server owns its runtime, as in production: its lifespan links the suppliers to the ERPs
and runs the simulators in-process, so the test reads the legacy ERP's ledger and injects its
faults through `app.state.runtime`. It writes, so it has a seeded database of its own.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.principal import Role
from apgraph.domain.purchasing import Category
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import embedded_issuer
from apgraph.policies.loader import load_gateway_config
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store import migrate
from tests.conftest import Api, settings_for
from tests.databases import drop_database, make_database
from tests.keys import keyring_for
from tests.live_server import serving
from tests.resolvers.test_approve_invoice import SUBMIT, approver_token
from tests.workflow import Order, Orders, Receipts, as_input, erp_postings, system_of_record

SCENARIO = "scenario"  # the key Orders hands this database's POs out under

FINANCE = "finance-ops/v1"  # where approvers work
APPROVE = """
mutation($id: ID!) {
  approveInvoice(invoiceId: $id) { invoice { id status } userErrors { code } }
}
"""
RETRY = """
mutation($id: ID!) {
  retryPosting(invoiceId: $id) { invoice { id status } userErrors { code } }
}
"""
INVOICE = "query($id: ID!) { invoice(id: $id) { id status exceptions { code } } }"
QUEUE = """
query($facility: ID!, $approver: String!) {
  exceptionQueue(facilityId: $facility, assignedTo: $approver, first: 100) {
    edges { node { id exceptions { code } } }
  }
}
"""


@asynccontextmanager
async def live_server(
    tmp_path: Path,
    network: generator.DemoNetwork,
    *,
    gateway_config: Path | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[Api]:
    """uvicorn on loopback over a freshly seeded PostgreSQL schema; `.runtime` is the app's.
    `gateway_config`: another gateway.yaml (e.g. remote connectors) than the shipped one;
    `settings_overrides`: Settings fields (e.g. the background loops' intervals)."""
    database = await make_database("postgresql", tmp_path / "db")
    try:
        engine = database.engine()
        await migrate.upgrade(engine)
        await demo_writer.write(engine, network, keyring=await keyring_for(engine))
        await engine.dispose()
        settings = settings_for(database, tmp_path / "data", **settings_overrides)
        if gateway_config is not None:
            settings = settings.model_copy(update={"gateway_config": gateway_config})
        app = create_app(settings, load_gateway_config(settings.gateway_config))
        with serving(app, name="live server") as base:  # lifespan done: vendors linked
            async with httpx.AsyncClient(base_url=base, timeout=60) as client:
                api = Api(client, "postgresql", embedded_issuer(settings), settings)
                api.runtime = app.state.runtime
                yield api
    finally:
        await drop_database(database)


def legacy_order(
    api: Api, orders: Orders, receipts: Receipts, *, unreceived_line: bool = False, **wanted: Any
) -> Order:
    """An untaken PO of a facility whose ERP of record is the legacy ERP, surgical and other
    medical supplies first; `unreceived_line`: with a line nothing was received on."""
    found: list[Order] = []
    while True:
        try:
            order = orders.take(SCENARIO, receipts, **wanted)
        except LookupError:
            break
        if unreceived_line and all(order.received.get(line.line_no) for line in order.lines):
            continue
        if system_of_record(api.runtime, order.order.facility_id) is ExternalSystem.LEGACY_ERP:
            found.append(order)
            if all(line.category is Category.MEDICAL_SUPPLIES for line in order.lines):
                return order
    assert found, f"no legacy-ERP PO with {receipts} receipts in the demo network"
    return found[0]


async def submit(api: Api, order: Order, invoice: Any) -> dict[str, Any]:
    body = await api.data(
        SUBMIT,
        {"input": as_input(invoice), "key": f"key-{uuid.uuid4()}"},
        token=api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product="supplier-portal/v1",
    )
    assert body["submitInvoice"]["userErrors"] == []
    return body["submitInvoice"]["invoice"]


def legacy_ledger(api: Api, invoice_id: str, facility_id: str) -> int:
    assert system_of_record(api.runtime, facility_id) is ExternalSystem.LEGACY_ERP
    return erp_postings(api.runtime, invoice_id, facility_id)


async def test_the_accounts_payable_day_end_to_end(tmp_path, network):
    orders = Orders(network)  # this database's own: no PO is billed by another test here
    # no re-match pass: its first, at start-up, posts the seed's VALIDATED invoices, and those
    # that reach the legacy ERP while the test holds it down open its breaker for the retry
    async with live_server(tmp_path, network, rematch_interval_seconds=0) as api:
        # (1) surgical supplies, fully received: matched and posted, booked once
        clean_order = legacy_order(api, orders, "full")
        clean = await submit(api, clean_order, clean_order.clean_invoice())
        assert clean["status"] == "POSTED"
        assert legacy_ledger(api, clean["id"], clean_order.order.facility_id) == 1

        # (2) billing more than received, (3) a PO line nothing was received on
        order = legacy_order(api, orders, "partial", unreceived_line=True, small_exception=True)
        facility = order.order.facility_id
        over = await submit(api, order, order.over_received_invoice())
        unreceived = await submit(api, order, order.unreceived_invoice())
        assert (over["status"], unreceived["status"]) == ("EXCEPTION", "EXCEPTION")
        over_codes = await codes_of(api, over["id"])
        assert "QTY_VARIANCE" in over_codes
        assert await codes_of(api, unreceived["id"]) == ["MISSING_RECEIPT"]

        # both wait in the facility approver's queue, with their reason codes
        token = approver_token(api, order.approver, facility)
        queue = await api.data(
            QUEUE, {"facility": facility, "approver": order.approver}, token=token, product=FINANCE
        )
        waiting = {
            edge["node"]["id"]: sorted(c["code"] for c in edge["node"]["exceptions"])
            for edge in queue["exceptionQueue"]["edges"]
        }
        assert (waiting[over["id"]], waiting[unreceived["id"]]) == (over_codes, ["MISSING_RECEIPT"])

        # the approver's approval posts each, once
        for invoice_id in (over["id"], unreceived["id"]):
            approved = await api.data(APPROVE, {"id": invoice_id}, token=token, product=FINANCE)
            assert approved["approveInvoice"] == {
                "invoice": {"id": invoice_id, "status": "POSTED"},
                "userErrors": [],
            }
            assert legacy_ledger(api, invoice_id, facility) == 1
        queue = await api.data(
            QUEUE, {"facility": facility, "approver": order.approver}, token=token, product=FINANCE
        )
        still = {edge["node"]["id"] for edge in queue["exceptionQueue"]["edges"]}
        assert not still & {over["id"], unreceived["id"]}

        # the legacy ERP fails until cleared while a clean invoice comes in
        legacy = api.runtime.connectors.simulators.legacy_erp
        down_order = legacy_order(api, orders, "full")
        down_facility = down_order.order.facility_id
        legacy.plan.add(Fault(FaultKind.ERROR, times=None))
        try:
            failed = await submit(api, down_order, down_order.clean_invoice())
        finally:
            legacy.plan.clear()
        assert failed["status"] == "POSTING_FAILED"
        kept = await api.data(INVOICE, {"id": failed["id"]})  # nothing lost
        assert kept["invoice"]["status"] == "POSTING_FAILED"
        assert legacy_ledger(api, failed["id"], down_facility) == 0

        # back up: retryPosting posts it, and the ledger holds exactly one document
        down_token = approver_token(api, down_order.approver, down_facility)
        retried = await api.data(RETRY, {"id": failed["id"]}, token=down_token, product=FINANCE)
        assert retried["retryPosting"] == {
            "invoice": {"id": failed["id"], "status": "POSTED"},
            "userErrors": [],
        }
        again = await api.data(RETRY, {"id": failed["id"]}, token=down_token, product=FINANCE)
        assert again["retryPosting"]["userErrors"] == [{"code": "ILLEGAL_TRANSITION"}]
        assert legacy_ledger(api, failed["id"], down_facility) == 1
        # and the earlier postings were not repeated by anything above
        assert legacy_ledger(api, clean["id"], clean_order.order.facility_id) == 1
        for invoice_id in (over["id"], unreceived["id"]):
            assert legacy_ledger(api, invoice_id, facility) == 1


async def codes_of(api: Api, invoice_id: str) -> list[str]:
    found = await api.data(INVOICE, {"id": invoice_id})
    return sorted(c["code"] for c in found["invoice"]["exceptions"])
