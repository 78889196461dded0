"""What happened to an invoice, as DESIGN §5 names it: one small frozen dataclass per type.

The lifecycle returns these; the outbox wraps each in its envelope (id, sequence, trace id,
versioned payload) and commits it with the state change. `type` is the wire name.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, SupplierId


@dataclass(frozen=True, slots=True)
class Event:
    """The subject ids every event carries, and when it happened (aware UTC)."""

    type: ClassVar[str]

    invoice_id: InvoiceId
    supplier_id: SupplierId
    facility_id: FacilityId
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class InvoiceReceived(Event):
    type: ClassVar[str] = "invoice.received"

    supplier_invoice_number: str


@dataclass(frozen=True, slots=True)
class InvoiceValidated(Event):
    type: ClassVar[str] = "invoice.validated"


@dataclass(frozen=True, slots=True)
class InvoiceRejected(Event):
    """By validation (`codes`, no `reason`) or by an approver (`reason`, no codes)."""

    type: ClassVar[str] = "invoice.rejected"

    codes: tuple[str, ...]
    reason: str | None
    rejected_by: str


@dataclass(frozen=True, slots=True)
class InvoiceMatchFailed(Event):
    """The match found something an approver must look at; `codes` are its MatchCodes."""

    type: ClassVar[str] = "invoice.match_failed"

    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvoiceApprovalCompleted(Event):
    """Every approval the policy asks for is in; posting follows."""

    type: ClassVar[str] = "invoice.approval_completed"

    approvers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class InvoicePosted(Event):
    type: ClassVar[str] = "invoice.posted"

    erp_document_ref: str


@dataclass(frozen=True, slots=True)
class InvoicePostingFailed(Event):
    """The ERP stayed down past every retry; the posting waits in dead letters for a replay."""

    type: ClassVar[str] = "invoice.posting_failed"

    reason: str


@dataclass(frozen=True, slots=True)
class InvoiceEscalated(Event):
    """The exception waited past the approvals SLA: `approvers` (the escalation level) may
    now decide on it too. Once per stay in EXCEPTION."""

    type: ClassVar[str] = "invoice.escalated"

    approvers: tuple[str, ...]
    waiting_since: datetime


@dataclass(frozen=True, slots=True)
class PaymentScheduled(Event):
    type: ClassVar[str] = "payment.scheduled"

    payment_id: PaymentId
    scheduled_date: date


@dataclass(frozen=True, slots=True)
class PaymentReleased(Event):
    type: ClassVar[str] = "payment.released"

    payment_id: PaymentId


@dataclass(frozen=True, slots=True)
class RemittanceSent(Event):
    type: ClassVar[str] = "remittance.sent"

    payment_id: PaymentId
    remittance_ref: str
