"""The re-match loop: invoices left VALIDATED while materials management was down are matched
again when it answers, then posted or sent to an approver as a submission would have.

Oldest first, a bounded batch per run, each invoice in its own unit of work that locks the
row and checks it is still VALIDATED, so two workers (or a worker and a late submission)
never match one invoice twice. Goods receipts and contract prices are asked before the unit
of work opens (no row lock across a connector's retries); the first invoice materials
management cannot answer for ends the run, as the rest would wait on the same system. A clean
match is posted as a submission's is (posting.py), under the invoice's one posting key.
"""

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from apgraph.domain import lifecycle
from apgraph.domain.approvals import ApprovalRoute, route_exception
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Invoice, InvoiceLine, InvoiceStatus
from apgraph.domain.matching.match import MatchResult, match_invoice
from apgraph.domain.principal import Principal
from apgraph.domain.purchasing import (
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
)
from apgraph.domain.review import review_invoice
from apgraph.services.match_facts import contracts_or_none, receipts_or_none
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.reads import InvoiceFilter, PageRequest, Reads
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.posting import post_and_record, posting_key_of
from apgraph.services.rechecks import audit_refusal, refusal_to_post
from apgraph.services.recording import audit, record_transitions

REMATCHER = Principal(
    subject="apgraph.rematch", roles=frozenset(), scopes=frozenset(), facility_ids=frozenset()
)  # who matched the invoice, in its history and the audit trail
WAITING = InvoiceFilter(statuses=frozenset({InvoiceStatus.VALIDATED}))


@dataclass(frozen=True, slots=True)
class RematchReport:
    matched: Mapping[InvoiceId, InvoiceStatus] = field(default_factory=dict)  # status after
    looked_at: int = 0  # VALIDATED invoices in the batch
    materials_down: bool = False  # the run stopped early; the rest waits for the next one


@dataclass(frozen=True, slots=True)
class _Facts:
    order: PurchaseOrder | None  # None: a non-PO invoice
    order_lines: Sequence[PurchaseOrderLine]
    receipts: Sequence[GoodsReceipt]
    contracts: Sequence[ContractPrice] | None  # None: sourcing is down (the policy decides)
    lines: Sequence[InvoiceLine]


async def rematch_waiting(
    *, workflow: Workflow, reads: Reads, clock: Clock, batch_size: int = 50
) -> RematchReport:
    """Matches up to `batch_size` VALIDATED invoices, oldest (lowest ID) first.

    `reads` must see every facility (the loop works for the system, not for a caller).
    Idempotent: an invoice no longer VALIDATED when its row is locked is left as it is.
    """
    batch = await reads.invoices.page(WAITING, PageRequest(first=batch_size))
    matched: dict[InvoiceId, InvoiceStatus] = {}
    for waiting in batch.items:
        facts = await _facts(reads, workflow, waiting)
        if facts is None:
            return RematchReport(matched, len(batch.items), materials_down=True)
        status = await _rematch(waiting, facts, workflow=workflow, reads=reads, clock=clock)
        if status is not None:
            matched[waiting.id] = status
    return RematchReport(matched, len(batch.items))


async def _facts(reads: Reads, workflow: Workflow, invoice: Invoice) -> _Facts | None:
    """None when materials management cannot answer for the invoice's PO."""
    lines = [line for _, line in await reads.invoices.lines_of([invoice.id])]
    if invoice.purchase_order_id is None:
        return _Facts(None, (), (), (), lines)
    orders = await reads.purchase_orders.get_many([invoice.purchase_order_id])
    if not orders:
        raise LookupError(f"{invoice.id} bills {invoice.purchase_order_id}, which is gone")
    order_lines = [line for _, line in await reads.purchase_orders.lines_of([orders[0].id])]
    receipts = await receipts_or_none(workflow.connectors, orders[0])
    if receipts is None:
        return None
    contracts = await contracts_or_none(
        workflow.connectors,
        supplier_id=invoice.supplier_id,
        invoice_date=invoice.invoice_date,
        billed_po_lines={line.po_line_no for line in lines},
        order_lines=order_lines,
    )
    return _Facts(orders[0], order_lines, receipts, contracts, lines)


async def _rematch(
    waiting: Invoice, facts: _Facts, *, workflow: Workflow, reads: Reads, clock: Clock
) -> InvoiceStatus | None:
    """The invoice's status afterwards; None when someone else moved it on first."""
    at = clock.now()
    route: ApprovalRoute | None = None
    async with workflow.unit_of_work() as uow:
        invoice = await uow.invoices.get_for_update(waiting.id)
        if invoice is None or invoice.status is not InvoiceStatus.VALIDATED:
            return None
        result = await _match(uow, invoice, facts, workflow)
        transitions = [lifecycle.match(invoice, result, at=at)]
        refused = None
        if transitions[0].invoice.status is InvoiceStatus.MATCHED:
            refused = await refusal_to_post(uow, transitions[0].invoice, at=at)
        if refused is not None:
            transitions.append(refused)
            await audit_refusal(
                uow, refused, principal=REMATCHER, trace_id=workflow.trace_id, at=at
            )
        matched = transitions[-1].invoice
        if matched.status is InvoiceStatus.EXCEPTION:
            centers = await reads.facilities.cost_centers([matched.cost_center_id])
            if centers:
                route = route_exception(
                    matched, centers[0], workflow.policy.approvals, waiting_since=at, now=at
                )
        history_so_far = await uow.invoices.history_length(invoice.id)
        await record_transitions(
            uow, transitions, actor=REMATCHER.subject, at=at, history_so_far=history_so_far
        )
        codes = dict.fromkeys(reason.code for t in transitions for reason in t.reasons)
        detail = " ".join([matched.status.value, *codes])
        if route is not None:
            detail += f"; routed to {', '.join(route.approvers)}"
        await audit(
            uow,
            principal=REMATCHER,
            action="invoice.rematch",
            invoice=matched,
            outcome=AuditOutcome.SUCCEEDED,
            detail=detail,
            trace_id=workflow.trace_id,
            at=at,
        )
        posting_key = await posting_key_of(uow, invoice.id)
        await uow.commit()
    if matched.status is not InvoiceStatus.MATCHED:
        return matched.status
    posted = await post_and_record(
        matched,
        posting_key=posting_key,
        route=None,
        workflow=workflow,
        principal=REMATCHER,
        clock=clock,
    )
    return posted.status


async def _match(
    uow: UnitOfWork, invoice: Invoice, facts: _Facts, workflow: Workflow
) -> MatchResult:
    """The three-way match and the review checks, as a submission runs them; a possible
    duplicate is looked for among the invoices received before this one (a later one was
    itself checked against this one)."""
    on_file = await uow.invoices.duplicate_candidates(
        invoice.supplier_id,
        number=workflow.policy.review.numbers.keyed(invoice.supplier_invoice_number),
        currency=invoice.currency,
        total=invoice.total,
        excluding=invoice.id,
    )
    before = [o for o in on_file if (o.received_at, o.id) < (invoice.received_at, invoice.id)]
    return (await _three_way(uow, invoice, facts, workflow)).with_review(
        review_invoice(
            invoice,
            order=facts.order,
            on_file=before,
            rules=workflow.policy.review,
            duplicate_window_days=workflow.policy.duplicate_window_days,
        )
    )


async def _three_way(
    uow: UnitOfWork, invoice: Invoice, facts: _Facts, workflow: Workflow
) -> MatchResult:
    if invoice.purchase_order_id is None:
        return MatchResult(())
    billed_before = await uow.invoices.billed_per_po_line(
        invoice.purchase_order_id,
        lines={line.po_line_no for line in facts.lines if line.po_line_no is not None},
        excluding=invoice.id,
    )
    result = match_invoice(
        invoice,
        facts.lines,
        order_lines=facts.order_lines,
        receipts=facts.receipts,
        billed_before=billed_before,
        contracts=facts.contracts,
        rules=workflow.policy.match_rules,
    )
    if result is None:  # only when receipts are None, which _facts has ruled out
        raise RuntimeError(f"{invoice.id} could not be matched with its receipts at hand")
    return result


@dataclass(frozen=True)
class Rematcher:
    """The background re-match of one process; with several workers each runs one, and the
    row lock of each invoice's unit of work lets only one of them match it."""

    workflow: Workflow
    reads: Reads  # unscoped
    clock: Clock
    batch_size: int = 50

    async def run_once(self) -> RematchReport:
        return await rematch_waiting(
            workflow=self.workflow, reads=self.reads, clock=self.clock, batch_size=self.batch_size
        )

    async def run_until(self, stop: asyncio.Event, *, interval: float) -> None:
        """Batches back to back while full ones come, else every `interval` seconds; while
        materials management is down, every `interval` seconds."""

        async def more() -> bool:
            report = await self.run_once()
            return not report.materials_down and report.looked_at >= self.batch_size

        await repeat_until(stop, more, interval=interval)
