"""The invoice lifecycle of DESIGN §4 as pure functions of (invoice, command, facts).

Each command returns a Transition: the invoice after it (changed through
`dataclasses.replace`), the statuses it entered, the events to emit and the record to keep
(a decision, an assignment, the reasons it was rejected or sent to an approver). A command
the rules refuse raises DomainError with a stable code: ILLEGAL_TRANSITION when the status
does not allow it. The clock is a parameter (`at`, aware UTC), never read here.

```
RECEIVED → VALIDATED → MATCHED → POSTED → SCHEDULED → PAID → REMITTED
    │                     └─▶ EXCEPTION ──approve──▶ POSTED
    │                            ├─reject─▶ REJECTED
    │                            └─hold───▶ ON_HOLD ─release─▶ EXCEPTION
    └─▶ REJECTED                          POSTED ⇄ POSTING_FAILED (ERP down past retries; replay)
```

A match with findings passes through MATCHED on its way to EXCEPTION, and a posting that
fails past every retry passes through POSTED on its way to POSTING_FAILED, as the diagram
draws them: both steps are recorded, so histories replay the diagram edge by edge.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from itertools import pairwise

from apgraph.domain.approvals import ApprovalRoute, Assignment, approved_by
from apgraph.domain.codes import ProblemCode
from apgraph.domain.events import (
    Event,
    InvoiceApprovalCompleted,
    InvoiceHeld,
    InvoiceMatched,
    InvoiceMatchFailed,
    InvoicePosted,
    InvoicePostingFailed,
    InvoiceReceived,
    InvoiceRejected,
    InvoiceReleased,
    InvoiceValidated,
    PaymentReleased,
    PaymentScheduled,
    RemittanceSent,
)
from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, SupplierId
from apgraph.domain.invoices import (
    Approval,
    ApprovalDecision,
    Invoice,
    InvoiceException,
    InvoiceStatus,
)
from apgraph.domain.master_data import Reason
from apgraph.domain.matching.match import MatchResult
from apgraph.domain.problems import DomainError
from apgraph.domain.submission import SubmittedInvoice
from apgraph.domain.suppliers import PaymentTerms

S = InvoiceStatus

EDGES: frozenset[tuple[InvoiceStatus | None, InvoiceStatus]] = frozenset(
    {
        (None, S.RECEIVED),
        (S.RECEIVED, S.VALIDATED),
        (S.RECEIVED, S.REJECTED),
        (S.VALIDATED, S.MATCHED),
        (S.MATCHED, S.POSTED),
        (S.MATCHED, S.EXCEPTION),
        (S.EXCEPTION, S.POSTED),
        (S.EXCEPTION, S.REJECTED),
        (S.EXCEPTION, S.ON_HOLD),
        (S.ON_HOLD, S.EXCEPTION),
        (S.POSTED, S.POSTING_FAILED),
        (S.POSTING_FAILED, S.POSTED),
        (S.POSTED, S.SCHEDULED),
        (S.SCHEDULED, S.PAID),
        (S.PAID, S.REMITTED),
    }
)
"""Every step an invoice may take: the diagram of DESIGN §4, and nothing else."""

VALIDATION_ACTOR = "apgraph.validation"  # who rejects an invalid invoice, in its history


@dataclass(frozen=True, slots=True)
class Transition:
    """What a command did, for the service to save in one unit of work.

    The invoice, one status change per step, the events for the outbox, and the decision,
    assignment or reasons to record.
    """

    invoice: Invoice  # as it is after the command
    before: InvoiceStatus | None  # None for a newly received invoice
    path: tuple[InvoiceStatus, ...]  # statuses entered, in order; () when the status stayed
    events: tuple[Event, ...] = ()
    decision: Approval | None = None  # an approver's decision to record
    assignment: Assignment | None = None
    reasons: tuple[InvoiceException, ...] = ()  # validation codes, or match findings and flags

    @property
    def steps(self) -> tuple[tuple[InvoiceStatus | None, InvoiceStatus], ...]:
        """(from, to) per status entered: one status-change record each."""
        return tuple(zip((self.before, *self.path), self.path, strict=False))


# --- receiving and validating ---------------------------------------------------------------


def receive(
    submitted: SubmittedInvoice,
    *,
    invoice_id: InvoiceId,
    submitted_by: str,
    payment_terms: PaymentTerms | None,
    at: datetime,
) -> Transition:
    """A new invoice, RECEIVED, due as the supplier's `payment_terms` say.

    `payment_terms` None: the supplier is unknown, so the invoice is due on its own date;
    validation rejects it anyway (SUPPLIER_UNKNOWN).
    """
    _aware(at)
    invoice_date = submitted.invoice_date
    invoice = Invoice(
        id=invoice_id,
        supplier_id=submitted.supplier_id,
        supplier_invoice_number=submitted.supplier_invoice_number,
        facility_id=submitted.facility_id,
        cost_center_id=submitted.cost_center_id,
        purchase_order_id=submitted.purchase_order_id,
        invoice_date=invoice_date,
        due_date=payment_terms.due_date(invoice_date) if payment_terms else invoice_date,
        currency=submitted.currency,
        subtotal=submitted.subtotal,
        tax=submitted.tax,
        total=submitted.total,
        status=S.RECEIVED,
        submitted_by=submitted_by,
        received_at=at,
        erp_document_ref=None,
    )
    received = InvoiceReceived(
        *_about(invoice, at), supplier_invoice_number=submitted.supplier_invoice_number
    )
    return Transition(invoice, None, (S.RECEIVED,), (received,))


def validate(invoice: Invoice, reasons: Sequence[Reason], *, at: datetime) -> Transition:
    """VALIDATED without reasons; otherwise REJECTED, carrying every code for the supplier."""
    _require(invoice, {S.RECEIVED}, "validate")
    if not reasons:
        return _moved(invoice, (S.VALIDATED,), InvoiceValidated(*_about(invoice, at)))
    codes = tuple(reason.code.value for reason in reasons)
    rejected = InvoiceRejected(
        *_about(invoice, at), codes=codes, reason=None, rejected_by=VALIDATION_ACTOR
    )
    recorded = tuple(InvoiceException(r.code.value, None, r.message) for r in reasons)
    return _moved(invoice, (S.REJECTED,), rejected, reasons=recorded)


def match(invoice: Invoice, result: MatchResult, *, at: datetime) -> Transition:
    """MATCHED when nothing blocks (flags are kept on the invoice); else on to EXCEPTION.

    When the match could not run (match_invoice returned None) there is nothing to apply:
    the invoice stays VALIDATED and this is not called.
    """
    _require(invoice, {S.VALIDATED}, "match")
    recorded = tuple(finding.as_exception() for finding in result.findings)
    flags = tuple(sorted({f.code.value for f in result.findings if not f.blocking}))
    matched = InvoiceMatched(*_about(invoice, at), flags=flags)
    if not result.needs_approval:
        return _moved(invoice, (S.MATCHED,), matched, reasons=recorded)
    codes = tuple(code.value for code in result.codes)
    failed = InvoiceMatchFailed(*_about(invoice, at), codes=codes)
    return _moved(invoice, (S.MATCHED, S.EXCEPTION), matched, failed, reasons=recorded)


# --- posting to the ERP ---------------------------------------------------------------------


def refuse_posting(invoice: Invoice, reasons: Sequence[Reason], *, at: datetime) -> Transition:
    """The facts checked again before posting (validation.recheck_before_posting) fail:
    REJECTED with the validation codes, as a new invoice with these facts would be, and the
    supplier may resubmit it once they are put right. From MATCHED the invoice passes
    through EXCEPTION, both edges of the diagram. Nothing goes to the ERP."""
    _require(invoice, {S.MATCHED, S.EXCEPTION}, "refuse posting of")
    if not reasons:
        raise ValueError("a refused posting names the validation codes that refused it")
    codes = tuple(reason.code.value for reason in reasons)
    rejected = InvoiceRejected(
        *_about(invoice, at), codes=codes, reason=None, rejected_by=VALIDATION_ACTOR
    )
    recorded = tuple(InvoiceException(r.code.value, None, r.message) for r in reasons)
    path = (S.REJECTED,) if invoice.status is S.EXCEPTION else (S.EXCEPTION, S.REJECTED)
    return _moved(invoice, path, rejected, reasons=recorded)


def check_postable(
    invoice: Invoice, *, route: ApprovalRoute | None = None, decisions: Sequence[Approval] = ()
) -> None:
    """Raises unless the invoice may go to the ERP now; call it before posting, then `post`.

    A MATCHED invoice may. One in EXCEPTION may once the distinct approvers its route asks
    for have approved (`decisions`: its approval records); without its route it may not.
    """
    if invoice.status is S.MATCHED:
        return
    _require(invoice, {S.EXCEPTION}, "post")
    given = approved_by(decisions, invoice=invoice)
    if route is None or not given:
        raise DomainError.of(ProblemCode.APPROVAL_REQUIRED, f"{invoice.id} is not approved yet")
    if len(given) < route.approvals_needed:
        raise DomainError.of(
            ProblemCode.SECOND_APPROVER_REQUIRED,
            f"{invoice.id} needs {route.approvals_needed} distinct approvers; "
            f"approved by {', '.join(given)}",
        )


def post(
    invoice: Invoice,
    *,
    erp_document_ref: str,
    at: datetime,
    route: ApprovalRoute | None = None,
    decisions: Sequence[Approval] = (),
) -> Transition:
    """The ERP booked it: MATCHED, or approved EXCEPTION, → POSTED with the ERP's document."""
    check_postable(invoice, route=route, decisions=decisions)
    return _posted(invoice, erp_document_ref, at)


def retry_posting(invoice: Invoice, *, erp_document_ref: str, at: datetime) -> Transition:
    """A replay (retryPosting, dead letters) the ERP booked: POSTING_FAILED → POSTED."""
    _require(invoice, {S.POSTING_FAILED}, "retry posting of")
    return _posted(invoice, erp_document_ref, at)


def fail_posting(
    invoice: Invoice,
    *,
    reason: str,
    at: datetime,
    route: ApprovalRoute | None = None,
    decisions: Sequence[Approval] = (),
) -> Transition:
    """The ERP stayed down past every retry: POSTED → POSTING_FAILED, to be replayed.

    From MATCHED or approved EXCEPTION the invoice passes through POSTED (DESIGN §4 draws
    the failure from there); a replay that fails again leaves it in POSTING_FAILED.
    """
    failed = InvoicePostingFailed(*_about(invoice, at), reason=reason)
    if invoice.status is S.POSTING_FAILED:
        return Transition(invoice, invoice.status, (), (failed,))
    check_postable(invoice, route=route, decisions=decisions)
    return _moved(invoice, (S.POSTED, S.POSTING_FAILED), failed)


# --- an approver's decisions ----------------------------------------------------------------


def approve(
    invoice: Invoice,
    *,
    approver: str,
    at: datetime,
    route: ApprovalRoute,
    decisions: Sequence[Approval],
    note: str | None = None,
) -> Transition:
    """Records one approval; the invoice stays in EXCEPTION until `post`.

    The submitter can never approve. Above the policy amount the route asks for two distinct
    approvers: the first approval is recorded and the invoice waits for the second. When the
    last one needed is in, `invoice.approval_completed` is emitted and posting may follow.
    """
    _require(invoice, {S.EXCEPTION}, "approve")
    if approver == invoice.submitted_by:
        raise DomainError.of(
            ProblemCode.SUBMITTER_CANNOT_APPROVE, f"{approver} submitted {invoice.id}"
        )
    given = approved_by(decisions, invoice=invoice)
    if approver in given:
        raise DomainError.of(
            ProblemCode.ALREADY_APPROVED_BY_YOU,
            f"{approver} approved {invoice.id} already; the next approval is someone else's",
        )
    _not_awaiting_posting(invoice, route, decisions)
    _allowed(approver, route, invoice)
    given = (*given, approver)
    completed = InvoiceApprovalCompleted(*_about(invoice, at), approvers=given)
    return Transition(
        invoice,
        invoice.status,
        (),
        (completed,) if len(given) >= route.approvals_needed else (),
        decision=_decision(invoice, approver, ApprovalDecision.APPROVED, at, note),
    )


def reject(
    invoice: Invoice,
    *,
    by: str,
    reason: str,
    at: datetime,
    route: ApprovalRoute,
    decisions: Sequence[Approval] = (),
) -> Transition:
    """EXCEPTION → REJECTED, final; the reason goes to the supplier. Not once the approvals
    are complete: the invoice is then on its way to the ERP (POSTING_IN_PROGRESS)."""
    _require(invoice, {S.EXCEPTION}, "reject")
    _not_awaiting_posting(invoice, route, decisions)
    _allowed(by, route, invoice)
    note = _reason(reason)
    rejected = InvoiceRejected(*_about(invoice, at), codes=(), reason=note, rejected_by=by)
    decision = _decision(invoice, by, ApprovalDecision.REJECTED, at, note)
    return _moved(invoice, (S.REJECTED,), rejected, decision=decision)


def hold(
    invoice: Invoice,
    *,
    by: str,
    reason: str,
    at: datetime,
    route: ApprovalRoute,
    decisions: Sequence[Approval] = (),
) -> Transition:
    """EXCEPTION → ON_HOLD while something is sorted out with the supplier; not once the
    approvals are complete (POSTING_IN_PROGRESS)."""
    _require(invoice, {S.EXCEPTION}, "hold")
    _not_awaiting_posting(invoice, route, decisions)
    _allowed(by, route, invoice)
    why = _reason(reason)
    held = InvoiceHeld(*_about(invoice, at), held_by=by, reason=why)
    decision = _decision(invoice, by, ApprovalDecision.HELD, at, why)
    return _moved(invoice, (S.ON_HOLD,), held, decision=decision)


def release(
    invoice: Invoice, *, by: str, at: datetime, route: ApprovalRoute, note: str | None = None
) -> Transition:
    """ON_HOLD → EXCEPTION: back in the queue; approvals given before the hold still count."""
    _require(invoice, {S.ON_HOLD}, "release")
    _allowed(by, route, invoice)
    decision = _decision(invoice, by, ApprovalDecision.RELEASED, at, note)
    released = InvoiceReleased(*_about(invoice, at), released_by=by)
    return _moved(invoice, (S.EXCEPTION,), released, decision=decision)


def reassign(
    invoice: Invoice,
    *,
    by: str,
    to: str,
    at: datetime,
    route: ApprovalRoute,
    reason: str | None = None,
    supervisor: bool = False,
) -> Transition:
    """The exception stays in EXCEPTION, in another allowed approver's queue.

    `by` is one of the route's approvers, or a `supervisor` (a finance admin) who dispatches
    the queue without deciding on the invoice; never its submitter, who would otherwise pick
    their own approver.
    """
    _require(invoice, {S.EXCEPTION}, "reassign")
    if by == invoice.submitted_by:
        raise DomainError.of(ProblemCode.SUBMITTER_CANNOT_APPROVE, f"{by} submitted {invoice.id}")
    if not supervisor:
        _allowed(by, route, invoice)
    if to == invoice.submitted_by:
        raise DomainError.of(ProblemCode.SUBMITTER_CANNOT_APPROVE, f"{to} submitted {invoice.id}")
    _allowed(to, route, invoice)
    _aware(at)
    assignment = Assignment(
        invoice_id=invoice.id,
        assignee=to,
        assigned_by=by,
        at=at,
        reason=(reason.strip() or None) if reason is not None else None,
    )
    return Transition(invoice, invoice.status, (), assignment=assignment)


# --- payment --------------------------------------------------------------------------------


def schedule(
    invoice: Invoice,
    *,
    payment_id: PaymentId,
    scheduled_date: date,
    at: datetime,
) -> Transition:
    """POSTED → SCHEDULED: a payment is planned for it. Scheduled whatever the supplier's
    status: a hold keeps the payment out of payment runs, with its reason (scheduling.py)."""
    _require(invoice, {S.POSTED}, "schedule")
    scheduled = PaymentScheduled(
        *_about(invoice, at), payment_id=payment_id, scheduled_date=scheduled_date
    )
    return _moved(invoice, (S.SCHEDULED,), scheduled)


def pay(invoice: Invoice, *, payment_id: PaymentId, at: datetime) -> Transition:
    """SCHEDULED → PAID: the ERP confirmed the payment was released to the supplier."""
    _require(invoice, {S.SCHEDULED}, "pay")
    return _moved(invoice, (S.PAID,), PaymentReleased(*_about(invoice, at), payment_id=payment_id))


def remit(
    invoice: Invoice, *, payment_id: PaymentId, remittance_ref: str, at: datetime
) -> Transition:
    """PAID → REMITTED: the remittance advice went to the supplier."""
    _require(invoice, {S.PAID}, "remit")
    sent = RemittanceSent(
        *_about(invoice, at), payment_id=payment_id, remittance_ref=remittance_ref
    )
    return _moved(invoice, (S.REMITTED,), sent)


# --- the machinery --------------------------------------------------------------------------


def _require(invoice: Invoice, allowed: set[InvoiceStatus], command: str) -> None:
    if invoice.status not in allowed:
        raise DomainError.of(
            ProblemCode.ILLEGAL_TRANSITION,
            f"cannot {command} {invoice.id} while it is {invoice.status.value}",
        )


def _moved(
    invoice: Invoice,
    path: tuple[InvoiceStatus, ...],
    *events: Event,
    at: datetime | None = None,
    decision: Approval | None = None,
    reasons: tuple[InvoiceException, ...] = (),
) -> Transition:
    """The invoice after walking `path`, each step an edge of the diagram.

    `at` is only needed when no event carries the time (its awareness is checked either way).
    """
    for when in (at, *(event.occurred_at for event in events)):
        if when is not None:
            _aware(when)
    for step in pairwise((invoice.status, *path)):
        if step not in EDGES:
            raise DomainError.of(
                ProblemCode.ILLEGAL_TRANSITION, f"{invoice.id}: {step[0].value} → {step[1].value}"
            )
    return Transition(
        replace(invoice, status=path[-1]),
        invoice.status,
        path,
        events,
        decision=decision,
        reasons=reasons,
    )


def _posted(invoice: Invoice, erp_document_ref: str, at: datetime) -> Transition:
    if not erp_document_ref.strip():
        raise ValueError("a posting needs the ERP's document reference")
    posted = InvoicePosted(*_about(invoice, at), erp_document_ref=erp_document_ref)
    moved = _moved(invoice, (S.POSTED,), posted)
    return replace(moved, invoice=replace(moved.invoice, erp_document_ref=erp_document_ref))


def _not_awaiting_posting(
    invoice: Invoice, route: ApprovalRoute, decisions: Sequence[Approval]
) -> None:
    """Once the last approval the route asks for is committed, the invoice belongs to the
    posting: the ERP may already be booking it, so no decision may overtake it. Only the
    posting's outcome (POSTED, POSTING_FAILED) or `retryPosting` moves it on."""
    if len(approved_by(decisions, invoice=invoice)) >= route.approvals_needed:
        raise DomainError.of(
            ProblemCode.POSTING_IN_PROGRESS,
            f"{invoice.id} is fully approved and on its way to the ERP",
        )


def _allowed(who: str, route: ApprovalRoute, invoice: Invoice) -> None:
    if who not in route.approvers:
        raise DomainError.of(
            ProblemCode.APPROVER_NOT_ALLOWED,
            f"{who} may not decide on {invoice.id} ({route.level.value.lower()} level)",
        )


def _reason(reason: str) -> str:
    if not reason.strip():
        raise DomainError.of(ProblemCode.REASON_REQUIRED, "say why, for the supplier and auditors")
    return reason.strip()


def _decision(
    invoice: Invoice, who: str, decision: ApprovalDecision, at: datetime, note: str | None
) -> Approval:
    return Approval(invoice_id=invoice.id, approver=who, decision=decision, at=at, note=note)


def _about(invoice: Invoice, at: datetime) -> tuple[InvoiceId, SupplierId, FacilityId, datetime]:
    """The subject ids every event carries, and when it happened."""
    return invoice.id, invoice.supplier_id, invoice.facility_id, _aware(at)


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"times are aware UTC in the domain, got naive {at.isoformat()}")
    return at
