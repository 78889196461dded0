"""GoodsReceipts from materials management."""

from collections.abc import Sequence
from dataclasses import dataclass

from apgraph.connectors.materials import mapping
from apgraph.connectors.rest import RestClient
from apgraph.domain.ids import PurchaseOrderId
from apgraph.domain.purchasing import GoodsReceipt


@dataclass(frozen=True, slots=True)
class MaterialsAdapter:
    client: RestClient

    async def receipts_for(self, purchase_order_id: PurchaseOrderId) -> Sequence[GoodsReceipt]:
        body = await self.client.get(mapping.receipts_path(purchase_order_id))
        receipts = mapping.receipts_from_vendor(body, purchase_order_id)
        return sorted(receipts, key=lambda receipt: (receipt.received_at, receipt.id))
