"""Materials management's receipts JSON → canonical goods receipts: its field names live here."""

from typing import Any

from apgraph.connectors import vendor_values as values
from apgraph.domain.ids import GoodsReceiptId, PurchaseOrderId
from apgraph.domain.purchasing import GoodsReceipt
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import ConnectorMappingError

SYSTEM = ExternalSystem.MATERIALS


def receipts_path(purchase_order_id: PurchaseOrderId) -> str:
    return f"api/purchase-orders/{purchase_order_id}/receipts"


def receipts_from_vendor(body: Any, purchase_order_id: PurchaseOrderId) -> list[GoodsReceipt]:
    """All or nothing: one receipt that does not map fails the whole answer."""
    order = values.text(SYSTEM, "purchaseOrder", values.member(SYSTEM, body, "purchaseOrder"))
    if order != purchase_order_id:
        raise ConnectorMappingError(
            SYSTEM, "purchaseOrder", f"asked for {purchase_order_id}, answered for {order}"
        )
    return [_receipt(item, purchase_order_id) for item in values.items(SYSTEM, body, "receipts")]


def _receipt(item: Any, purchase_order_id: PurchaseOrderId) -> GoodsReceipt:
    def get(name: str) -> Any:
        return values.member(SYSTEM, item, name)

    number = values.integer(SYSTEM, "receiptNumber", get("receiptNumber"))
    quantity = values.amount(SYSTEM, "quantityReceived", get("quantityReceived"))
    if quantity < 0:
        raise ConnectorMappingError(SYSTEM, "quantityReceived", f"negative: {quantity}")
    return GoodsReceipt(
        id=GoodsReceiptId(f"GR-{number:08d}"),
        purchase_order_id=purchase_order_id,
        line_no=values.integer(SYSTEM, "poLine", get("poLine")),
        quantity=quantity,
        received_at=values.instant(SYSTEM, "receivedAt", get("receivedAt")),
    )
