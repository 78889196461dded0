"""The demo seed's history as events: one per status change, each naming that status."""

from collections import defaultdict

from apgraph.demo.history import history_events
from apgraph.domain.principal import Role

EVENTS = "query($id: ID!) { invoiceEvents(invoiceId: $id) { type published payload } }"


def test_every_seeded_status_change_has_its_event_in_order(network):
    # given the demo network's status histories
    paths = defaultdict(list)
    for change in sorted(network.status_changes, key=lambda c: (c.invoice_id, c.sequence)):
        paths[change.invoice_id].append(change.to_status)
    # when its history is turned into events
    statuses = defaultdict(list)
    for event in history_events(network):
        statuses[event.invoice_id].append(event.status)
    # then each invoice's events walk the same statuses
    assert statuses == paths


async def test_a_demo_invoice_has_its_history_as_events_already_published(api, network):
    # given a seeded invoice that went beyond RECEIVED
    invoice = next(i for i in network.invoices if i.erp_document_ref is not None)
    supplier = api.token(Role.SUPPLIER, supplier_id=invoice.supplier_id)
    # when its supplier reads its events
    events = (
        await api.data(EVENTS, {"id": invoice.id}, token=supplier, product="supplier-portal/v1")
    )["invoiceEvents"]
    # then they tell its story, as history the relay need not announce
    assert events[0]["type"] == "invoice.received"
    assert "invoice.posted" in [e["type"] for e in events]
    assert all(e["published"] for e in events)
    assert all(e["payload"]["version"] == 1 for e in events)
