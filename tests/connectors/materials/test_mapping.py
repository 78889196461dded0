"""Materials management JSON → goods receipts, as a table."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apgraph.connectors.materials import mapping
from apgraph.domain.ids import PurchaseOrderId
from apgraph.services.ports.connectors import ConnectorMappingError

PO = PurchaseOrderId("PO-2026-000002")
RECEIPT = {
    "receiptNumber": "00000007",
    "poLine": 1,
    "quantityReceived": "95.5",
    "receivedAt": "2026-01-15T20:07:33Z",
}


def test_a_receipt_maps_with_its_canonical_id_and_exact_quantity():
    (receipt,) = mapping.receipts_from_vendor({"purchaseOrder": PO, "receipts": [RECEIPT]}, PO)

    assert receipt.id == "GR-00000007"
    assert receipt.quantity == Decimal("95.5")
    assert receipt.received_at == datetime(2026, 1, 15, 20, 7, 33, tzinfo=UTC)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantityReceived", "-1"),
        ("quantityReceived", 95.5),
        ("receivedAt", "2026-01-15T20:07:33"),  # no zone: refused, never guessed
        ("poLine", "first"),
        ("receiptNumber", None),
    ],
)
def test_a_receipt_that_does_not_map_names_the_field(field, value):
    receipt = {k: v for k, v in RECEIPT.items() if k != field}
    if value is not None:
        receipt[field] = value

    with pytest.raises(ConnectorMappingError) as failed:
        mapping.receipts_from_vendor({"purchaseOrder": PO, "receipts": [receipt]}, PO)

    assert failed.value.field == field


def test_an_answer_for_another_po_is_refused():
    with pytest.raises(ConnectorMappingError) as failed:
        mapping.receipts_from_vendor({"purchaseOrder": "PO-2026-000003", "receipts": []}, PO)
    assert failed.value.field == "purchaseOrder"
