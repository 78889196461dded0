"""Payments: money released to a supplier for one or more invoices."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import InvoiceId, PaymentId, SupplierId


class PaymentStatus(Enum):
    """Where a payment stands."""

    SCHEDULED = "SCHEDULED"
    """Planned for its pay date; not yet sent to the ERP."""
    RELEASED = "RELEASED"
    """Sent to the ERP for payment; waiting for its confirmation."""
    PAID = "PAID"
    """The ERP confirmed the money went out."""
    CANCELLED = "CANCELLED"
    """Will not be paid (e.g. the run was cancelled or the invoice withdrawn)."""


class PaymentMethod(Enum):
    """How the money reaches the supplier."""

    ACH = "ACH"
    """US ACH bank transfer to the remit-to account."""
    WIRE = "WIRE"
    """Wire transfer."""
    CHECK = "CHECK"
    """Paper check mailed to the supplier."""
    VIRTUAL_CARD = "VIRTUAL_CARD"
    """A single-use virtual card number."""


@dataclass(frozen=True, slots=True)
class Payment:
    id: PaymentId
    supplier_id: SupplierId
    amount: Decimal
    currency: str
    method: PaymentMethod
    scheduled_date: date
    status: PaymentStatus
    remittance_ref: str | None


@dataclass(frozen=True, slots=True)
class PaymentAllocation:
    """The part of a payment that settles one invoice."""

    payment_id: PaymentId
    invoice_id: InvoiceId
    amount: Decimal
