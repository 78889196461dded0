"""What a three-way match is checked against that lives outside apgraph: goods receipts
(materials management) and contract prices (sourcing), each None when its system is down.

Asked before any unit of work opens, so no row lock is held across a connector's retries.
"""

from collections.abc import Collection, Sequence
from datetime import date

from apgraph.domain.ids import SupplierId
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from apgraph.services.ports.connectors import ConnectorError
from apgraph.services.ports.workflow import WorkflowConnectors


async def receipts_or_none(
    connectors: WorkflowConnectors, order: PurchaseOrder
) -> Sequence[GoodsReceipt] | None:
    """None when materials management cannot answer: the invoice then waits in VALIDATED."""
    try:
        return await connectors.goods_receipts.receipts_for(order.id)
    except ConnectorError:
        return None


async def contracts_or_none(
    connectors: WorkflowConnectors,
    *,
    supplier_id: SupplierId,
    invoice_date: date,
    billed_po_lines: Collection[int | None],
    order_lines: Sequence[PurchaseOrderLine],
) -> Sequence[ContractPrice] | None:
    """The contracts of the billed items on the invoice date; None when sourcing is down."""
    items = sorted({line.item_id for line in order_lines if line.line_no in billed_po_lines})
    found = []
    try:
        for item_id in items:
            contract = await connectors.contract_prices.price_for(
                supplier_id=supplier_id, item_id=item_id, on=invoice_date
            )
            if contract is not None:
                found.append(contract)
    except ConnectorError:
        return None
    return found
