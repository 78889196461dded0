"""The demo's payment side, played through the domain's own rules (pure: no I/O, no clock).

The generator hands over each invoice at the moment it was posted and the scheduler's sweep
picked it up; from there this module does what the services would have done, in time order,
with the same domain functions they call:

- scheduling (services/scheduling.py): `plan_payment` on the supplier's terms (discounts
  taken when worth it by policy), the invoice joining the open payment of its supplier,
  facility, pay date, currency and method (`method_for`), `lifecycle.schedule`;
- weekly payment runs per facility (services/payment_runs.py), proposed each Thursday for what
  falls due before the next one: holds checked first (`supplier_hold`: a supplier ON_HOLD or
  BLOCKED, a remit-to account changed within the review window), then `payment_runs.propose`,
  `approve` by people other than the proposer (two above the policy total) and `release`;
- release and confirmation (services/payment_release.py): each payment released, ordered
  from its facility's ERP and confirmed PAID the next morning, its invoices PAID and REMITTED
  at that moment (`lifecycle.pay`, `lifecycle.remit`), or failed with a reason code when the
  bank returned it.

The last week before the cutoff shows every stage: its first run is still PROPOSED, the
second APPROVED, the others RELEASED and paid (one payment of the first returned by the
bank). Finance holds one payment over
a dispute, and one supplier changed its remit-to account two days before that week's runs.
"""

import random
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from apgraph.domain import lifecycle, payment_runs, payments
from apgraph.domain.erp import payment_reference
from apgraph.domain.ids import (
    EntityKind,
    FacilityId,
    InvoiceId,
    PaymentId,
    PaymentRunId,
    SupplierId,
    numbered,
)
from apgraph.domain.invoices import Invoice, StatusChange
from apgraph.domain.lifecycle import Transition
from apgraph.domain.money import minor_units
from apgraph.domain.payment_runs import PaymentRun, PaymentRunStatus
from apgraph.domain.payments import (
    HoldCode,
    Payment,
    PaymentAllocation,
    PaymentExceptionCode,
    PaymentStatus,
)
from apgraph.domain.remittance import remittance_ref
from apgraph.domain.scheduling import (
    PaymentPlan,
    SchedulingRules,
    bank_fingerprint,
    join_payment,
    method_for,
    plan_payment,
    start_payment,
)
from apgraph.domain.suppliers import BankAccount, Supplier, SupplierStatus
from apgraph.domain.systems import ExternalSystem

DEMO_RULES = SchedulingRules(
    discount_min_annual_percent=Decimal(10),
    bank_change_review_days=10,
    two_approvers_above=Decimal("100000.00"),
)
"""The `payments` section of the shipped gateway.yaml, as the demo was paid under it."""

SCHEDULER = "apgraph.payments"  # services/scheduling.py and payment_release.py name it so
FINANCE = "finance.admin"
RUN_WEEKDAY = 3  # Thursday
_COVERED_DAYS = 6  # a run pays what falls due before the next one
_PROPOSED_AT = time(14, 0)
_APPROVED_AFTER = timedelta(hours=1)
_RELEASED_AFTER = timedelta(hours=3)
_CONFIRMED_AFTER = timedelta(hours=19)  # the bank settles overnight
_HELD_FOR = timedelta(days=21)  # suppliers ON_HOLD or BLOCKED went so three weeks ago
_ERP_ORDER_FIRST = 60_000_000  # seeded ERP payment orders; the simulators number from 70M
_RETURNED_SHARE = 0.015  # payments the bank returned (payment exceptions)
_DISPUTES = (
    "Disputed with the supplier: short shipment on one invoice",
    "Credit memo expected from the supplier before paying",
)


@dataclass(frozen=True, slots=True)
class Posted:
    """An invoice the scheduler's sweep found POSTED, with when, and its history's length."""

    invoice: Invoice
    swept_at: datetime
    history: int


@dataclass(frozen=True, slots=True)
class BankChange:
    """A supplier's remit-to account changed at `changed_at` (suppliers.bank_account_changed_at)."""

    supplier_id: SupplierId
    changed_at: datetime


@dataclass(frozen=True, slots=True)
class Settlement:
    invoices: Mapping[InvoiceId, Invoice]  # the invoices as payments left them
    changes: tuple[StatusChange, ...]
    payments: tuple[Payment, ...]
    allocations: tuple[PaymentAllocation, ...]
    runs: tuple[PaymentRun, ...]
    bank_changes: tuple[BankChange, ...]


def settle(
    posted: Sequence[Posted],
    *,
    suppliers: Sequence[Supplier],
    facilities: Sequence[FacilityId],
    erp_of: Mapping[FacilityId, ExternalSystem],
    cutoff: datetime,
    rng: random.Random,
    rules: SchedulingRules = DEMO_RULES,
) -> Settlement:
    """Everything the payment services did with `posted` before `cutoff`."""
    book = _Book(
        suppliers={s.id: s for s in suppliers},
        erp_of=erp_of,
        rules=rules,
        rng=rng,
        sequences={p.invoice.id: p.history for p in posted},
        invoices={p.invoice.id: p.invoice for p in posted},
        held_since=cutoff - _HELD_FOR,
    )
    waiting = deque(sorted(posted, key=lambda p: (p.swept_at, p.invoice.id)))
    days = _run_days(waiting[0].swept_at.date() if waiting else cutoff.date(), cutoff)
    last_day = days[-1] if days else None
    if last_day is not None:
        book.bank_change = _bank_change(waiting, book, last_day)
    for day in days:
        proposed_at = datetime.combine(day, _PROPOSED_AT, tzinfo=UTC)
        while waiting and waiting[0].swept_at < proposed_at:
            book.schedule(waiting.popleft())
        last = day == last_day
        if last:
            book.dispute(day)
        made = 0  # runs made this week
        for index, facility_id in enumerate(facilities):
            stage = _LAST_STAGES[min(made, 2)] if last else PaymentRunStatus.RELEASED
            at = proposed_at + timedelta(minutes=7 * index)
            made += book.run(facility_id, day, at, stage, first_returned=last and made == 2)
    for rest in waiting:
        book.schedule(rest)
    return Settlement(
        invoices=book.invoices,
        changes=tuple(book.changes),
        payments=tuple(book.payments[k] for k in sorted(book.payments)),
        allocations=tuple(book.allocations),
        runs=tuple(book.runs),
        bank_changes=(book.bank_change,) if book.bank_change else (),
    )


def _run_days(first: date, cutoff: datetime) -> list[date]:
    """Every Thursday from `first` whose runs were paid and confirmed before the cutoff."""
    day = first + timedelta(days=(RUN_WEEKDAY - first.weekday()) % 7)
    days = []
    while (
        datetime.combine(day, _PROPOSED_AT, tzinfo=UTC) + _RELEASED_AFTER + _CONFIRMED_AFTER
        < cutoff
    ):
        days.append(day)
        day += timedelta(days=7)
    return days


_LAST_STAGES = (PaymentRunStatus.PROPOSED, PaymentRunStatus.APPROVED, PaymentRunStatus.RELEASED)


def _bank_change(waiting: Sequence[Posted], book: "_Book", last_day: date) -> BankChange | None:
    """One active supplier with an ACH payment due in the last runs changed its account two
    days before them: the classic fraud pattern the review window is for."""
    first_due = last_day  # the run a week before paid what fell due by the day before
    last_due = last_day + timedelta(days=_COVERED_DAYS)
    proposed_at = datetime.combine(last_day, _PROPOSED_AT, tzinfo=UTC)
    candidates = sorted(
        {
            p.invoice.supplier_id
            for p in waiting
            if p.swept_at < proposed_at
            and book.suppliers[p.invoice.supplier_id].status is SupplierStatus.ACTIVE
            and book.suppliers[p.invoice.supplier_id].remit_to is not None
            and first_due <= book.plan(p).pay_date <= last_due
        }
    )
    if not candidates:
        return None
    changed_at = datetime.combine(last_day - timedelta(days=2), time(17, 12), tzinfo=UTC)
    return BankChange(book.rng.choice(candidates), changed_at)


@dataclass
class _Book:
    """The payment tables as the services keep them, and what happened to the invoices."""

    suppliers: Mapping[SupplierId, Supplier]
    erp_of: Mapping[FacilityId, ExternalSystem]
    rules: SchedulingRules
    rng: random.Random
    sequences: dict[InvoiceId, int]
    invoices: dict[InvoiceId, Invoice]
    held_since: datetime  # when the suppliers not ACTIVE now stopped being so
    bank_change: BankChange | None = None
    payments: dict[PaymentId, Payment] = field(default_factory=dict)
    members: dict[PaymentId, list[InvoiceId]] = field(default_factory=lambda: defaultdict(list))
    allocations: list[PaymentAllocation] = field(default_factory=list)
    runs: list[PaymentRun] = field(default_factory=list)
    changes: list[StatusChange] = field(default_factory=list)

    def plan(self, posted: Posted) -> PaymentPlan:
        supplier = self.suppliers[posted.invoice.supplier_id]
        return plan_payment(
            posted.invoice,
            terms=supplier.payment_terms,
            rules=self.rules,
            today=posted.swept_at.date(),
            places=minor_units(posted.invoice.currency),
        )

    # scheduling: services/scheduling.py's schedule_invoices

    def schedule(self, posted: Posted) -> None:
        invoice, at = posted.invoice, posted.swept_at
        supplier = self.suppliers[invoice.supplier_id]
        plan = self.plan(posted)
        method = method_for(supplier)
        payment = next(
            (
                p
                for p in self.payments.values()
                if p.supplier_id == invoice.supplier_id
                and p.facility_id == invoice.facility_id
                and p.scheduled_date == plan.pay_date
                and p.currency == invoice.currency
                and p.method is method
                and p.status is PaymentStatus.SCHEDULED
                and p.run_id is None
                and not p.held
            ),
            None,
        )
        if payment is None:
            payment_id = PaymentId(numbered(EntityKind.PAYMENT, len(self.payments) + 1))
            payment = start_payment(payment_id, invoice, plan, method)
        else:
            payment = join_payment(payment, plan)
        self.payments[payment.id] = payment
        self.members[payment.id].append(invoice.id)
        self.allocations.append(
            PaymentAllocation(payment.id, invoice.id, plan.amount, plan.discount)
        )
        moved = lifecycle.schedule(
            invoice, payment_id=payment.id, scheduled_date=plan.pay_date, at=at
        )
        self._record(moved, at, note="Scheduled for payment")

    # holds: services/payment_holds.py (finance's own) and payment_runs.py (_with_holds)

    def dispute(self, day: date) -> None:
        """Finance holds one payment due in this week's runs, the day before them."""
        due = day + timedelta(days=_COVERED_DAYS)
        open_ = [
            p
            for p in self.payments.values()
            if p.status is PaymentStatus.SCHEDULED
            and p.run_id is None
            and not p.held
            and p.scheduled_date <= due
            and self.suppliers[p.supplier_id].status is SupplierStatus.ACTIVE
            and (self.bank_change is None or p.supplier_id != self.bank_change.supplier_id)
        ]
        if open_:
            chosen = self.rng.choice(open_)
            reason = self.rng.choice(_DISPUTES)
            self.payments[chosen.id] = payments.hold(
                chosen, code=HoldCode.PAYMENT_HELD, reason=reason
            )

    def payee(self, supplier_id: SupplierId, at: datetime) -> tuple[Supplier, datetime | None]:
        """The supplier as it stood at `at`, and when its account last changed by then."""
        supplier = self.suppliers[supplier_id]
        if supplier.status is not SupplierStatus.ACTIVE and at < self.held_since:
            supplier = replace(supplier, status=SupplierStatus.ACTIVE)
        change = self.bank_change
        if change is None or change.supplier_id != supplier_id:
            return supplier, None
        if at < change.changed_at:
            return replace(supplier, remit_to=_former(supplier.remit_to)), None
        return supplier, change.changed_at

    def _with_holds(self, payment: Payment, at: datetime) -> Payment:
        supplier, changed_at = self.payee(payment.supplier_id, at)
        return payment_runs.with_holds(
            payment,
            supplier=supplier,
            bank_changed_at=changed_at,
            run_on=at.date(),
            rules=self.rules,
        )

    # runs: services/payment_runs.py

    def run(
        self,
        facility_id: FacilityId,
        day: date,
        at: datetime,
        stage: PaymentRunStatus,
        first_returned: bool,
    ) -> bool:
        """Proposes the facility's run of the day and takes it as far as `stage`; False when
        there was nothing to pay (the service refuses: NOTHING_TO_PAY)."""
        pay_date = day + timedelta(days=_COVERED_DAYS)
        due = [
            p
            for p in self.payments.values()
            if p.facility_id == facility_id
            and p.status is PaymentStatus.SCHEDULED
            and p.scheduled_date <= pay_date
            and p.run_id is None
        ]
        checked = [self._with_holds(p, at) for p in sorted(due, key=lambda p: p.id)]
        for payment in checked:
            self.payments[payment.id] = payment
        if all(p.held for p in checked):
            return False
        proposer, checker, second = (
            f"approver.{facility_id.lower()}",
            FINANCE,
            f"approver2.{facility_id.lower()}",
        )
        run, chosen = payment_runs.propose(
            PaymentRunId(numbered(EntityKind.PAYMENT_RUN, len(self.runs) + 1)),
            facility_id=facility_id,
            pay_date=pay_date,
            payments=checked,
            by=proposer,
            at=at,
            today=day,
            rules=self.rules,
        )
        for payment in chosen:
            supplier, _ = self.payee(payment.supplier_id, at)
            self.payments[payment.id] = replace(
                payment, bank_fingerprint=bank_fingerprint(supplier)
            )
        if stage is not PaymentRunStatus.PROPOSED:
            for approver in (checker, second)[: run.approvals_needed]:
                run = payment_runs.approve(run, by=approver)
        if stage is PaymentRunStatus.RELEASED:
            released_at = at + _RELEASED_AFTER
            released = payment_runs.release(run, by=checker, at=released_at)
            assert released is not None  # released once
            run = released
            for index, payment in enumerate(chosen):
                returned = (first_returned and index == 0) or self.rng.random() < _RETURNED_SHARE
                self._pay(self.payments[payment.id], released_at, returned=returned)
        self.runs.append(run)
        return True

    # release and confirmation: services/payment_runs.py and payment_release.py

    def _pay(self, payment: Payment, released_at: datetime, *, returned: bool) -> None:
        supplier, _ = self.payee(payment.supplier_id, released_at)
        released = payment_runs.released_payment(
            payment, supplier=supplier, at=released_at, rules=self.rules
        )
        self.payments[payment.id] = released
        if released.status is not PaymentStatus.RELEASED:
            return  # held or failed at release
        number = int(payment.id.removeprefix("PAY-"))
        assert payment.facility_id is not None
        erp = self.erp_of[payment.facility_id]
        sent = payments.sent(
            released, erp_reference=payment_reference(erp, str(_ERP_ORDER_FIRST + number))
        )
        if returned:
            self.payments[payment.id] = payments.fail(
                sent, code=PaymentExceptionCode.ACCOUNT_CLOSED
            )
            return
        confirmed_at = released_at + _CONFIRMED_AFTER
        paid = payments.confirm(sent, at=confirmed_at, remittance_ref=remittance_ref(payment.id))
        self.payments[payment.id] = paid
        for invoice_id in self.members[payment.id]:
            invoice = self.invoices[invoice_id]
            paid_step = lifecycle.pay(invoice, payment_id=paid.id, at=confirmed_at)
            remitted = lifecycle.remit(
                paid_step.invoice,
                payment_id=paid.id,
                remittance_ref=remittance_ref(paid.id),
                at=confirmed_at,
            )
            self._record(paid_step, confirmed_at)
            self._record(remitted, confirmed_at)

    def _record(self, transition: Transition, at: datetime, note: str | None = None) -> None:
        """services/recording.py's record_transitions: one status change per step."""
        invoice = transition.invoice
        for before, after in transition.steps:
            self.sequences[invoice.id] += 1
            self.changes.append(
                StatusChange(
                    invoice.id, self.sequences[invoice.id], at, before, after, SCHEDULER, note
                )
            )
        self.invoices[invoice.id] = invoice


def _former(account: BankAccount | None) -> BankAccount | None:
    """The account a supplier had before its change: another account at the same bank."""
    if account is None:
        return None
    return replace(account, account_number=account.account_number[::-1])
