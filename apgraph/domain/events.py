"""What happened to an invoice, as DESIGN §5 names it: one small frozen dataclass per type.

The lifecycle returns these; the outbox wraps each in its envelope (id, sequence, trace id,
versioned payload) and commits it with the state change. `type` is the wire name; `status` is
where the invoice stands once the event happened (every status change has its event, so a
subscriber following an invoice's events knows its status without reading it again).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, SupplierId
from apgraph.domain.invoices import InvoiceStatus


@dataclass(frozen=True, slots=True)
class Event:
    """The subject ids every event carries, and when it happened (aware UTC)."""

    type: ClassVar[str]
    status: ClassVar[InvoiceStatus]

    invoice_id: InvoiceId
    supplier_id: SupplierId
    facility_id: FacilityId
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceReceived(Event):
    type: ClassVar[str] = "invoice.received"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.RECEIVED

    supplier_invoice_number: str


@dataclass(frozen=True, slots=True)
class InvoiceValidated(Event):
    type: ClassVar[str] = "invoice.validated"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.VALIDATED


@dataclass(frozen=True, slots=True)
class InvoiceRejected(Event):
    """By validation (`codes`, no `reason`) or by an approver (`reason`, no codes)."""

    type: ClassVar[str] = "invoice.rejected"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.REJECTED

    codes: tuple[str, ...]
    reason: str | None
    rejected_by: str


@dataclass(frozen=True, slots=True)
class InvoiceMatched(Event):
    """Three-way match ran and nothing blocks; `flags` are findings kept on the invoice that
    need no approver (CONTRACT_PRICE_UNAVAILABLE). A match with findings emits this and then
    `invoice.match_failed`, as the invoice passes MATCHED on its way to EXCEPTION."""

    type: ClassVar[str] = "invoice.matched"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.MATCHED

    flags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvoiceMatchFailed(Event):
    """The match found something an approver must look at; `codes` are its MatchCodes."""

    type: ClassVar[str] = "invoice.match_failed"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.EXCEPTION

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvoiceApprovalCompleted(Event):
    """Every approval the policy asks for is in; posting follows."""

    type: ClassVar[str] = "invoice.approval_completed"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.EXCEPTION

    approvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvoiceHeld(Event):
    """An approver put the exception on hold; `reason` goes to the supplier."""

    type: ClassVar[str] = "invoice.held"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.ON_HOLD

    held_by: str
    reason: str


@dataclass(frozen=True, slots=True)
class InvoiceReleased(Event):
    """Back from hold into the approvers' queue (EXCEPTION)."""

    type: ClassVar[str] = "invoice.released"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.EXCEPTION

    released_by: str


@dataclass(frozen=True, slots=True)
class InvoicePosted(Event):
    type: ClassVar[str] = "invoice.posted"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.POSTED

    erp_document_ref: str


@dataclass(frozen=True, slots=True)
class InvoicePostingFailed(Event):
    """The ERP stayed down past every retry; the posting waits in dead letters for a replay."""

    type: ClassVar[str] = "invoice.posting_failed"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.POSTING_FAILED

    reason: str


@dataclass(frozen=True, slots=True)
class InvoiceEscalated(Event):
    """The exception waited past the approvals SLA: `approvers` (the escalation level) may
    now decide on it too. Once per stay in EXCEPTION."""

    type: ClassVar[str] = "invoice.escalated"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.EXCEPTION

    approvers: tuple[str, ...]
    waiting_since: datetime


@dataclass(frozen=True, slots=True)
class PaymentScheduled(Event):
    type: ClassVar[str] = "payment.scheduled"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.SCHEDULED

    payment_id: PaymentId
    scheduled_date: date


@dataclass(frozen=True, slots=True)
class PaymentReleased(Event):
    type: ClassVar[str] = "payment.released"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.PAID

    payment_id: PaymentId


@dataclass(frozen=True, slots=True)
class RemittanceSent(Event):
    type: ClassVar[str] = "remittance.sent"
    status: ClassVar[InvoiceStatus] = InvoiceStatus.REMITTED

    payment_id: PaymentId
    remittance_ref: str
