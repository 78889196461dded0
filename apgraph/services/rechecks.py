"""The facts an invoice's validation rested on, checked again where the decision to post is
made: the approval that completes the set, `retryPosting` of an interrupted posting, the
re-match loop's clean match. An invoice can wait for days; a supplier blocked or a PO closed
meanwhile must stop it exactly as it would stop a new invoice.

The check runs in the unit of work that records the decision, on rows it share-locks
(`posting_facts`), so a concurrent block or close is seen or waits. A failure REJECTS the
invoice with the validation codes (lifecycle.refuse_posting says why REJECTED), books nothing
and leaves an `invoice.recheck` entry on the audit trail.
"""

from datetime import datetime

from apgraph.domain import lifecycle
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.invoices import Invoice
from apgraph.domain.lifecycle import Transition
from apgraph.domain.principal import Principal
from apgraph.domain.validation import recheck_before_posting
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.recording import audit

RECHECK = "invoice.recheck"


async def refusal_to_post(uow: UnitOfWork, invoice: Invoice, *, at: datetime) -> Transition | None:
    """The rejection to record instead of posting `invoice`, or None when it may post."""
    reasons = recheck_before_posting(invoice, await uow.invoices.posting_facts(invoice))
    return lifecycle.refuse_posting(invoice, reasons, at=at) if reasons else None


async def audit_refusal(
    uow: UnitOfWork,
    refused: Transition,
    *,
    principal: Principal,
    trace_id: str | None,
    at: datetime,
) -> None:
    """Who was about to post it, and the codes that stopped the posting."""
    codes = " ".join(dict.fromkeys(reason.code for reason in refused.reasons))
    await audit(
        uow,
        principal=principal,
        action=RECHECK,
        invoice=refused.invoice,
        outcome=AuditOutcome.DENIED,
        detail=f"{refused.before.value if refused.before else ''} → REJECTED {codes}".strip(),
        trace_id=trace_id,
        at=at,
    )
