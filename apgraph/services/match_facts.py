"""What a three-way match is checked against that lives outside apgraph: goods receipts
(materials management) and contract prices (sourcing), each None when its system is down.

Asked before any unit of work opens, so no row lock is held across a connector's retries.
"""

import asyncio
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
    """The contracts of the billed items on the invoice date; None when sourcing is down.

    The items are asked at once: one after the other, a submission waited one round trip to
    sourcing per item billed. Every ask is awaited to its end (none is left running when one
    fails), and an error that is not a connector's is raised, not taken for "down"."""
    items = sorted({line.item_id for line in order_lines if line.line_no in billed_po_lines})
    answers = await asyncio.gather(
        *(
            connectors.contract_prices.price_for(
                supplier_id=supplier_id, item_id=item_id, on=invoice_date
            )
            for item_id in items
        ),
        return_exceptions=True,
    )
    failures = [answer for answer in answers if isinstance(answer, BaseException)]
    if unexpected := [error for error in failures if not isinstance(error, ConnectorError)]:
        raise unexpected[0]
    if failures:
        return None
    return [answer for answer in answers if isinstance(answer, ContractPrice)]
