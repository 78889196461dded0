"""invoiceEvents: one invoice's outbox events, for whoever may see the invoice."""

from datetime import UTC, datetime, timedelta

import pytest

from apgraph.domain.events import InvoicePosted, InvoiceReceived
from apgraph.domain.principal import Role
from apgraph.store.database import create_engine
from apgraph.store.unit_of_work import SqlUnitOfWork

EVENTS = """
query($id: ID!) {
  invoiceEvents(invoiceId: $id) { id type sequence traceId published payload }
}
"""


@pytest.fixture(scope="module")
async def invoice_with_events(api, network):
    invoice = network.invoices[-1]
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    engine = create_engine(api.settings.resolved_database_url, schema=api.settings.database_schema)
    async with SqlUnitOfWork(engine, trace_id="4bf92f3577b34da6a3ce929d0e0e4736") as uow:
        await uow.outbox.add(
            [
                InvoiceReceived(
                    invoice.id,
                    invoice.supplier_id,
                    invoice.facility_id,
                    at,
                    invoice.supplier_invoice_number,
                ),
                InvoicePosted(
                    invoice.id,
                    invoice.supplier_id,
                    invoice.facility_id,
                    at + timedelta(minutes=1),
                    "LEG-5100023",
                ),
            ]
        )
        await uow.commit()
    await engine.dispose()
    return invoice


async def test_the_events_come_oldest_first_in_their_envelope(api, invoice_with_events):
    events = (await api.data(EVENTS, {"id": invoice_with_events.id}))["invoiceEvents"]
    events = events[-2:]  # after the seeded history, the two written above
    assert [e["type"] for e in events] == ["invoice.received", "invoice.posted"]
    assert events[0]["sequence"] < events[1]["sequence"]
    assert {e["traceId"] for e in events} == {"4bf92f3577b34da6a3ce929d0e0e4736"}
    assert events[1]["payload"]["erp_document_ref"] == "LEG-5100023"
    assert events[0]["published"] is False


async def test_another_suppliers_invoice_has_no_events_like_an_unknown_one(
    api, invoice_with_events, network
):
    other = next(s.id for s in network.suppliers if s.id != invoice_with_events.supplier_id)
    token = api.token(Role.SUPPLIER, supplier_id=other)
    portal = "supplier-portal/v1"
    theirs = await api.graphql(EVENTS, {"id": invoice_with_events.id}, token=token, product=portal)
    unknown = await api.graphql(EVENTS, {"id": "INV-99999999"}, token=token, product=portal)
    assert theirs["data"] == unknown["data"] == {"invoiceEvents": None}


async def test_a_malformed_invoice_id_is_bad_user_input(api):
    body = await api.graphql(EVENTS, {"id": "INV-1"})
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "invoiceId"}
