"""Payment runs: the scheduled payments of one facility due by a pay date, under maker–checker.

```
PROPOSED ─approve (all the approvals needed)─▶ APPROVED ─release─▶ RELEASED
    └───────────────cancel──────────────────────────┘─▶ CANCELLED
```

Segregation of duties is not a knob: the proposer never approves nor releases its run, and
above the policy total two distinct approvers must approve before anyone may release it.
Releasing a RELEASED run again changes nothing, so a repeated release pays once.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from apgraph.domain import payments
from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import FacilityId, PaymentRunId
from apgraph.domain.payments import HoldCode, Payment, PaymentExceptionCode, PaymentStatus
from apgraph.domain.problems import DomainError
from apgraph.domain.scheduling import SchedulingRules, bank_fingerprint, supplier_hold
from apgraph.domain.suppliers import Supplier


class PaymentRunStatus(Enum):
    """Where a payment run stands."""

    PROPOSED = "PROPOSED"
    """Waiting for its approvals (never its proposer's)."""
    APPROVED = "APPROVED"
    """Every approval it needs is in: it may be released (never by its proposer)."""
    RELEASED = "RELEASED"
    """Its payments went to the facility's ERP."""
    CANCELLED = "CANCELLED"
    """Cancelled before release; its payments wait for the next run."""


@dataclass(frozen=True, slots=True)
class PaymentRun:
    id: PaymentRunId
    facility_id: FacilityId
    pay_date: date
    status: PaymentRunStatus
    currency: str
    total: Decimal
    payment_count: int
    proposed_by: str
    proposed_at: datetime
    approvals_needed: int
    approvers: tuple[str, ...] = ()
    released_by: str | None = None
    released_at: datetime | None = None


STATUS_HOLDS = frozenset(
    {HoldCode.SUPPLIER_ON_HOLD, HoldCode.SUPPLIER_BLOCKED, HoldCode.SUPPLIER_NOT_ACTIVE}
)
"""Holds lifted by themselves once the supplier is ACTIVE again; the others need a person."""


def with_holds(
    payment: Payment,
    *,
    supplier: Supplier,
    bank_changed_at: datetime | None,
    run_on: date,
    rules: SchedulingRules,
) -> Payment:
    """The payment with the holds of a run made on `run_on`: supplier-status holds come and
    go with the supplier's status; a bank-change or finance hold stays until someone lifts it."""
    if payment.hold_code in STATUS_HOLDS:
        payment = replace(payment, hold_code=None, hold_reason=None)
    if payment.held:
        return payment
    hold = supplier_hold(
        supplier,
        bank_changed_at=bank_changed_at,
        reviewed_account=payment.bank_fingerprint,
        run_on=run_on,
        rules=rules,
    )
    if hold is None:
        return payment
    return payments.hold(payment, code=hold.code, reason=hold.reason)


def released_payment(
    payment: Payment, *, supplier: Supplier, at: datetime, rules: SchedulingRules
) -> Payment:
    """A payment of a run being released, checked once more: a supplier gone on hold since
    takes it out of the run (held, with why); a remit-to account other than the one approved
    makes it a payment exception (BANK_ACCOUNT_CHANGED) instead of paying the new account."""
    status_hold = supplier_hold(supplier, bank_changed_at=None, run_on=at.date(), rules=rules)
    if status_hold is not None:
        return payments.hold(payment, code=status_hold.code, reason=status_hold.reason)
    if bank_fingerprint(supplier) != payment.bank_fingerprint:
        return payments.fail(payment, code=PaymentExceptionCode.BANK_ACCOUNT_CHANGED)
    return payments.release(payment, at=at)


def payable(payment: Payment, *, facility_id: FacilityId, pay_date: date) -> bool:
    """Scheduled at the facility, due by the pay date, in no run and on no hold."""
    return (
        payment.status is PaymentStatus.SCHEDULED
        and payment.facility_id == facility_id
        and payment.scheduled_date <= pay_date
        and payment.run_id is None
        and not payment.held
    )


def propose(
    run_id: PaymentRunId,
    *,
    facility_id: FacilityId,
    pay_date: date,
    payments: Sequence[Payment],
    by: str,
    at: datetime,
    today: date,
    rules: SchedulingRules,
) -> tuple[PaymentRun, tuple[Payment, ...]]:
    """The run and its payments (each now in the run). `payments` must all be `payable`
    and in one currency; the service picks them."""
    if pay_date < today:
        raise DomainError.of(ProblemCode.PAY_DATE_IN_PAST, f"{pay_date} is before {today}")
    chosen = [p for p in payments if payable(p, facility_id=facility_id, pay_date=pay_date)]
    if not chosen:
        raise DomainError.of(
            ProblemCode.NOTHING_TO_PAY, f"nothing of {facility_id} is payable by {pay_date}"
        )
    currencies = {p.currency for p in chosen}
    if len(currencies) != 1:
        raise ValueError(f"one currency per run, got {sorted(currencies)}")
    total = sum((p.amount for p in chosen), Decimal(0))
    run = PaymentRun(
        id=run_id,
        facility_id=facility_id,
        pay_date=pay_date,
        status=PaymentRunStatus.PROPOSED,
        currency=chosen[0].currency,
        total=total,
        payment_count=len(chosen),
        proposed_by=by,
        proposed_at=at,
        approvals_needed=rules.approvals_needed(total),
    )
    return run, tuple(replace(p, run_id=run_id) for p in chosen)


def approve(run: PaymentRun, *, by: str) -> PaymentRun:
    """One approval; the run is APPROVED once it has as many as it needs."""
    _require(run, {PaymentRunStatus.PROPOSED}, "approve")
    if by == run.proposed_by:
        raise DomainError.of(ProblemCode.PROPOSER_CANNOT_APPROVE, f"{by} proposed {run.id}")
    if by in run.approvers:
        raise DomainError.of(
            ProblemCode.ALREADY_APPROVED_BY_YOU,
            f"{by} approved {run.id} already; the next approval is someone else's",
        )
    approvers = (*run.approvers, by)
    done = len(approvers) >= run.approvals_needed
    status = PaymentRunStatus.APPROVED if done else PaymentRunStatus.PROPOSED
    return replace(run, approvers=approvers, status=status)


def release(run: PaymentRun, *, by: str, at: datetime) -> PaymentRun | None:
    """The run RELEASED; None when it was released already (a repeat changes nothing)."""
    if run.status is PaymentRunStatus.RELEASED:
        return None
    if by == run.proposed_by:
        raise DomainError.of(ProblemCode.PROPOSER_CANNOT_RELEASE, f"{by} proposed {run.id}")
    if run.status is PaymentRunStatus.PROPOSED and run.approvers:
        raise DomainError.of(
            ProblemCode.SECOND_APPROVER_REQUIRED,
            f"{run.id} needs {run.approvals_needed} distinct approvers; "
            f"approved by {', '.join(run.approvers)}",
        )
    if run.status is PaymentRunStatus.PROPOSED:
        raise DomainError.of(ProblemCode.RUN_NOT_APPROVED, f"{run.id} is not approved yet")
    _require(run, {PaymentRunStatus.APPROVED}, "release")
    return replace(run, status=PaymentRunStatus.RELEASED, released_by=by, released_at=at)


def cancel(run: PaymentRun) -> PaymentRun:
    """Before release only; its payments go back to being scheduled."""
    _require(run, {PaymentRunStatus.PROPOSED, PaymentRunStatus.APPROVED}, "cancel")
    return replace(run, status=PaymentRunStatus.CANCELLED)


def _require(run: PaymentRun, allowed: set[PaymentRunStatus], command: str) -> None:
    if run.status not in allowed:
        raise DomainError.of(
            ProblemCode.ILLEGAL_TRANSITION,
            f"cannot {command} {run.id} while it is {run.status.value}",
        )
