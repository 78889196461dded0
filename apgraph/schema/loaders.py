"""DataLoaders: the N+1 guard. Every nested field loads through one of these.

We use strawberry's own DataLoader rather than aiodataloader: it ships with strawberry (one
dependency fewer), is typed, and is maintained in step with the executor that calls it.
Loaders are built per request from repositories already scoped to the caller, so a cached
row never crosses principals.
"""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from apgraph.domain.approvals import Assignment
from apgraph.domain.attachments import Attachment
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.invoices import Approval, Invoice, InvoiceException, InvoiceLine, StatusChange
from apgraph.domain.payment_runs import PaymentRun
from apgraph.domain.payments import Payment, PaymentAllocation
from apgraph.domain.purchasing import GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from apgraph.domain.suppliers import Supplier
from apgraph.services.ports.reads import BilledQuantity, Reads, RemittanceDocumentInfo

T = TypeVar("T")
Item = TypeVar("Item")


class ById(DataLoader[str, T | None]):
    """Turns the N `load(id)` calls of one tick into one `get_many` query."""

    def __init__(self, get_many: Callable[[list[str]], Awaitable[Sequence[Any]]]) -> None:
        async def batch(keys: list[str]) -> list[T | None]:
            found = {row.id: row for row in await get_many(keys)}
            return [found.get(key) for key in keys]

        super().__init__(load_fn=batch)


class Grouped(DataLoader[str, list[T]], Generic[Item, T]):
    """Children of many parents in one query, answered per parent in the query's order."""

    def __init__(
        self,
        fetch_children: Callable[[list[str]], Awaitable[Sequence[Item]]],
        *,
        parent_of: Callable[[Item], str],
        value_of: Callable[[Item], T],
    ) -> None:
        async def batch(keys: list[str]) -> list[list[T]]:
            groups: dict[str, list[T]] = defaultdict(list)
            for item in await fetch_children(keys):
                groups[parent_of(item)].append(value_of(item))
            return [groups.get(key, []) for key in keys]

        super().__init__(load_fn=batch)


def _first(pair: tuple[str, Any]) -> str:
    return pair[0]


def _second(pair: tuple[str, T]) -> T:
    return pair[1]


def _same(item: T) -> T:
    return item


@dataclass(frozen=True, slots=True)
class Loaders:
    facilities: ById[Facility]
    cost_centers: ById[CostCenter]
    cost_centers_of_facility: Grouped[CostCenter, CostCenter]
    suppliers: ById[Supplier]
    purchase_orders: ById[PurchaseOrder]
    purchase_order_lines: Grouped[tuple[str, PurchaseOrderLine], PurchaseOrderLine]
    goods_receipts: Grouped[GoodsReceipt, GoodsReceipt]
    billed_quantities: Grouped[BilledQuantity, BilledQuantity]
    invoices: ById[Invoice]
    invoice_lines: Grouped[tuple[str, InvoiceLine], InvoiceLine]
    invoice_exceptions: Grouped[tuple[str, InvoiceException], InvoiceException]
    invoice_history: Grouped[StatusChange, StatusChange]
    invoice_approvals: Grouped[Approval, Approval]
    invoice_assignments: Grouped[Assignment, Assignment]
    invoice_attachments: Grouped[Attachment, Attachment]
    payments: ById[Payment]
    allocations_to_invoice: Grouped[PaymentAllocation, PaymentAllocation]
    allocations_of_payment: Grouped[PaymentAllocation, PaymentAllocation]
    payment_runs: ById[PaymentRun]
    remittance_documents: Grouped[RemittanceDocumentInfo, RemittanceDocumentInfo]

    @classmethod
    def over(cls, store: Reads) -> "Loaders":
        """`store` is already scoped to the caller."""
        return cls(
            facilities=ById(store.facilities.get_many),
            cost_centers=ById(store.facilities.cost_centers),
            cost_centers_of_facility=Grouped(
                store.facilities.cost_centers_of, parent_of=lambda c: c.facility_id, value_of=_same
            ),
            suppliers=ById(store.suppliers.get_many),
            purchase_orders=ById(store.purchase_orders.get_many),
            purchase_order_lines=Grouped(
                store.purchase_orders.lines_of, parent_of=_first, value_of=_second
            ),
            goods_receipts=Grouped(
                store.purchase_orders.receipts_of,
                parent_of=lambda r: r.purchase_order_id,
                value_of=_same,
            ),
            billed_quantities=Grouped(
                store.purchase_orders.billed_of,
                parent_of=lambda b: b.purchase_order_id,
                value_of=_same,
            ),
            invoices=ById(store.invoices.get_many),
            invoice_lines=Grouped(store.invoices.lines_of, parent_of=_first, value_of=_second),
            invoice_exceptions=Grouped(
                store.invoices.exceptions_of, parent_of=_first, value_of=_second
            ),
            invoice_history=Grouped(
                store.invoices.history_of, parent_of=lambda c: c.invoice_id, value_of=_same
            ),
            invoice_approvals=Grouped(
                store.invoices.approvals_of, parent_of=lambda a: a.invoice_id, value_of=_same
            ),
            invoice_assignments=Grouped(
                store.invoices.assignments_of, parent_of=lambda a: a.invoice_id, value_of=_same
            ),
            invoice_attachments=Grouped(
                store.attachments.of_invoices, parent_of=lambda a: a.invoice_id, value_of=_same
            ),
            payments=ById(store.payments.get_many),
            allocations_to_invoice=Grouped(
                store.payments.allocations_to, parent_of=lambda a: a.invoice_id, value_of=_same
            ),
            allocations_of_payment=Grouped(
                store.payments.allocations_of, parent_of=lambda a: a.payment_id, value_of=_same
            ),
            payment_runs=ById(store.payment_runs.get_many),
            remittance_documents=Grouped(
                store.payments.remittance_documents,
                parent_of=lambda d: d.payment_id,
                value_of=_same,
            ),
        )
