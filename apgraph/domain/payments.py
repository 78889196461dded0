"""Payments: money released to a supplier for one or more invoices."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import InvoiceId, PaymentId, SupplierId


class PaymentStatus(Enum):
    SCHEDULED = "SCHEDULED"
    RELEASED = "RELEASED"
    PAID = "PAID"
    CANCELLED = "CANCELLED"


class PaymentMethod(Enum):
    ACH = "ACH"
    WIRE = "WIRE"
    CHECK = "CHECK"
    VIRTUAL_CARD = "VIRTUAL_CARD"


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
