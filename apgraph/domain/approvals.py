"""Who may decide on an invoice in EXCEPTION, and how many approvals it takes (DESIGN §4).

Exceptions are routed by facility + cost center + amount and escalate after an SLA. The
submitter of an invoice never approves it; above the policy amount two distinct approvers
must. Everything here is a pure function of the invoice, its cost center, the policy and now.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum

from apgraph.domain.facilities import CostCenter
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Approval, ApprovalDecision, Invoice


class ApprovalLevel(Enum):
    COST_CENTER = "COST_CENTER"  # the approvers the cost center names
    ESCALATION = "ESCALATION"  # the level above them (policy), e.g. the network's AP controllers


@dataclass(frozen=True, slots=True)
class ApprovalRules:
    """The `approvals` policy as plain values; amounts are in the invoice's currency."""

    two_approvers_above: Decimal  # a total strictly above it needs two distinct approvers
    escalate_above: Decimal  # a total strictly above it is the escalation level's alone
    escalate_after: timedelta  # the SLA: an exception waiting this long goes up a level
    escalation_approvers: tuple[str, ...]

    def approvals_needed(self, total: Decimal) -> int:
        return 2 if total > self.two_approvers_above else 1


@dataclass(frozen=True, slots=True)
class ApprovalRoute:
    level: ApprovalLevel
    approvers: tuple[str, ...]  # who may decide now; never the submitter
    approvals_needed: int  # distinct approvers
    escalates_at: datetime | None  # when the SLA runs out; None once escalated


@dataclass(frozen=True, slots=True)
class Assignment:
    """Whose queue an exception is in; `reassignException` moves it to another approver."""

    invoice_id: InvoiceId
    assignee: str
    assigned_by: str
    at: datetime
    reason: str | None = None


def route_exception(
    invoice: Invoice,
    cost_center: CostCenter,
    rules: ApprovalRules,
    *,
    waiting_since: datetime,
    now: datetime,
) -> ApprovalRoute:
    """Who may approve, reject, hold, release or reassign the exception now.

    Up to `escalate_above` the cost center's approvers decide; above it, the escalation level
    (the cost center's authority ends there). The escalation level joins the cost center's
    approvers once the exception has waited `escalate_after` since `waiting_since` (when it
    entered EXCEPTION; at exactly the deadline it has escalated). Whenever one level alone
    cannot supply the distinct approvers the amount needs, both decide together, so an
    exception is not left where nobody may approve it.
    """
    if cost_center.id != invoice.cost_center_id:
        raise ValueError(
            f"{invoice.id} is charged to {invoice.cost_center_id}, not {cost_center.id}"
        )
    needed = rules.approvals_needed(invoice.total)
    deadline = waiting_since + rules.escalate_after
    own = _eligible(cost_center.approvers, invoice)
    escalation = _eligible(rules.escalation_approvers, invoice)
    both = tuple(dict.fromkeys((*own, *escalation)))
    if invoice.total > rules.escalate_above:
        approvers = escalation if len(escalation) >= needed else both
        return ApprovalRoute(ApprovalLevel.ESCALATION, approvers, needed, None)
    if now >= deadline or len(own) < needed:
        return ApprovalRoute(ApprovalLevel.ESCALATION, both, needed, None)
    return ApprovalRoute(ApprovalLevel.COST_CENTER, own, needed, deadline)


def approved_by(decisions: Iterable[Approval], *, invoice: Invoice) -> tuple[str, ...]:
    """The distinct approvers who approved `invoice`, in order; a submitter's never counts."""
    return tuple(
        dict.fromkeys(
            decision.approver
            for decision in decisions
            if decision.invoice_id == invoice.id
            and decision.decision is ApprovalDecision.APPROVED
            and decision.approver != invoice.submitted_by
        )
    )


def _eligible(approvers: Iterable[str], invoice: Invoice) -> tuple[str, ...]:
    """Segregation of duties: the submitter is never among an invoice's approvers."""
    return tuple(dict.fromkeys(a for a in approvers if a != invoice.submitted_by))
