"""Payment runs under maker–checker: propose, approve, release, and the payments' states."""

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from apgraph.domain import payment_runs, payments
from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import FacilityId, PaymentId, PaymentRunId, SupplierId
from apgraph.domain.payment_runs import PaymentRunStatus
from apgraph.domain.payments import HoldCode, Payment, PaymentMethod, PaymentStatus
from apgraph.domain.problems import DomainError
from apgraph.domain.scheduling import SchedulingRules
from tests.domain.examples import d

FACILITY = FacilityId("FAC-0001")
TODAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
RULES = SchedulingRules(
    discount_min_annual_percent=None, bank_change_review_days=10, two_approvers_above=d(1000)
)
RUN = PaymentRunId("RUN-00000001")


def payment(number: int, amount: str = "100.00", **changes: object) -> Payment:
    base = Payment(
        id=PaymentId(f"PAY-{number:08d}"),
        supplier_id=SupplierId("SUP-000001"),
        amount=d(amount),
        currency="USD",
        method=PaymentMethod.ACH,
        scheduled_date=TODAY,
        status=PaymentStatus.SCHEDULED,
        remittance_ref=None,
        facility_id=FACILITY,
    )
    return replace(base, **changes)


def refused(code, call, *args, **kwargs):
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert error.value.problem.code is code


def propose(*candidates: Payment, pay_date: date = TODAY):
    return payment_runs.propose(
        RUN,
        facility_id=FACILITY,
        pay_date=pay_date,
        payments=candidates,
        by="maker",
        at=NOW,
        today=TODAY,
        rules=RULES,
    )


def test_a_run_takes_the_due_unheld_payments_of_its_facility():
    due, later = payment(1), payment(2, scheduled_date=date(2026, 12, 1))
    held = payment(3, hold_code=HoldCode.PAYMENT_HELD, hold_reason="dispute")
    elsewhere = payment(4, facility_id=FacilityId("FAC-0002"))
    run, chosen = propose(due, later, held, elsewhere)
    assert [p.id for p in chosen] == [due.id]
    assert chosen[0].run_id == RUN
    assert (run.total, run.payment_count, run.approvals_needed) == (d("100.00"), 1, 1)


def test_a_run_cannot_pay_in_the_past_nor_pay_nothing():
    refused(ProblemCode.PAY_DATE_IN_PAST, propose, payment(1), pay_date=date(2026, 11, 1))
    refused(ProblemCode.NOTHING_TO_PAY, propose, payment(1, hold_code=HoldCode.PAYMENT_HELD))


def test_the_proposer_neither_approves_nor_releases_the_run():
    run, _ = propose(payment(1))
    refused(ProblemCode.PROPOSER_CANNOT_APPROVE, payment_runs.approve, run, by="maker")
    approved = payment_runs.approve(run, by="checker")
    refused(ProblemCode.PROPOSER_CANNOT_RELEASE, payment_runs.release, approved, by="maker", at=NOW)


def test_an_unapproved_run_is_not_released():
    run, _ = propose(payment(1))
    refused(ProblemCode.RUN_NOT_APPROVED, payment_runs.release, run, by="checker", at=NOW)


def test_above_the_threshold_two_distinct_approvers_come_before_release():
    run, _ = propose(payment(1, "600.00"), payment(2, "600.00"))
    assert run.approvals_needed == 2
    once = payment_runs.approve(run, by="checker")
    assert once.status is PaymentRunStatus.PROPOSED
    refused(ProblemCode.ALREADY_APPROVED_BY_YOU, payment_runs.approve, once, by="checker")
    refused(ProblemCode.SECOND_APPROVER_REQUIRED, payment_runs.release, once, by="x", at=NOW)
    twice = payment_runs.approve(once, by="second")
    released = payment_runs.release(twice, by="checker", at=NOW)
    assert released is not None
    assert released.status is PaymentRunStatus.RELEASED


def test_releasing_a_released_run_again_changes_nothing():
    run, _ = propose(payment(1))
    released = payment_runs.release(payment_runs.approve(run, by="checker"), by="checker", at=NOW)
    assert released is not None
    assert payment_runs.release(released, by="someone", at=NOW) is None


def test_a_payment_is_confirmed_once():
    released = payments.sent(payments.release(payment(1), at=NOW), erp_reference="PMT1")
    paid = payments.confirm(released, at=NOW, remittance_ref="RA-1")
    assert paid.status is PaymentStatus.PAID
    again = ProblemCode.PAYMENT_ALREADY_CONFIRMED
    refused(again, payments.confirm, paid, at=NOW, remittance_ref="x")


def test_a_held_payment_is_not_released():
    held = payments.hold(payment(1, run_id=RUN), code=HoldCode.PAYMENT_HELD, reason="dispute")
    assert held.run_id is None
    refused(ProblemCode.PAYMENT_ON_HOLD, payments.release, held, at=NOW)
    assert payments.release(payments.lift_hold(held), at=NOW).status is PaymentStatus.RELEASED


def test_a_release_that_fails_past_every_retry_is_replayed_and_paid():
    failed = payments.release_failed(payments.release(payment(1), at=NOW))
    assert failed.status is PaymentStatus.RELEASE_FAILED
    again = payments.release(failed, at=NOW)
    assert (again.status, again.exception_code) == (PaymentStatus.RELEASED, None)
