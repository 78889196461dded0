"""DataLoaders: the N+1 guard. Every nested field loads through one of these.

We use strawberry's own DataLoader rather than aiodataloader: it ships with strawberry (one
dependency fewer), is typed, and is maintained in step with the executor that calls it.
Loaders are built per request from repositories already scoped to the caller, so a cached
row never crosses principals.
"""

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from functools import cached_property
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


class Loaders:
    """One request's loaders, each built when a field first asks for it: most operations
    use a few, and a subscription's context (one per socket and per operation) none."""

    def __init__(self, store: Reads) -> None:
        self._store = store  # already scoped to the caller

    @classmethod
    def over(cls, store: Reads) -> "Loaders":
        """`store` is already scoped to the caller."""
        return cls(store)

    @cached_property
    def facilities(self) -> ById[Facility]:
        return ById(self._store.facilities.get_many)

    @cached_property
    def cost_centers(self) -> ById[CostCenter]:
        return ById(self._store.facilities.cost_centers)

    @cached_property
    def cost_centers_of_facility(self) -> Grouped[CostCenter, CostCenter]:
        return Grouped(
            self._store.facilities.cost_centers_of,
            parent_of=lambda c: c.facility_id,
            value_of=_same,
        )

    @cached_property
    def suppliers(self) -> ById[Supplier]:
        return ById(self._store.suppliers.get_many)

    @cached_property
    def purchase_orders(self) -> ById[PurchaseOrder]:
        return ById(self._store.purchase_orders.get_many)

    @cached_property
    def purchase_order_lines(self) -> Grouped[tuple[str, PurchaseOrderLine], PurchaseOrderLine]:
        return Grouped(self._store.purchase_orders.lines_of, parent_of=_first, value_of=_second)

    @cached_property
    def goods_receipts(self) -> Grouped[GoodsReceipt, GoodsReceipt]:
        return Grouped(
            self._store.purchase_orders.receipts_of,
            parent_of=lambda r: r.purchase_order_id,
            value_of=_same,
        )

    @cached_property
    def billed_quantities(self) -> Grouped[BilledQuantity, BilledQuantity]:
        return Grouped(
            self._store.purchase_orders.billed_of,
            parent_of=lambda b: b.purchase_order_id,
            value_of=_same,
        )

    @cached_property
    def invoices(self) -> ById[Invoice]:
        return ById(self._store.invoices.get_many)

    @cached_property
    def invoice_lines(self) -> Grouped[tuple[str, InvoiceLine], InvoiceLine]:
        return Grouped(self._store.invoices.lines_of, parent_of=_first, value_of=_second)

    @cached_property
    def invoice_exceptions(self) -> Grouped[tuple[str, InvoiceException], InvoiceException]:
        return Grouped(self._store.invoices.exceptions_of, parent_of=_first, value_of=_second)

    @cached_property
    def invoice_history(self) -> Grouped[StatusChange, StatusChange]:
        return Grouped(
            self._store.invoices.history_of, parent_of=lambda c: c.invoice_id, value_of=_same
        )

    @cached_property
    def invoice_approvals(self) -> Grouped[Approval, Approval]:
        return Grouped(
            self._store.invoices.approvals_of, parent_of=lambda a: a.invoice_id, value_of=_same
        )

    @cached_property
    def invoice_assignments(self) -> Grouped[Assignment, Assignment]:
        return Grouped(
            self._store.invoices.assignments_of, parent_of=lambda a: a.invoice_id, value_of=_same
        )

    @cached_property
    def invoice_attachments(self) -> Grouped[Attachment, Attachment]:
        return Grouped(
            self._store.attachments.of_invoices, parent_of=lambda a: a.invoice_id, value_of=_same
        )

    @cached_property
    def payments(self) -> ById[Payment]:
        return ById(self._store.payments.get_many)

    @cached_property
    def allocations_to_invoice(self) -> Grouped[PaymentAllocation, PaymentAllocation]:
        return Grouped(
            self._store.payments.allocations_to, parent_of=lambda a: a.invoice_id, value_of=_same
        )

    @cached_property
    def allocations_of_payment(self) -> Grouped[PaymentAllocation, PaymentAllocation]:
        return Grouped(
            self._store.payments.allocations_of, parent_of=lambda a: a.payment_id, value_of=_same
        )

    @cached_property
    def payment_runs(self) -> ById[PaymentRun]:
        return ById(self._store.payment_runs.get_many)

    @cached_property
    def remittance_documents(self) -> Grouped[RemittanceDocumentInfo, RemittanceDocumentInfo]:
        return Grouped(
            self._store.payments.remittance_documents,
            parent_of=lambda d: d.payment_id,
            value_of=_same,
        )
