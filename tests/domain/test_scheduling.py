"""Scheduling a posted invoice: pay date by terms, discounts worth taking, holds."""

from datetime import UTC, date, datetime, timedelta

import pytest

from apgraph.domain.payments import HoldCode, PaymentMethod
from apgraph.domain.scheduling import (
    SchedulingRules,
    annual_return_percent,
    bank_fingerprint,
    method_for,
    plan_payment,
    supplier_hold,
)
from apgraph.domain.suppliers import BankAccount, PaymentTerms, SupplierStatus
from tests.domain.examples import INVOICE_DATE, d, invoice, supplier

RULES = SchedulingRules(
    discount_min_annual_percent=d(10), bank_change_review_days=10, two_approvers_above=d(1000)
)
TODAY = date(2026, 10, 22)  # two days after the invoice date
DUE = INVOICE_DATE + timedelta(days=30)


def test_two_ten_net_thirty_earns_about_37_percent_a_year():
    worth = annual_return_percent(d(2), discount_days=10, net_days=30)
    assert d("37.2") < worth < d("37.3")


def test_a_discount_worth_taking_is_paid_on_its_last_day_less_the_discount():
    posted = invoice(total=d("1082.50"), due_date=DUE)
    plan = plan_payment(posted, terms=PaymentTerms.NET30_2_10, rules=RULES, today=TODAY, places=2)
    assert plan.pay_date == INVOICE_DATE + timedelta(days=10)
    assert plan.discount == d("21.65")  # 2 % of 1082.50, half up
    assert plan.amount == d("1060.85")


@pytest.mark.parametrize(
    ("rules", "today", "why"),
    [
        (RULES.__class__(None, 10, d(1000)), TODAY, "the policy takes no discounts"),
        (RULES.__class__(d(40), 10, d(1000)), TODAY, "37 % a year is below the policy's 40 %"),
        (RULES, INVOICE_DATE + timedelta(days=11), "the discount window has closed"),
    ],
)
def test_a_discount_not_taken_pays_the_total_on_the_due_date(rules, today, why):
    posted = invoice(total=d("1082.50"), due_date=DUE)
    plan = plan_payment(posted, terms=PaymentTerms.NET30_2_10, rules=rules, today=today, places=2)
    assert (plan.pay_date, plan.amount, plan.discount) == (DUE, d("1082.50"), d(0)), why


def test_net_terms_pay_on_the_due_date_or_today_when_it_has_passed():
    posted = invoice(due_date=DUE)
    on_time = plan_payment(posted, terms=PaymentTerms.NET30, rules=RULES, today=TODAY, places=2)
    late = plan_payment(
        posted, terms=PaymentTerms.NET30, rules=RULES, today=DUE + timedelta(days=3), places=2
    )
    assert on_time.pay_date == DUE
    assert late.pay_date == DUE + timedelta(days=3)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (SupplierStatus.ON_HOLD, HoldCode.SUPPLIER_ON_HOLD),
        (SupplierStatus.BLOCKED, HoldCode.SUPPLIER_BLOCKED),
        (SupplierStatus.ONBOARDING, HoldCode.SUPPLIER_NOT_ACTIVE),
        (SupplierStatus.ACTIVE, None),
    ],
)
def test_a_supplier_that_is_not_active_holds_its_payments(status, code):
    hold = supplier_hold(supplier(status=status), bank_changed_at=None, run_on=DUE, rules=RULES)
    assert (hold.code if hold else None) is code


@pytest.mark.parametrize(
    ("changed_days_before_the_run", "held"), [(0, True), (10, True), (11, False), (-2, True)]
)
def test_a_bank_account_changed_close_to_the_pay_date_holds_for_review(
    changed_days_before_the_run, held
):
    changed = datetime.combine(DUE, datetime.min.time(), UTC) - timedelta(
        days=changed_days_before_the_run
    )
    hold = supplier_hold(supplier(), bank_changed_at=changed, run_on=DUE, rules=RULES)
    assert (hold is not None and hold.code is HoldCode.BANK_ACCOUNT_CHANGED) is held


def test_a_supplier_with_a_bank_account_is_paid_by_ach_else_by_check():
    account = BankAccount(bank_name="First", routing_number="071000013", account_number="1234567")
    assert method_for(supplier(remit_to=account)) is PaymentMethod.ACH
    assert method_for(supplier()) is PaymentMethod.CHECK


def test_a_bank_account_finance_reviewed_for_the_payment_holds_it_no_longer():
    account = BankAccount(bank_name="First", routing_number="071000013", account_number="1234567")
    changed = datetime.combine(DUE, datetime.min.time(), UTC)
    payee = supplier(remit_to=account)
    held = supplier_hold(payee, bank_changed_at=changed, run_on=DUE, rules=RULES)
    reviewed = supplier_hold(
        payee,
        bank_changed_at=changed,
        reviewed_account=bank_fingerprint(payee),
        run_on=DUE,
        rules=RULES,
    )
    assert held is not None
    assert reviewed is None


def test_the_fingerprint_of_a_remit_to_account_holds_no_bank_number():
    account = BankAccount(bank_name="First", routing_number="071000013", account_number="1234567")
    fingerprint = bank_fingerprint(supplier(remit_to=account))
    assert fingerprint is not None
    assert "071000013" not in fingerprint
    assert "1234567" not in fingerprint
    other = BankAccount(bank_name="First", routing_number="071000013", account_number="7654321")
    assert bank_fingerprint(supplier(remit_to=other)) != fingerprint
