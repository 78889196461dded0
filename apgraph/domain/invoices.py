"""Invoices as suppliers send them, and the record of where each one stands."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import CostCenterId, FacilityId, InvoiceId, PurchaseOrderId, SupplierId


class InvoiceStatus(Enum):
    """Where an invoice stands in its lifecycle (DESIGN §4)."""

    RECEIVED = "RECEIVED"
    """Stored as sent; validation comes next."""
    VALIDATED = "VALIDATED"
    """Passed validation; waits here for the match while materials management is down."""
    MATCHED = "MATCHED"
    """Matched PO × receipt × invoice within tolerance; being posted to the ERP."""
    EXCEPTION = "EXCEPTION"
    """Needs an approver: see `exceptions` for the reason codes."""
    ON_HOLD = "ON_HOLD"
    """An approver put the exception on hold; released back to EXCEPTION."""
    REJECTED = "REJECTED"
    """Refused: failed validation, or an approver rejected it. The supplier may resubmit."""
    POSTED = "POSTED"
    """Booked in the facility's ERP; `erpDocumentRef` names the document."""
    POSTING_FAILED = "POSTING_FAILED"
    """The ERP could not be reached or refused past every retry; waits for a replay."""
    SCHEDULED = "SCHEDULED"
    """In a payment run."""
    PAID = "PAID"
    """Paid: the ERP confirmed the payment."""
    REMITTED = "REMITTED"
    """Paid and the remittance advice sent to the supplier."""


class ApprovalDecision(Enum):
    """What an approver decided on an invoice in exception."""

    APPROVED = "APPROVED"
    """Approved for posting, despite its exceptions."""
    REJECTED = "REJECTED"
    """Rejected, with a reason the supplier can read."""
    HELD = "HELD"
    """Put on hold, with a reason (e.g. a credit note asked for)."""
    RELEASED = "RELEASED"
    """Released from hold, back into the exception queue."""


class ApprovalStatus(Enum):
    """Where an invoice stands with its approvers, derived from status and decisions."""

    NOT_REQUIRED = "NOT_REQUIRED"
    """Matched cleanly: no approver involved."""
    PENDING = "PENDING"
    """In EXCEPTION, waiting for an approver (or a second one)."""
    ON_HOLD = "ON_HOLD"
    """An approver holds it."""
    APPROVED = "APPROVED"
    """Every approval it needs was given."""
    REJECTED = "REJECTED"
    """Rejected, by validation or an approver."""


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
