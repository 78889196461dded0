"""When an exception's SLA has run out, and whom escalating it adds (DESIGN §4).

Pure: the invoice, its cost center, the approvals policy, when it entered EXCEPTION and now.
"""

from collections.abc import Sequence
from datetime import datetime

from apgraph.domain.approvals import ApprovalLevel, ApprovalRules, route_exception
from apgraph.domain.facilities import CostCenter
from apgraph.domain.invoices import Invoice, InvoiceStatus, StatusChange


def approvers_added_by_escalation(
    invoice: Invoice,
    cost_center: CostCenter,
    rules: ApprovalRules,
    *,
    waiting_since: datetime,
    now: datetime,
) -> tuple[str, ...]:
    """The approvers the SLA's running out adds to the exception's route; empty while the SLA
    runs, and for an exception routed to the escalation level from the start (its amount, or
    too few cost-center approvers): time changes nothing for those."""
    at_entry = route_exception(
        invoice, cost_center, rules, waiting_since=waiting_since, now=waiting_since
    )
    if at_entry.level is ApprovalLevel.ESCALATION:
        return ()
    current = route_exception(invoice, cost_center, rules, waiting_since=waiting_since, now=now)
    if current.level is not ApprovalLevel.ESCALATION:
        return ()
    return tuple(a for a in current.approvers if a not in at_entry.approvers)


def waiting_since(invoice: Invoice, history: Sequence[StatusChange]) -> datetime:
    """When the invoice last entered EXCEPTION (a release from hold enters it again): the SLA
    runs from there. `history`: its status changes, oldest first."""
    entered = [change.at for change in history if change.to_status is InvoiceStatus.EXCEPTION]
    return entered[-1] if entered else invoice.received_at
