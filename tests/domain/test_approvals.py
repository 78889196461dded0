"""route_exception: who may decide on an exception, how many must approve, and when it escalates."""

from dataclasses import replace
from datetime import timedelta

import pytest

from apgraph.domain.approvals import ApprovalLevel, ApprovalRules, approved_by, route_exception
from apgraph.domain.invoices import Approval, ApprovalDecision, InvoiceStatus
from tests.domain.examples import NOW, SUBMITTER, cost_center, d, invoice

RULES = ApprovalRules(
    two_approvers_above=d("25000.00"),
    escalate_above=d("100000.00"),
    escalate_after=timedelta(hours=48),
    escalation_approvers=("finance.admin", "finance.controller"),
)
SURGERY = cost_center()  # approver.fac-0001 and approver2.fac-0001
ONE_APPROVER = cost_center(approvers=("approver.fac-0001",))
OWN = ("approver.fac-0001", "approver2.fac-0001")
ESCALATION = ("finance.admin", "finance.controller")


def route(total="1082.50", center=SURGERY, *, waited=timedelta(hours=1), **changes):
    exception = invoice(status=InvoiceStatus.EXCEPTION, total=d(total), **changes)
    return route_exception(exception, center, RULES, waiting_since=NOW - waited, now=NOW)


@pytest.mark.parametrize(
    ("total", "needed"),
    [("1082.50", 1), ("25000.00", 1), ("25000.01", 2), ("100000.00", 2)],
)
def test_above_the_policy_amount_two_distinct_approvers_are_needed(total, needed):
    assert route(total).approvals_needed == needed


def test_up_to_the_threshold_the_cost_centers_approvers_decide_until_the_sla():
    found = route("100000.00")
    assert (found.level, found.approvers) == (ApprovalLevel.COST_CENTER, OWN)
    assert found.escalates_at == NOW - timedelta(hours=1) + timedelta(hours=48)


def test_above_the_threshold_only_the_escalation_level_decides():
    found = route("100000.01")
    assert (found.level, found.approvers, found.escalates_at) == (
        ApprovalLevel.ESCALATION,
        ESCALATION,
        None,
    )


@pytest.mark.parametrize(
    ("waited", "escalated"),
    [
        (timedelta(hours=47, minutes=59), False),
        (timedelta(hours=48), True),
        (timedelta(days=5), True),
    ],
)
def test_after_the_sla_the_escalation_level_joins_the_cost_centers_approvers(waited, escalated):
    found = route(waited=waited)
    assert (found.level is ApprovalLevel.ESCALATION) is escalated
    assert found.approvers == ((*OWN, *ESCALATION) if escalated else OWN)


def test_the_submitter_is_never_among_the_approvers():
    # given an AP clerk who submitted an invoice and also approves for its cost center
    found = route(submitted_by="approver.fac-0001")
    assert found.approvers == ("approver2.fac-0001",)
    assert "finance.admin" not in route("200000", submitted_by="finance.admin").approvers


def test_a_cost_center_that_cannot_supply_two_approvers_brings_in_the_escalation_level():
    found = route("30000.00", ONE_APPROVER)
    assert found.approvals_needed == 2
    assert found.approvers == ("approver.fac-0001", *ESCALATION)
    assert found.level is ApprovalLevel.ESCALATION


def test_an_escalation_level_short_of_approvers_is_joined_by_the_cost_center():
    found = route("200000.00", submitted_by="finance.admin")
    assert found.approvers == (*OWN, "finance.controller")


def test_the_route_needs_the_invoices_own_cost_center():
    with pytest.raises(ValueError, match="is charged to"):
        route(center=cost_center(id="CC-0001-4420"))


def decision(approver, kind=ApprovalDecision.APPROVED, invoice_id="INV-00000001"):
    return Approval(invoice_id, approver, kind, NOW, None)


def test_approvals_count_each_approver_once_and_never_the_submitter():
    decisions = [
        decision("approver.fac-0001"),
        decision("approver.fac-0001"),
        decision("approver2.fac-0001", ApprovalDecision.HELD),
        decision(SUBMITTER),
        decision("finance.admin", invoice_id="INV-00000002"),
        decision("approver2.fac-0001"),
    ]
    assert approved_by(decisions, invoice=invoice()) == ("approver.fac-0001", "approver2.fac-0001")


def test_rules_count_approvals_from_the_invoice_total():
    assert RULES.approvals_needed(d("25000.00")) == 1
    assert replace(RULES, two_approvers_above=d(0)).approvals_needed(d("0.01")) == 2
