"""Dead letters: invoices whose posting failed past every retry. Each one is the dead letter
itself (POSTING_FAILED, with its `invoice.posting_failed` event); replaying posts it again
under its one posting key, so the ERP answers a repeat with the first document.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.principal import ALL_SCOPES, Principal, Role
from apgraph.services import approvals
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.reads import InvoiceFilter, PageRequest, Reads
from apgraph.services.ports.workflow import Workflow

REPLAYER = Principal(
    subject="apgraph.deadletters",
    roles=frozenset({Role.FINANCE_ADMIN}),
    scopes=frozenset(ALL_SCOPES),
)  # an operator's replay, named as such in the history and the audit trail
DEAD = InvoiceFilter(statuses=frozenset({InvoiceStatus.POSTING_FAILED}))


@dataclass(frozen=True, slots=True)
class ReplayReport:
    posted: list[InvoiceId] = field(default_factory=list)
    still_failing: list[tuple[InvoiceId, str]] = field(default_factory=list)  # (id, code)


async def dead_letters(*, reads: Reads, limit: int) -> Sequence[Invoice]:
    """The oldest `limit` invoices waiting for a replay."""
    return (await reads.invoices.page(DEAD, PageRequest(first=limit))).items


async def replay_dead_letters(
    *, reads: Reads, workflow: Workflow, clock: Clock, limit: int
) -> ReplayReport:
    """Replays the oldest `limit`, one at a time; one still failing does not stop the rest."""
    report = ReplayReport()
    for invoice in await dead_letters(reads=reads, limit=limit):
        outcome = await approvals.retry_posting(
            approvals.RetryPosting(invoice_id=InvoiceId(invoice.id)),
            principal=REPLAYER,
            workflow=workflow,
            reads=reads,
            clock=clock,
        )
        replayed = outcome.value
        if replayed is not None and replayed.status is InvoiceStatus.POSTED:
            report.posted.append(InvoiceId(invoice.id))
        else:
            code = outcome.problems[0].code.value if outcome.problems else "ERP_UNAVAILABLE"
            report.still_failing.append((InvoiceId(invoice.id), code))
    return report
