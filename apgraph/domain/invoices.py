"""Invoices as suppliers send them, and the record of where each one stands."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import CostCenterId, FacilityId, InvoiceId, PurchaseOrderId, SupplierId


class InvoiceStatus(Enum):
    """The lifecycle of DESIGN §4."""

    RECEIVED = "RECEIVED"
    VALIDATED = "VALIDATED"
    MATCHED = "MATCHED"
    EXCEPTION = "EXCEPTION"
    ON_HOLD = "ON_HOLD"
    REJECTED = "REJECTED"
    POSTED = "POSTED"
    POSTING_FAILED = "POSTING_FAILED"
    SCHEDULED = "SCHEDULED"
    PAID = "PAID"
    REMITTED = "REMITTED"


class ApprovalDecision(Enum):
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    HELD = "HELD"
    RELEASED = "RELEASED"


class ApprovalStatus(Enum):
    """Where an invoice stands with its approvers, derived from status and decisions."""

    NOT_REQUIRED = "NOT_REQUIRED"  # matched cleanly, no approver involved
    PENDING = "PENDING"  # in EXCEPTION, waiting for an approver
    ON_HOLD = "ON_HOLD"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    line_no: int
    po_line_no: int | None  # None for a non-PO line
    item_id: str | None
    description: str
    quantity: Decimal
    unit_of_measure: str
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    id: InvoiceId
    supplier_id: SupplierId
    supplier_invoice_number: str
    facility_id: FacilityId
    cost_center_id: CostCenterId
    purchase_order_id: PurchaseOrderId | None
    invoice_date: date
    due_date: date
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    status: InvoiceStatus
    submitted_by: str
    received_at: datetime
    erp_document_ref: str | None


@dataclass(frozen=True, slots=True)
class InvoiceException:
    """One reason an invoice needs a person: a stable code, and the line it concerns."""

    code: str
    line_no: int | None
    message: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    invoice_id: InvoiceId
    sequence: int  # order of the changes of one invoice, from 1
    at: datetime
    from_status: InvoiceStatus | None  # None for the first one (received)
    to_status: InvoiceStatus
    actor: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Approval:
    invoice_id: InvoiceId
    approver: str
    decision: ApprovalDecision
    at: datetime
    note: str | None


_AFTER_APPROVAL = frozenset(
    {
        InvoiceStatus.POSTED,
        InvoiceStatus.POSTING_FAILED,
        InvoiceStatus.SCHEDULED,
        InvoiceStatus.PAID,
        InvoiceStatus.REMITTED,
    }
)


def approval_status(status: InvoiceStatus, decisions: list[ApprovalDecision]) -> ApprovalStatus:
    """An invoice that never went through EXCEPTION needs no approver. `decisions`: oldest first."""
    if status is InvoiceStatus.EXCEPTION:
        return ApprovalStatus.PENDING
    if status is InvoiceStatus.ON_HOLD:
        return ApprovalStatus.ON_HOLD
    if not decisions:
        return ApprovalStatus.NOT_REQUIRED
    if status is InvoiceStatus.REJECTED and decisions[-1] is ApprovalDecision.REJECTED:
        return ApprovalStatus.REJECTED
    if status in _AFTER_APPROVAL and ApprovalDecision.APPROVED in decisions:
        return ApprovalStatus.APPROVED
    return ApprovalStatus.NOT_REQUIRED
