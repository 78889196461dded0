"""Payments: money released to a supplier for one or more invoices, and the states it passes.

```
SCHEDULED ─(run released)─▶ RELEASED ─(ERP confirms)─▶ PAID
    ▲                          ├─(ERP down past retries)─▶ RELEASE_FAILED ─(replay)─▶ RELEASED
    └──(run cancelled)         └─(ERP rejects, account closed, bank changed)─▶ FAILED
```

A payment groups the POSTED invoices of one supplier at one facility due on one pay date
(and in one currency, by one method). A hold keeps it out of payment runs with its reason
visible; a FAILED payment is a payment exception with a reason code, in finance's queue.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, PaymentRunId, SupplierId
from apgraph.domain.problems import DomainError


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
    RELEASE_FAILED = "RELEASE_FAILED"
    """The ERP stayed down past every retry: a dead letter, ordered again by a replay."""
    FAILED = "FAILED"
    """A payment exception: the ERP refused it, the bank returned it, or the bank account
    changed since its run was approved (see exceptionCode)."""


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


class HoldCode(Enum):
    """Why a scheduled payment is kept out of payment runs."""

    SUPPLIER_ON_HOLD = "SUPPLIER_ON_HOLD"
    """The supplier is ON_HOLD; lifted by itself once the supplier is ACTIVE again."""
    SUPPLIER_BLOCKED = "SUPPLIER_BLOCKED"
    """The supplier is BLOCKED; lifted by itself once the supplier is ACTIVE again."""
    SUPPLIER_NOT_ACTIVE = "SUPPLIER_NOT_ACTIVE"
    """The supplier is still ONBOARDING; lifted by itself once it is ACTIVE."""
    PAYMENT_HELD = "PAYMENT_HELD"
    """Finance held it (e.g. a dispute on one of its invoices) until someone lifts the hold."""
    BANK_ACCOUNT_CHANGED = "BANK_ACCOUNT_CHANGED"
    """The remit-to account changed close to the pay date: held for review (a fraud control)
    until someone lifts the hold."""


class PaymentExceptionCode(Enum):
    """Why a released payment failed; the payment waits in finance's exception queue."""

    ERP_REJECTED = "ERP_REJECTED"
    """The ERP refused the payment order, or the bank returned the payment."""
    ACCOUNT_CLOSED = "ACCOUNT_CLOSED"
    """The bank returned the payment: the supplier's account is closed."""
    BANK_ACCOUNT_CHANGED = "BANK_ACCOUNT_CHANGED"
    """The remit-to account changed after the run was approved: not paid to the new one."""
    ERP_UNAVAILABLE = "ERP_UNAVAILABLE"
    """The ERP stayed down past every retry: replay it (retryPaymentRelease)."""


@dataclass(frozen=True, slots=True)
class Payment:
    id: PaymentId
    supplier_id: SupplierId
    amount: Decimal  # what is paid: the invoices' totals less the discounts taken
    currency: str
    method: PaymentMethod
    scheduled_date: date  # the pay date
    status: PaymentStatus
    remittance_ref: str | None
    facility_id: FacilityId | None = None  # None only for payments older than payment runs
    run_id: PaymentRunId | None = None
    discount: Decimal = Decimal("0.00")
    hold_code: HoldCode | None = None
    hold_reason: str | None = None
    erp_reference: str | None = None  # the ERP's payment number once it took the payment
    exception_code: PaymentExceptionCode | None = None
    released_at: datetime | None = None
    paid_at: datetime | None = None
    bank_fingerprint: str | None = None  # the remit-to account approved with the run

    @property
    def held(self) -> bool:
        return self.hold_code is not None


@dataclass(frozen=True, slots=True)
class PaymentAllocation:
    """The part of a payment that settles one invoice."""

    payment_id: PaymentId
    invoice_id: InvoiceId
    amount: Decimal  # paid for this invoice: its total less `discount`
    discount: Decimal = Decimal("0.00")


def _require(payment: Payment, allowed: set[PaymentStatus], command: str) -> None:
    if payment.status not in allowed:
        raise DomainError.of(
            ProblemCode.ILLEGAL_TRANSITION,
            f"cannot {command} {payment.id} while it is {payment.status.value}",
        )


def hold(payment: Payment, *, code: HoldCode, reason: str) -> Payment:
    """A scheduled payment, out of any run that has not been released, with why."""
    _require(payment, {PaymentStatus.SCHEDULED}, "hold")
    return replace(payment, hold_code=code, hold_reason=reason, run_id=None)


def lift_hold(payment: Payment) -> Payment:
    _require(payment, {PaymentStatus.SCHEDULED}, "release the hold on")
    if not payment.held:
        raise DomainError.of(ProblemCode.PAYMENT_NOT_HELD, f"{payment.id} is not on hold")
    return replace(payment, hold_code=None, hold_reason=None)


def release(payment: Payment, *, at: datetime) -> Payment:
    """SCHEDULED → RELEASED with its run; RELEASE_FAILED → RELEASED for a replay."""
    _require(payment, {PaymentStatus.SCHEDULED, PaymentStatus.RELEASE_FAILED}, "release")
    if payment.held:
        raise DomainError.of(
            ProblemCode.PAYMENT_ON_HOLD, f"{payment.id} is on hold: {payment.hold_reason}"
        )
    return replace(payment, status=PaymentStatus.RELEASED, released_at=at, exception_code=None)


def sent(payment: Payment, *, erp_reference: str) -> Payment:
    """The ERP took the payment; its confirmation follows."""
    _require(payment, {PaymentStatus.RELEASED}, "record the ERP's reference of")
    return replace(payment, erp_reference=erp_reference)


def release_failed(payment: Payment) -> Payment:
    """The ERP stayed down past every retry: a dead letter, replayed later under the same key."""
    _require(payment, {PaymentStatus.RELEASED, PaymentStatus.RELEASE_FAILED}, "fail")
    return replace(
        payment,
        status=PaymentStatus.RELEASE_FAILED,
        exception_code=PaymentExceptionCode.ERP_UNAVAILABLE,
    )


def fail(payment: Payment, *, code: PaymentExceptionCode) -> Payment:
    """A payment exception: the ERP refused it, or the money came back."""
    _require(payment, {PaymentStatus.RELEASED, PaymentStatus.SCHEDULED}, "fail")
    return replace(payment, status=PaymentStatus.FAILED, exception_code=code)


def confirm(payment: Payment, *, at: datetime, remittance_ref: str) -> Payment:
    """RELEASED → PAID once the ERP confirms; a second confirmation is refused, so it pays once."""
    if payment.status is PaymentStatus.PAID:
        raise DomainError.of(
            ProblemCode.PAYMENT_ALREADY_CONFIRMED, f"{payment.id} was confirmed already"
        )
    _require(payment, {PaymentStatus.RELEASED}, "confirm")
    return replace(payment, status=PaymentStatus.PAID, paid_at=at, remittance_ref=remittance_ref)


@dataclass(frozen=True, slots=True)
class ForecastLine:
    """What a supplier will be paid on one date, in one currency."""

    pay_date: date
    currency: str
    amount: Decimal
    payments: int
    held: int


OPEN = frozenset({PaymentStatus.SCHEDULED, PaymentStatus.RELEASED, PaymentStatus.RELEASE_FAILED})
"""Payments not paid yet and not failed: what a forecast counts."""


def forecast(open_payments: Sequence[Payment]) -> tuple[ForecastLine, ...]:
    """Open payments summed per pay date and currency, soonest first; held ones counted too
    (they are owed), and said to be held."""
    lines: dict[tuple[date, str], ForecastLine] = {}
    for payment in open_payments:
        if payment.status not in OPEN:
            continue
        key = (payment.scheduled_date, payment.currency)
        before = lines.get(key, ForecastLine(key[0], key[1], Decimal(0), 0, 0))
        lines[key] = replace(
            before,
            amount=before.amount + payment.amount,
            payments=before.payments + 1,
            held=before.held + (1 if payment.held else 0),
        )
    return tuple(lines[key] for key in sorted(lines))
