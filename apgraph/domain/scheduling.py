"""When a posted invoice is paid, how much, and what keeps its payment out of a run.

Pure: the supplier's terms, the policy and today in; a pay date, an amount and holds out.
"""

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from apgraph.domain.ids import PaymentId
from apgraph.domain.invoices import Invoice
from apgraph.domain.money import round_half_up
from apgraph.domain.payments import HoldCode, Payment, PaymentMethod, PaymentStatus
from apgraph.domain.suppliers import PaymentTerms, Supplier, SupplierStatus

DAYS_PER_YEAR = Decimal(365)


@dataclass(frozen=True, slots=True)
class SchedulingRules:
    """The `payments` policy as the domain takes it."""

    # a discount is taken when paying early earns at least this much a year ("10" = 10 %);
    # None: never take discounts
    discount_min_annual_percent: Decimal | None
    bank_change_review_days: int  # a remit-to change this close to a pay date holds payments
    two_approvers_above: Decimal  # a run total strictly above it needs two distinct approvers

    def approvals_needed(self, total: Decimal) -> int:
        return 2 if total > self.two_approvers_above else 1


@dataclass(frozen=True, slots=True)
class PaymentPlan:
    """How one invoice will be paid."""

    pay_date: date
    amount: Decimal  # the total less the discount
    discount: Decimal


def annual_return_percent(percent: Decimal, *, discount_days: int, net_days: int) -> Decimal:
    """What paying `net − discount` days early earns a year, in percent: 2/10 net 30 ≈ 37.2."""
    early = max(net_days - discount_days, 1)
    rate = percent / (100 - percent)
    return rate * DAYS_PER_YEAR / early * 100


def plan_payment(
    invoice: Invoice, *, terms: PaymentTerms, rules: SchedulingRules, today: date, places: int
) -> PaymentPlan:
    """Paid on the discount date when the terms offer a discount worth taking and that date
    is still ahead (today counts); otherwise on the due date, or today when that has passed.

    The discount is a percentage of the total, rounded half up to the currency's places.
    """
    offer = terms.discount
    if offer is not None and rules.discount_min_annual_percent is not None:
        worth = annual_return_percent(offer.percent, discount_days=offer.days, net_days=terms.days)
        last_day = invoice.invoice_date + timedelta(days=offer.days)
        if worth >= rules.discount_min_annual_percent and last_day >= today:
            discount = round_half_up(invoice.total * offer.percent / 100, places)
            return PaymentPlan(
                pay_date=last_day,
                amount=invoice.total - discount,
                discount=discount,
            )
    return PaymentPlan(
        pay_date=max(invoice.due_date, today), amount=invoice.total, discount=Decimal(0)
    )


def start_payment(
    payment_id: PaymentId, invoice: Invoice, plan: PaymentPlan, method: PaymentMethod
) -> Payment:
    """The payment an invoice starts when its group (supplier, facility, pay date, currency,
    method) has no open one."""
    return Payment(
        id=payment_id,
        supplier_id=invoice.supplier_id,
        amount=plan.amount,
        currency=invoice.currency,
        method=method,
        scheduled_date=plan.pay_date,
        status=PaymentStatus.SCHEDULED,
        remittance_ref=None,
        facility_id=invoice.facility_id,
        discount=plan.discount,
    )


def join_payment(payment: Payment, plan: PaymentPlan) -> Payment:
    """The group's open payment with one more invoice in it."""
    return replace(
        payment, amount=payment.amount + plan.amount, discount=payment.discount + plan.discount
    )


def method_for(supplier: Supplier) -> PaymentMethod:
    """ACH to the remit-to account on file; a check when there is none."""
    return PaymentMethod.ACH if supplier.remit_to is not None else PaymentMethod.CHECK


def bank_fingerprint(supplier: Supplier) -> str | None:
    """What identifies the remit-to account: compared at release with what the run approved.

    A digest, never the numbers: it is stored with the payment, and bank numbers are sealed
    at rest (issue 17). Equality is all it is used for.
    """
    account = supplier.remit_to
    if account is None:
        return None
    text = f"apgraph.remit-to.v1:{account.routing_number}:{account.account_number}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Hold:
    code: HoldCode
    reason: str


_STATUS_HOLDS = {
    SupplierStatus.ON_HOLD: HoldCode.SUPPLIER_ON_HOLD,
    SupplierStatus.BLOCKED: HoldCode.SUPPLIER_BLOCKED,
    SupplierStatus.ONBOARDING: HoldCode.SUPPLIER_NOT_ACTIVE,
}


def supplier_hold(
    supplier: Supplier,
    *,
    bank_changed_at: datetime | None,
    reviewed_account: str | None = None,
    run_on: date,
    rules: SchedulingRules,
) -> Hold | None:
    """Why the supplier's payments may not go out in a run made on `run_on`, if they may not.

    A status other than ACTIVE holds them; so does a remit-to account changed within
    `bank_change_review_days` before the run (or since), the classic AP fraud: someone
    "updates" the bank details just before a run. A payment whose account finance reviewed
    (`reviewed_account`, its `bank_fingerprint`) is not held again for it.
    """
    code = _STATUS_HOLDS.get(supplier.status)
    if code is not None:
        return Hold(code, f"{supplier.id} is {supplier.status.value}")
    cleared = reviewed_account is not None and bank_fingerprint(supplier) == reviewed_account
    if bank_changed_at is not None and not cleared:
        window_start = run_on - timedelta(days=rules.bank_change_review_days)
        if bank_changed_at.date() >= window_start:
            return Hold(
                HoldCode.BANK_ACCOUNT_CHANGED,
                f"{supplier.id}'s remit-to account changed on {bank_changed_at.date()}: review",
            )
    return None
