"""The escalation loop: an exception nobody acted on within the approvals SLA goes up a level.

Who may decide is always computed from the clock (`route_exception`: after the SLA the
escalation level joins the cost center's approvers), so escalating changes no permission; it
makes the change known, exactly once per stay in EXCEPTION: an `invoice.escalated` event in
the outbox (for the escalation level's queue and notifications) and an audit entry, in one
unit of work that locks the invoice and looks for an earlier escalation first, so two
workers escalate an invoice once between them. Time is the caller's `now`, never the wall's.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from apgraph.domain.audit import AuditOutcome
from apgraph.domain.escalation import approvers_added_by_escalation, waiting_since
from apgraph.domain.events import InvoiceEscalated
from apgraph.domain.facilities import CostCenter
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Invoice, InvoiceStatus, StatusChange
from apgraph.domain.principal import Principal
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.reads import InvoiceFilter, PageRequest, Reads
from apgraph.services.ports.workflow import Workflow
from apgraph.services.recording import audit

ESCALATOR = Principal(
    subject="apgraph.escalation", roles=frozenset(), scopes=frozenset(), facility_ids=frozenset()
)  # who escalated, in the audit trail
OPEN_EXCEPTIONS = InvoiceFilter(statuses=frozenset({InvoiceStatus.EXCEPTION}))


@dataclass(frozen=True, slots=True)
class EscalationReport:
    escalated: dict[InvoiceId, tuple[str, ...]] = field(default_factory=dict)  # → added


async def escalate_overdue(
    *, now: datetime, workflow: Workflow, reads: Reads, batch_size: int = 200
) -> EscalationReport:
    """Escalates every exception whose SLA ran out by `now` and that was not escalated since it
    entered EXCEPTION. Idempotent: a second run at any later `now` adds nothing.

    Exceptions routed to the escalation level from the start (by amount) are not escalated
    again. `reads` must see every facility. Invoices ON_HOLD are being acted on: skipped.
    """
    escalated: dict[InvoiceId, tuple[str, ...]] = {}
    after: str | None = None
    while True:
        page = await reads.invoices.page(OPEN_EXCEPTIONS, PageRequest(batch_size, after))
        for invoice, center, since in await _overdue(reads, workflow, page.items, now):
            if await _escalated_since(reads, invoice.id, since):
                continue
            added = await _escalate(invoice.id, center, now, workflow=workflow, reads=reads)
            if added:
                escalated[invoice.id] = added
        if not page.has_next_page or not page.items:
            return EscalationReport(escalated)
        after = page.items[-1].id


async def _overdue(
    reads: Reads, workflow: Workflow, invoices: Sequence[Invoice], now: datetime
) -> list[tuple[Invoice, CostCenter, datetime]]:
    """Of `invoices`, those the SLA's running out has added approvers to, with their cost
    center and when they entered EXCEPTION. Three reads per page, not per invoice."""
    histories: dict[str, list[StatusChange]] = defaultdict(list)
    for change in await reads.invoices.history_of([i.id for i in invoices]):
        histories[change.invoice_id].append(change)
    wanted = sorted({i.cost_center_id for i in invoices})
    centers = {c.id: c for c in await reads.facilities.cost_centers(wanted)}
    overdue = []
    for invoice in invoices:
        center = centers.get(invoice.cost_center_id)
        since = waiting_since(invoice, histories[invoice.id])
        rules = workflow.policy.approvals
        if center is not None and approvers_added_by_escalation(
            invoice, center, rules, waiting_since=since, now=now
        ):
            overdue.append((invoice, center, since))
    return overdue


async def _escalated_since(reads: Reads, invoice_id: InvoiceId, since: datetime) -> bool:
    events = await reads.events.of_invoice(invoice_id)
    return any(e.type == InvoiceEscalated.type and e.occurred_at >= since for e in events)


async def _escalate(
    invoice_id: InvoiceId,
    center: CostCenter,
    now: datetime,
    *,
    workflow: Workflow,
    reads: Reads,
) -> tuple[str, ...]:
    """The approvers added; empty when, with the row locked, there is nothing (left) to do."""
    async with workflow.unit_of_work() as uow:
        invoice = await uow.invoices.get_for_update(invoice_id)
        if invoice is None or invoice.status is not InvoiceStatus.EXCEPTION:
            return ()
        since = waiting_since(invoice, await uow.invoices.history(invoice_id))
        added = approvers_added_by_escalation(
            invoice, center, workflow.policy.approvals, waiting_since=since, now=now
        )
        # read after the lock: an escalation committed by another worker is seen here
        if not added or await _escalated_since(reads, invoice_id, since):
            return ()
        await uow.outbox.add(
            [
                InvoiceEscalated(
                    invoice.id,
                    invoice.supplier_id,
                    invoice.facility_id,
                    now,
                    approvers=added,
                    waiting_since=since,
                )
            ]
        )
        await audit(
            uow,
            principal=ESCALATOR,
            action="invoice.escalate",
            invoice=invoice,
            outcome=AuditOutcome.SUCCEEDED,
            detail=f"in EXCEPTION since {since.isoformat()}; {', '.join(added)} may decide too",
            trace_id=workflow.trace_id,
            at=now,
        )
        await uow.commit()
    return added


@dataclass(frozen=True)
class Escalator:
    """The background escalation of one process; `clock` is the only source of now."""

    workflow: Workflow
    reads: Reads  # unscoped
    clock: Clock

    async def run_once(self) -> EscalationReport:
        return await escalate_overdue(
            now=self.clock.now(), workflow=self.workflow, reads=self.reads
        )

    async def run_until(self, stop: asyncio.Event, *, interval: float) -> None:
        """Every `interval` seconds: each run goes through every open exception."""

        async def more() -> bool:
            await self.run_once()
            return False

        await repeat_until(stop, more, interval=interval)
