"""approvers_added_by_escalation and waiting_since: when the SLA adds approvers, and whom."""

from datetime import timedelta

import pytest

from apgraph.domain.approvals import ApprovalRules
from apgraph.domain.escalation import approvers_added_by_escalation, waiting_since
from apgraph.domain.invoices import InvoiceStatus, StatusChange
from tests.domain.examples import NOW, cost_center, d, invoice

RULES = ApprovalRules(
    two_approvers_above=d("25000.00"),
    escalate_above=d("100000.00"),
    escalate_after=timedelta(hours=48),
    escalation_approvers=("finance.admin", "finance.controller"),
)
ESCALATION = ("finance.admin", "finance.controller")


def added(total: str = "1082.50", *, waited: timedelta, center=None) -> tuple[str, ...]:
    exception = invoice(status=InvoiceStatus.EXCEPTION, total=d(total))
    return approvers_added_by_escalation(
        exception, center or cost_center(), RULES, waiting_since=NOW - waited, now=NOW
    )


@pytest.mark.parametrize(
    ("waited", "expected"),
    [
        (timedelta(hours=47, minutes=59, seconds=59), ()),
        (timedelta(hours=48), ESCALATION),  # at exactly the deadline it has escalated
        (timedelta(days=30), ESCALATION),
    ],
)
def test_the_escalation_level_is_added_once_the_sla_has_run_out(waited, expected):
    assert added(waited=waited) == expected


def test_an_exception_routed_to_the_escalation_level_by_its_amount_gains_nobody():
    assert added("100000.01", waited=timedelta(days=30)) == ()


def test_an_exception_whose_cost_center_cannot_approve_alone_gains_nobody():
    # two approvals needed, one cost-center approver: both levels decide from the start
    lonely = cost_center(approvers=("approver.fac-0001",))
    assert added("25000.01", waited=timedelta(days=30), center=lonely) == ()


def test_the_sla_runs_from_the_last_time_the_invoice_entered_exception():
    exception = invoice(status=InvoiceStatus.EXCEPTION)
    entered, released = NOW - timedelta(days=5), NOW - timedelta(hours=2)
    S = InvoiceStatus
    history = [
        StatusChange(exception.id, 1, entered, S.MATCHED, S.EXCEPTION, "apgraph", None),
        StatusChange(exception.id, 2, entered, S.EXCEPTION, S.ON_HOLD, "approver", "why"),
        StatusChange(exception.id, 3, released, S.ON_HOLD, S.EXCEPTION, "approver", None),
    ]
    assert waiting_since(exception, history) == released
