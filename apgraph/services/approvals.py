"""An approver's decisions on an invoice in EXCEPTION, and the replay of a failed posting.

Row level first: an invoice outside the caller's facilities answers INVOICE_NOT_FOUND, as an
unknown one does, so nobody learns about other facilities by probing. Then the route of
DESIGN §4 (facility + cost center + amount, escalation after the SLA) decides who may act;
segregation of duties and the second approver above the policy amount are the lifecycle's
rules. Each decision is one unit of work that locks the invoice row first, so two approvers
acting at once are decided one after the other: the second sees the first's approval, and
only the approval that completes the set leads to a posting (posting.py).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from apgraph.domain import lifecycle
from apgraph.domain.approvals import ApprovalRoute, approved_by, route_exception
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.codes import ProblemCode
from apgraph.domain.events import InvoiceApprovalCompleted
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Approval, ApprovalDecision, Invoice, InvoiceStatus
from apgraph.domain.lifecycle import Transition
from apgraph.domain.money import at_minor_units
from apgraph.domain.principal import Principal, Role
from apgraph.domain.problems import DomainError, Outcome, Problem
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.reads import Reads
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.posting import POSTABLE, post_and_record, posting_key_of
from apgraph.services.rechecks import audit_refusal, refusal_to_post
from apgraph.services.recording import audit, record_transitions, refused

ID_PATH = ("invoiceId",)
REASSIGN = "invoice.reassign"
RETRY = "invoice.retry_posting"

Command = Callable[[Invoice, ApprovalRoute, Sequence[Approval], datetime], Transition]


class ReasonedDecision(Protocol):
    """`lifecycle.reject` and `lifecycle.hold`."""

    def __call__(
        self,
        invoice: Invoice,
        *,
        by: str,
        reason: str,
        at: datetime,
        route: ApprovalRoute,
        decisions: Sequence[Approval] = (),
    ) -> Transition: ...


@dataclass(frozen=True, slots=True)
class ApproveInvoice:
    invoice_id: InvoiceId
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RejectInvoice:
    invoice_id: InvoiceId
    reason: str


@dataclass(frozen=True, slots=True)
class HoldInvoice:
    invoice_id: InvoiceId
    reason: str


@dataclass(frozen=True, slots=True)
class ReleaseInvoice:
    invoice_id: InvoiceId
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ReassignException:
    invoice_id: InvoiceId
    assignee: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPosting:
    invoice_id: InvoiceId


async def approve_invoice(
    cmd: ApproveInvoice, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[Invoice]:
    """Records one approval; the one that completes the set the route asks for (two distinct
    approvers above the policy amount) posts the invoice. The submitter never approves."""

    def command(
        invoice: Invoice, route: ApprovalRoute, decisions: Sequence[Approval], at: datetime
    ) -> Transition:
        return lifecycle.approve(
            invoice,
            approver=principal.subject,
            at=at,
            route=route,
            decisions=decisions,
            note=cmd.note,
        )

    return await _decide(
        cmd.invoice_id,
        command,
        action="invoice.approve",
        note=cmd.note,
        principal=principal,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )


async def reject_invoice(
    cmd: RejectInvoice, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[Invoice]:
    """EXCEPTION → REJECTED for good; the reason goes to the supplier."""
    return await _decide_with_reason(
        cmd.invoice_id,
        lifecycle.reject,
        cmd.reason,
        action="invoice.reject",
        principal=principal,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )


async def hold_invoice(
    cmd: HoldInvoice, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[Invoice]:
    """EXCEPTION → ON_HOLD while something is sorted out with the supplier."""
    return await _decide_with_reason(
        cmd.invoice_id,
        lifecycle.hold,
        cmd.reason,
        action="invoice.hold",
        principal=principal,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )


async def release_invoice(
    cmd: ReleaseInvoice, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[Invoice]:
    """ON_HOLD → EXCEPTION; approvals given before the hold still count."""

    def command(
        invoice: Invoice, route: ApprovalRoute, _: Sequence[Approval], at: datetime
    ) -> Transition:
        return lifecycle.release(invoice, by=principal.subject, at=at, route=route, note=cmd.note)

    return await _decide(
        cmd.invoice_id,
        command,
        action="invoice.release",
        note=cmd.note,
        principal=principal,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )


async def reassign_exception(
    cmd: ReassignException,
    *,
    principal: Principal,
    workflow: Workflow,
    reads: Reads,
    clock: Clock,
) -> Outcome[Invoice]:
    """Moves an exception to another approver's queue; it stays in EXCEPTION.

    Who may: an approver the route allows on this invoice now (going on leave, handing it to
    the colleague who knows the supplier), or a finance admin, who dispatches every
    facility's queue without being on the route (assigning decides nothing; the assignee
    still needs the route to approve). Never the submitter, who would otherwise pick their
    own approver. The assignee must be one the route allows, so an exception never lands in
    a queue whose owner could not act on it.
    Stored with its audit entry in one unit of work.
    """
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        invoice = await _visible(uow, cmd.invoice_id, principal)
        route = await _route(uow, reads, invoice, workflow, at) if invoice else None
        if invoice is None or route is None:
            return await refused(
                uow,
                _missing(cmd.invoice_id),
                action=REASSIGN,
                entity_id=cmd.invoice_id,
                principal=principal,
                trace_id=workflow.trace_id,
                at=at,
            )
        supervisor = Role.FINANCE_ADMIN in principal.roles
        try:
            transition = lifecycle.reassign(
                invoice,
                by=principal.subject,
                to=cmd.assignee,
                at=at,
                route=route,
                reason=cmd.reason,
                supervisor=supervisor,
            )
        except DomainError as error:
            path = _reassign_path(error, invoice, route, supervisor, principal.subject)
            return await refused(
                uow,
                error.problem.at(*path),
                action=REASSIGN,
                entity_id=cmd.invoice_id,
                seen=invoice,
                principal=principal,
                trace_id=workflow.trace_id,
                at=at,
            )
        assert transition.assignment is not None  # reassign always assigns
        await uow.invoices.add_assignment(transition.assignment)
        await audit(
            uow,
            principal=principal,
            action=REASSIGN,
            invoice=invoice,
            outcome=AuditOutcome.SUCCEEDED,
            detail=f"assigned to {cmd.assignee}",
            trace_id=workflow.trace_id,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(transition.invoice)


def _reassign_path(
    error: DomainError, invoice: Invoice, route: ApprovalRoute, supervisor: bool, by: str
) -> tuple[str, ...]:
    """A refusal of the assignee points at `assignee`; of the caller or the state, at the
    invoice. (The caller passed when they may reassign at all: the rules lifecycle applies.)"""
    caller_passed = by != invoice.submitted_by and (supervisor or by in route.approvers)
    if error.problem.code is ProblemCode.ILLEGAL_TRANSITION or not caller_passed:
        return ID_PATH
    return ("assignee",)


async def retry_posting(
    cmd: RetryPosting, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[Invoice]:
    """Posts again, under the invoice's one posting key, an invoice whose posting failed (or
    was interrupted: MATCHED, or approved in EXCEPTION). The ERP answers a repeat with the
    first document, so a replay never books twice. Still down: it stays POSTING_FAILED."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        invoice = await _visible(uow, cmd.invoice_id, principal)
        route = None
        if invoice is not None and invoice.status is InvoiceStatus.EXCEPTION:
            route = await _route(uow, reads, invoice, workflow, at)
        if invoice is None or (invoice.status is InvoiceStatus.EXCEPTION and route is None):
            return await refused(
                uow,
                _missing(cmd.invoice_id),
                action=RETRY,
                entity_id=cmd.invoice_id,
                principal=principal,
                trace_id=workflow.trace_id,
                at=at,
            )
        try:
            if invoice.status not in POSTABLE:
                raise DomainError.of(
                    ProblemCode.ILLEGAL_TRANSITION,
                    f"cannot retry posting of {invoice.id} while it is {invoice.status.value}",
                )
            refusal = None
            if invoice.status is not InvoiceStatus.POSTING_FAILED:
                decisions = await uow.invoices.approvals(invoice.id)
                lifecycle.check_postable(invoice, route=route, decisions=decisions)
                refusal = await refusal_to_post(uow, invoice, at=at)
        except DomainError as error:
            return await refused(
                uow,
                error.problem.at(*ID_PATH),
                action=RETRY,
                entity_id=cmd.invoice_id,
                seen=invoice,
                principal=principal,
                trace_id=workflow.trace_id,
                at=at,
            )
        if refusal is not None:
            history_so_far = await uow.invoices.history_length(invoice.id)
            await record_transitions(
                uow, [refusal], actor=principal.subject, at=at, history_so_far=history_so_far
            )
            await audit_refusal(
                uow, refusal, principal=principal, trace_id=workflow.trace_id, at=at
            )
            await uow.commit()
            return Outcome.succeeded(refusal.invoice)
        posting_key = await posting_key_of(uow, invoice.id)
    posted = await post_and_record(
        invoice,
        posting_key=posting_key,
        route=route,
        workflow=workflow,
        principal=principal,
        clock=clock,
    )
    return Outcome.succeeded(posted)


async def _decide_with_reason(
    invoice_id: InvoiceId,
    decision: ReasonedDecision,
    reason: str,
    *,
    action: str,
    principal: Principal,
    workflow: Workflow,
    reads: Reads,
    clock: Clock,
) -> Outcome[Invoice]:
    """Reject and hold: the same decision shape, a reason the supplier and auditors read."""

    def command(
        invoice: Invoice, route: ApprovalRoute, decisions: Sequence[Approval], at: datetime
    ) -> Transition:
        return decision(
            invoice,
            by=principal.subject,
            reason=reason,
            at=at,
            route=route,
            decisions=decisions,
        )

    return await _decide(
        invoice_id,
        command,
        action=action,
        note=reason.strip() or None,
        principal=principal,
        workflow=workflow,
        reads=reads,
        clock=clock,
    )


async def _decide(
    invoice_id: InvoiceId,
    command: Command,
    *,
    action: str,
    note: str | None,
    principal: Principal,
    workflow: Workflow,
    reads: Reads,
    clock: Clock,
) -> Outcome[Invoice]:
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        invoice = await _visible(uow, invoice_id, principal)
        route = await _route(uow, reads, invoice, workflow, at) if invoice else None
        if invoice is None or route is None:
            return await refused(
                uow,
                _missing(invoice_id),
                action=action,
                entity_id=invoice_id,
                principal=principal,
                trace_id=workflow.trace_id,
                at=at,
            )
        decisions = await uow.invoices.approvals(invoice.id)
        try:
            transition = command(invoice, route, decisions, at)
        except DomainError as error:
            path = ("reason",) if error.problem.code is ProblemCode.REASON_REQUIRED else ID_PATH
            return await refused(
                uow,
                error.problem.at(*path),
                action=action,
                entity_id=invoice_id,
                seen=invoice,
                principal=principal,
                trace_id=workflow.trace_id,
                at=at,
            )
        completes = any(isinstance(e, InvoiceApprovalCompleted) for e in transition.events)
        refusal = await refusal_to_post(uow, transition.invoice, at=at) if completes else None
        history_so_far = await uow.invoices.history_length(invoice.id)
        await record_transitions(
            uow,
            [transition] if refusal is None else [transition, refusal],
            actor=principal.subject,
            at=at,
            history_so_far=history_so_far,
            note=note,
        )
        detail = f"{invoice.status.value} → {transition.invoice.status.value}"
        if _approves(transition):
            detail += await _approval_detail(reads, invoice, decisions, route, completes)
        await audit(
            uow,
            principal=principal,
            action=action,
            invoice=invoice,
            outcome=AuditOutcome.SUCCEEDED,
            detail=detail,
            trace_id=workflow.trace_id,
            at=at,
        )
        if refusal is not None:
            await audit_refusal(
                uow, refusal, principal=principal, trace_id=workflow.trace_id, at=at
            )
        posting_key = await posting_key_of(uow, invoice.id)
        await uow.commit()
    if refusal is not None:
        return Outcome.succeeded(refusal.invoice)
    if not completes:
        return Outcome.succeeded(transition.invoice)
    posted = await post_and_record(
        transition.invoice,
        posting_key=posting_key,
        route=route,
        workflow=workflow,
        principal=principal,
        clock=clock,
    )
    return Outcome.succeeded(posted)


def _approves(transition: Transition) -> bool:
    decision = transition.decision
    return decision is not None and decision.decision is ApprovalDecision.APPROVED


async def _approval_detail(
    reads: Reads,
    invoice: Invoice,
    decisions: Sequence[Approval],
    route: ApprovalRoute,
    completes: bool,
) -> str:
    """What was approved, for the trail: the amount, the codes the approver accepted, and
    whether this approval completed the set the route asks for."""
    found = await reads.invoices.exceptions_of([invoice.id])
    codes = " ".join(dict.fromkeys(reason.code for _, reason in found)) or "none"
    count = len(approved_by(decisions, invoice=invoice)) + 1
    return (
        f"; approved {at_minor_units(invoice.total, invoice.currency)} {invoice.currency}, "
        f"codes {codes}; "
        f"approval {count} of {route.approvals_needed}, "
        + ("set complete" if completes else "set not complete")
    )


async def _visible(uow: UnitOfWork, invoice_id: InvoiceId, principal: Principal) -> Invoice | None:
    """The invoice, locked; None when unknown or outside the caller's rows (the same answer)."""
    invoice = await uow.invoices.get_for_update(invoice_id)
    if invoice is None or not principal.row_scope.admits(
        supplier_id=invoice.supplier_id, facility_id=invoice.facility_id
    ):
        return None
    return invoice


async def _route(
    uow: UnitOfWork, reads: Reads, invoice: Invoice, workflow: Workflow, now: datetime
) -> ApprovalRoute | None:
    """Who may act now; the SLA runs from when the invoice last entered EXCEPTION."""
    centers = await reads.facilities.cost_centers([invoice.cost_center_id])
    if not centers:
        return None
    history = await uow.invoices.history(invoice.id)
    entered = [c.at for c in history if c.to_status is InvoiceStatus.EXCEPTION]
    waiting_since = entered[-1] if entered else invoice.received_at
    return route_exception(
        invoice, centers[0], workflow.policy.approvals, waiting_since=waiting_since, now=now
    )


def _missing(invoice_id: InvoiceId) -> Problem:
    return Problem(ProblemCode.INVOICE_NOT_FOUND, f"no invoice {invoice_id}", ID_PATH)
