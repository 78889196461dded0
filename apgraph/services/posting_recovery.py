"""Postings a crash interrupted, resolved without an operator.

An invoice is committed MATCHED before its ERP call and recorded POSTED (or POSTING_FAILED)
after it, in the same request. A process killed in between leaves it MATCHED, the ERP
perhaps holding its document already. An invoice MATCHED for longer than `grace` (longer than
any posting attempt lasts) is taken as interrupted: its posting key is looked up in its ERP;
found, the invoice is recorded POSTED with that document; not found, it is posted under that
key as `retryPosting` would (facts re-checked first). The ERP connectors are idempotent on the
key and the recording unit of work re-checks the status under a row lock, so a run that races
a posting still under way, or another worker's run, never books twice. While the ERP cannot
answer, the invoice stays MATCHED and is tried again on the next run; meanwhile operators see
it in `apgraph deadletters list`, marked as a posting whose outcome is unknown.

The last approval of an exception is interrupted the same way, leaving the invoice approved in
EXCEPTION. Such an invoice is known by its posting ledger row, SENT longer than `grace` ago
and never settled, and is posted again as `retryPosting` would (its ledger row makes the
connectors look the key up first, so a document the ERP already holds is recorded, not
booked again).
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.principal import ALL_SCOPES, Principal, Role
from apgraph.services import approvals
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import ConnectorError, PostingLedger
from apgraph.services.ports.reads import InvoiceFilter, PageRequest, Reads
from apgraph.services.ports.workflow import Workflow
from apgraph.services.posting import post_and_record, posting_key_of

log = logging.getLogger("apgraph.posting_recovery")

RECOVERER = Principal(
    subject="apgraph.posting-recovery",
    roles=frozenset({Role.FINANCE_ADMIN}),
    scopes=frozenset(ALL_SCOPES),
)  # who completed the posting, in the history and the audit trail
MATCHED = InvoiceFilter(statuses=frozenset({InvoiceStatus.MATCHED}))


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    resolved: Mapping[InvoiceId, InvoiceStatus] = field(default_factory=dict)  # status after
    unknown: Sequence[InvoiceId] = ()  # the ERP could not say; tried again next run
    looked_at: int = 0  # MATCHED invoices in the batch, interrupted or not


async def interrupted_postings(
    *, reads: Reads, ledger: PostingLedger, now: datetime, grace: timedelta, limit: int
) -> tuple[Sequence[Invoice], int]:
    """The invoices among the oldest `limit` MATCHED ones that have not moved for `grace`,
    then the approved exceptions whose posting was sent over `grace` ago and never settled:
    their posting ended without a recorded outcome. Also how many MATCHED were looked at."""
    batch = (await reads.invoices.page(MATCHED, PageRequest(first=limit))).items
    last_change: dict[str, datetime] = {}
    for change in await reads.invoices.history_of([invoice.id for invoice in batch]):
        before = last_change.get(change.invoice_id, change.at)
        last_change[change.invoice_id] = max(change.at, before)
    stuck = [i for i in batch if now - last_change.get(i.id, i.received_at) >= grace]
    unsettled = await ledger.unsettled(
        status=InvoiceStatus.EXCEPTION, sent_before=now - grace, limit=limit
    )
    stuck += [
        invoice
        for invoice in await reads.invoices.get_many(unsettled)
        if invoice.status is InvoiceStatus.EXCEPTION  # still: it may have moved on since
    ]
    return stuck, len(batch)


async def resolve_interrupted_postings(
    *,
    workflow: Workflow,
    reads: Reads,
    ledger: PostingLedger,
    clock: Clock,
    grace: timedelta,
    batch_size: int = 50,
) -> RecoveryReport:
    """Looks up, then completes or posts, each interrupted posting; `reads` sees every facility."""
    stuck, looked_at = await interrupted_postings(
        reads=reads, ledger=ledger, now=clock.now(), grace=grace, limit=batch_size
    )
    resolved: dict[InvoiceId, InvoiceStatus] = {}
    unknown: list[InvoiceId] = []
    for invoice in stuck:
        if invoice.status is InvoiceStatus.EXCEPTION:
            status = await _post_again(invoice, workflow=workflow, reads=reads, clock=clock)
        else:
            status = await _resolve(invoice, workflow=workflow, reads=reads, clock=clock)
        if status is None:
            unknown.append(InvoiceId(invoice.id))
        else:
            resolved[InvoiceId(invoice.id)] = status
    return RecoveryReport(resolved, unknown, looked_at)


async def _resolve(
    invoice: Invoice, *, workflow: Workflow, reads: Reads, clock: Clock
) -> InvoiceStatus | None:
    """The invoice's status afterwards; None while its ERP cannot say whether it holds it."""
    async with workflow.unit_of_work() as uow:
        posting_key = await posting_key_of(uow, invoice.id)
    try:
        document = await workflow.connectors.erp.find_posting(invoice, idempotency_key=posting_key)
    except ConnectorError as error:
        log.warning("posting of %s interrupted, outcome still unknown: %s", invoice.id, error)
        return None
    if document is not None:
        # booked before the crash: record it (the connectors answer a repeat with this document)
        log.warning("posting of %s interrupted; the ERP holds %s", invoice.id, document.reference)
        completed = await post_and_record(
            invoice,
            posting_key=posting_key,
            route=None,
            workflow=workflow,
            principal=RECOVERER,
            clock=clock,
        )
        return completed.status
    log.warning("posting of %s interrupted before the ERP booked it; posting it now", invoice.id)
    return await _post_again(invoice, workflow=workflow, reads=reads, clock=clock)


async def _post_again(
    invoice: Invoice, *, workflow: Workflow, reads: Reads, clock: Clock
) -> InvoiceStatus | None:
    """As `retryPosting` would; None when it could not be done now (tried again next run)."""
    outcome = await approvals.retry_posting(
        approvals.RetryPosting(invoice_id=InvoiceId(invoice.id)),
        principal=RECOVERER,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )
    return outcome.value.status if outcome.value is not None else None


@dataclass(frozen=True)
class PostingRecovery:
    """The recovery loop of one process; with several workers each runs one, and the ERP's
    idempotency on the posting key plus the recording row lock keep each booking single."""

    workflow: Workflow
    reads: Reads  # unscoped
    ledger: PostingLedger
    clock: Clock
    grace: timedelta
    batch_size: int = 50

    async def run_once(self) -> RecoveryReport:
        return await resolve_interrupted_postings(
            workflow=self.workflow,
            reads=self.reads,
            ledger=self.ledger,
            clock=self.clock,
            grace=self.grace,
            batch_size=self.batch_size,
        )

    async def run_until(self, stop: asyncio.Event, *, interval: float) -> None:
        """At start, then every `interval` seconds (back to back while batches come full)."""

        async def more() -> bool:
            report = await self.run_once()
            return not report.unknown and len(report.resolved) >= self.batch_size

        await repeat_until(stop, more, interval=interval)
