"""Fresh invoices for the workflow's tests: each test bills a PO no other test has billed.

The API database lives for the whole session (once per backend), and quantities are
cumulative per PO line, so a test that shared a PO would depend on test order. `Orders`
hands out each seeded PO once per backend (tests/order_supply.py mints copies once they are
gone); supplier invoice numbers are random.
"""

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from apgraph.demo.generator import DemoNetwork
from apgraph.domain.facilities import CostCenter
from apgraph.domain.matching.contract import contract_on
from apgraph.domain.money import round_half_up
from apgraph.domain.purchasing import PurchaseOrder, PurchaseOrderLine, PurchaseOrderStatus
from apgraph.domain.submission import SubmittedInvoice, SubmittedLine
from apgraph.domain.suppliers import Supplier, TaxTreatment
from apgraph.domain.systems import ExternalSystem

Receipts = Literal["full", "partial", "none"]
OVER_ANY_TOLERANCE = Decimal(11)  # every category's absolute quantity tolerance is at most 10
SMALL_TOTAL = Decimal(20000)  # under the two-approver amount (25000.00), tax included


@dataclass(frozen=True)
class Order:
    order: PurchaseOrder
    lines: tuple[PurchaseOrderLine, ...]
    received: dict[int, Decimal]
    supplier: Supplier
    cost_center: CostCenter
    contract_prices: dict[str, Decimal]  # item id → the contract price valid today

    @property
    def approver(self) -> str:
        return self.cost_center.approvers[0]

    def price(self, line: PurchaseOrderLine) -> Decimal:
        """What a clean invoice bills: never above the PO or today's contract price."""
        return min(line.unit_price, self.contract_prices.get(line.item_id, line.unit_price))

    def invoice(
        self, quantities: dict[int, Decimal], *, number: str | None = None
    ) -> SubmittedInvoice:
        """An invoice that adds up (lines, tax, total) billing `quantities` per PO line."""
        by_no = {line.line_no: line for line in self.lines}
        lines = tuple(
            SubmittedLine(
                po_line_no=line_no,
                description=by_no[line_no].description,
                quantity=quantity,
                unit_of_measure=by_no[line_no].unit_of_measure,
                unit_price=self.price(by_no[line_no]),
                amount=round_half_up(quantity * self.price(by_no[line_no]), 2),
            )
            for line_no, quantity in quantities.items()
        )
        subtotal = sum((line.amount for line in lines), Decimal("0.00"))
        tax = (
            Decimal("0.00")
            if self.supplier.tax_treatment is TaxTreatment.EXEMPT
            else round_half_up(subtotal * self.supplier.tax_rate, 2)
        )
        return SubmittedInvoice(
            supplier_id=self.supplier.id,
            supplier_invoice_number=number or f"T-{uuid.uuid4().hex[:12]}",
            facility_id=self.order.facility_id,
            cost_center_id=self.order.cost_center_id,
            purchase_order_id=self.order.id,
            invoice_date=datetime.now(UTC).date(),
            currency=self.order.currency,
            subtotal=subtotal,
            tax=tax,
            total=subtotal + tax,
            lines=lines,
        )

    def clean_invoice(self) -> SubmittedInvoice:
        """Bills what was received on every line with a receipt, at PO or contract price."""
        return self.invoice(
            {
                line.line_no: min(self.received[line.line_no], line.quantity)
                for line in self.lines
                if self.received.get(line.line_no)
            }
        )

    def over_received_invoice(self) -> SubmittedInvoice:
        """QTY_VARIANCE (and OVER_BILLED) on one received line, with a total one approver
        decides on."""
        line = self._cheapest_received()
        return self.invoice({line.line_no: self.received[line.line_no] + OVER_ANY_TOLERANCE})

    def large_over_received_invoice(self, subtotal: Decimal) -> SubmittedInvoice | None:
        """QTY_VARIANCE on one received line, billing about `subtotal` (whole units), or None
        when what was received already bills more than that."""
        line = self._cheapest_received()
        price = self.price(line)
        quantity = max(
            (subtotal / price).to_integral_value(), self.received[line.line_no] + OVER_ANY_TOLERANCE
        )
        if quantity * price > subtotal * Decimal("1.1"):
            return None
        return self.invoice({line.line_no: quantity})

    def unreceived_invoice(self) -> SubmittedInvoice:
        """MISSING_RECEIPT: one unit of the first line, of which nothing was received."""
        line = next(line for line in self.lines if not self.received.get(line.line_no))
        return self.invoice({line.line_no: Decimal(1)})

    def _cheapest_received(self) -> PurchaseOrderLine:
        return min(
            (line for line in self.lines if self.received.get(line.line_no)),
            key=lambda line: (self.received[line.line_no] + OVER_ANY_TOLERANCE) * line.unit_price,
        )

    def over_received_total_is_small(self) -> bool:
        if not any(self.received.get(line.line_no) for line in self.lines):
            return False
        line = self._cheapest_received()
        return (self.received[line.line_no] + OVER_ANY_TOLERANCE) * line.unit_price * Decimal(
            "1.2"
        ) < SMALL_TOTAL

    @property
    def receipts(self) -> Receipts:
        if all(self.received.get(line.line_no, 0) >= line.quantity for line in self.lines):
            return "full"
        if not any(self.received.get(line.line_no) for line in self.lines):
            return "none"
        return "partial"

    def fits(
        self,
        receipts: Receipts,
        *,
        small_exception: bool = False,
        approvers: int = 1,
        lines: int = 1,
    ) -> bool:
        """What `Orders.take` asks of a PO: its receipts, an over-received invoice one approver
        decides on (`small_exception`), at least `approvers` at its cost center, at least
        `lines` lines."""
        return (
            self.receipts == receipts
            and (not small_exception or self.over_received_total_is_small())
            and len(self.cost_center.approvers) >= approvers
            and len(self.lines) >= lines
        )

    def large_exception_invoice(self, subtotal: Decimal) -> SubmittedInvoice | None:
        """An over-received invoice billing about `subtotal` at a cost center naming two
        approvers, or None when this PO cannot give one."""
        if len(self.cost_center.approvers) < 2 or self.receipts == "none":
            return None
        return self.large_over_received_invoice(subtotal)


class Orders:
    """Each billable, never-invoiced PO of the demo network, handed out once per backend.

    `already_invoiced`: the billable POs the seed has billed instead, a pool no other test
    draws from, for tests whose invoices land in EXCEPTION whatever was billed before.
    Against a running server, `tests.order_supply.OrderSupply` hands these out and mints
    copies once they are gone.
    """

    def __init__(self, network: DemoNetwork, *, already_invoiced: bool = False) -> None:
        today = datetime.now(UTC).date()
        invoiced = {invoice.purchase_order_id for invoice in network.invoices}
        lines: dict[str, list[PurchaseOrderLine]] = defaultdict(list)
        for order_id, line in network.purchase_order_lines:
            lines[order_id].append(line)
        received: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for receipt in network.goods_receipts:
            received[receipt.purchase_order_id][receipt.line_no] += receipt.quantity
        suppliers = {supplier.id: supplier for supplier in network.suppliers}
        centers = {center.id: center for center in network.cost_centers}
        self._orders: list[Order] = []
        for order in network.purchase_orders:
            supplier = suppliers[order.supplier_id]
            center = centers[order.cost_center_id]
            if (
                (order.id in invoiced) is not already_invoiced
                or order.status in (PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED)
                or not supplier.status.may_bill
                or not center.active
            ):
                continue
            prices = {}
            for line in lines[order.id]:
                contract = contract_on(
                    network.contract_prices,
                    supplier_id=supplier.id,
                    item_id=line.item_id,
                    currency=order.currency,
                    day=today,
                )
                if contract is not None:
                    prices[line.item_id] = contract.unit_price
            self._orders.append(
                Order(
                    order,
                    tuple(lines[order.id]),
                    dict(received[order.id]),
                    supplier,
                    center,
                    prices,
                )
            )
        self._taken: dict[str, set[str]] = defaultdict(set)
        # (supplier, unit price) of the unreceived line each PO handed out would bill: two POs
        # of one supplier with that line at the same price give `unreceived_invoice`s of equal
        # totals, and the second is, rightly, a DUPLICATE_INVOICE (same supplier, currency and
        # total within a week)
        self._prices: dict[str, set[tuple[str, Decimal]]] = defaultdict(set)

    @property
    def all(self) -> tuple[Order, ...]:
        """Every PO of the pool, taken or not, in the network's order."""
        return tuple(self._orders)

    def take(
        self,
        backend: str,
        receipts: Receipts,
        *,
        small_exception: bool = False,
        approvers: int = 1,
        lines: int = 1,
        other_than: str | None = None,
    ) -> Order:
        """`other_than`: a supplier id the PO must not be of."""
        for candidate in self._untaken(backend):
            if candidate.supplier.id != other_than and candidate.fits(
                receipts, small_exception=small_exception, approvers=approvers, lines=lines
            ):
                self._hand_out(backend, candidate)
                return candidate
        raise LookupError(f"no untaken PO with {receipts} receipts left on {backend}")

    def for_large_exception(
        self, backend: str, subtotal: Decimal
    ) -> tuple[Order, SubmittedInvoice]:
        """A PO at a cost center naming two approvers, and an over-received invoice billing
        about `subtotal` on it."""
        for candidate in self._untaken(backend):
            invoice = candidate.large_exception_invoice(subtotal)
            if invoice is not None:
                self._hand_out(backend, candidate)
                return candidate, invoice
        raise LookupError(f"no PO for a large exception left on {backend}")

    def for_exception(self, backend: str, *, approvers: int = 1) -> Order:
        """A PO whose over-received invoice lands in EXCEPTION for one cost-center approver
        (`approvers`: how many the cost center names)."""
        for receipts in EXCEPTION_RECEIPTS:
            try:
                return self.take(backend, receipts, small_exception=True, approvers=approvers)
            except LookupError:
                continue
        raise LookupError(f"no PO for a small exception left on {backend}")

    def _untaken(self, backend: str) -> Iterator[Order]:
        """Untaken, and billing no unreceived unit at a price one handed out to the same
        supplier does."""
        return (
            order
            for order in self._orders
            if order.order.id not in self._taken[backend]
            and not self._prices[backend] & _line_prices(order)
        )

    def _hand_out(self, backend: str, order: Order) -> None:
        self._taken[backend].add(order.order.id)
        self._prices[backend] |= _line_prices(order)

    def untaken(self, backend: str) -> Iterator[Order]:
        """The POs no test took on `backend` yet (nor changed: a taken PO may be closed)."""
        return self._untaken(backend)


def _line_prices(order: Order) -> set[tuple[str, Decimal]]:
    """What `unreceived_invoice` on this PO would bill one unit of, if it has such a line."""
    line = next((line for line in order.lines if not order.received.get(line.line_no)), None)
    return set() if line is None else {(order.supplier.id, line.unit_price)}


EXCEPTION_RECEIPTS: tuple[Receipts, ...] = ("partial", "full")  # for_exception's preference


def as_input(submitted: SubmittedInvoice) -> dict[str, Any]:
    """The submitInvoice input as a client sends it: decimals as strings."""
    return {
        "supplierId": submitted.supplier_id,
        "supplierInvoiceNumber": submitted.supplier_invoice_number,
        "facilityId": submitted.facility_id,
        "costCenterId": submitted.cost_center_id,
        "purchaseOrderId": submitted.purchase_order_id,
        "invoiceDate": submitted.invoice_date.isoformat(),
        "currency": submitted.currency,
        "subtotal": str(submitted.subtotal),
        "tax": str(submitted.tax),
        "total": str(submitted.total),
        "lines": [
            {
                "poLineNo": line.po_line_no,
                "description": line.description,
                "quantity": str(line.quantity),
                "unitOfMeasure": line.unit_of_measure,
                "unitPrice": str(line.unit_price),
                "amount": str(line.amount),
            }
            for line in submitted.lines
        ],
    }


def erp_postings(runtime: Any, invoice_id: str, facility_id: str) -> int:
    """How many documents the facility's ERP of record (its simulator) booked for the invoice.

    A facility in shadow mode has the cloud ERP book a copy too; that one is not counted.
    """
    simulators = runtime.connectors.simulators
    book = (
        simulators.legacy_erp.book
        if system_of_record(runtime, facility_id) is ExternalSystem.LEGACY_ERP
        else simulators.cloud_erp.book
    )
    return sum(1 for document in book.documents.values() if document.external_ref == invoice_id)


def system_of_record(runtime: Any, facility_id: str) -> ExternalSystem:
    return runtime.connectors.erp.routes[facility_id].system_of_record


def today() -> date:
    return datetime.now(UTC).date()
