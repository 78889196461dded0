"""submitInvoice: check, store, validate, match, then post or send to an approver (DESIGN §4).

A submission the input checks refuse, or one a supplier's user makes for another supplier,
leaves no trace. Everything else is stored in one unit of work: the invoice, each status it
went through with its event in the outbox, its validation codes or match findings, the
idempotency key and the audit entry. An invalid invoice is a successful submission whose
invoice is REJECTED with every code; one with match findings waits in EXCEPTION for the
approvers `route_exception` names. A clean match is posted afterwards (see posting.py for
why the ERP is called between two units of work, and how that posts at most once).
"""

import asyncio
import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from opentelemetry import trace

from apgraph.domain import lifecycle
from apgraph.domain.approvals import ApprovalRoute, route_exception
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.codes import ProblemCode
from apgraph.domain.facilities import CostCenter
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoice_numbers import NumberKey
from apgraph.domain.invoices import Invoice, InvoiceLine, InvoiceStatus
from apgraph.domain.lifecycle import Transition
from apgraph.domain.master_data import Reason
from apgraph.domain.matching.match import BilledInvoice, MatchResult, match_invoice
from apgraph.domain.principal import Principal
from apgraph.domain.problems import Outcome, Problem
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from apgraph.domain.review import review_invoice
from apgraph.domain.submission import SubmittedInvoice, check_input
from apgraph.domain.suppliers import Supplier
from apgraph.domain.validation import ValidationFacts, validate_invoice
from apgraph.services.match_facts import contracts_or_none, receipts_or_none
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.reads import Reads
from apgraph.services.ports.unit_of_work import IdempotencyRecord, UnitOfWork
from apgraph.services.ports.workflow import Workflow, WorkflowConnectors
from apgraph.services.posting import (
    post_and_record,
    posting_key_record,
    submission_posting_key,
)
from apgraph.services.recording import audit, record_new_invoice

_tracer = trace.get_tracer(__name__)  # the OTel API: a no-op until a provider is set
MAX_IDEMPOTENCY_KEY = 128  # characters, as the key store keeps them
KEY_PATH = ("idempotencyKey",)


@dataclass(frozen=True, slots=True)
class SubmitInvoice:
    invoice: SubmittedInvoice
    idempotency_key: str


@dataclass(frozen=True, slots=True)
class _Facts:
    """What the submission is checked and matched against, read before the unit of work."""

    supplier: Supplier | None
    order: PurchaseOrder | None
    order_lines: Sequence[PurchaseOrderLine] | None  # None: no PO, or not one the caller sees
    cost_center: CostCenter | None
    receipts: Sequence[GoodsReceipt] | None  # None: materials management is down
    contracts: Sequence[ContractPrice] | None  # None: sourcing is down


@_tracer.start_as_current_span("apgraph.submit_invoice")
async def submit_invoice(
    cmd: SubmitInvoice,
    *,
    principal: Principal,
    workflow: Workflow,
    reads: Reads,
    clock: Clock,
) -> Outcome[Invoice]:
    """The invoice as it stands after submission: REJECTED, EXCEPTION, VALIDATED (materials
    management down), POSTED or POSTING_FAILED.

    Idempotent per caller (client id, else subject) and key: the same key with the same
    payload returns the first result, with another payload IDEMPOTENCY_KEY_REUSED. Reads go
    through `reads`, scoped to the caller, so another supplier's PO answers UNKNOWN_REFERENCE
    exactly as a PO that does not exist.
    """
    submitted = cmd.invoice
    if refused := _refusal(cmd, principal):
        return Outcome.failed(refused)
    at = clock.now()
    async with reads.sharing_one_connection():  # five reads, one pool checkout (asked at once)
        named = await _stored_facts(reads, submitted)
    problems = (
        *_unknown_references(submitted, named),
        *check_input(submitted, order_lines=named.order_lines, at=at),
    )
    if problems:
        return Outcome.failed(*problems)
    facts = await _facts(workflow.connectors, submitted, named)
    scope = principal.client_id or principal.subject
    fingerprint = _fingerprint(submitted)
    posting_key = submission_posting_key(scope, cmd.idempotency_key)
    stored: tuple[Invoice, ApprovalRoute | None] | None = None
    async with workflow.unit_of_work() as uow:
        on_file = await uow.idempotency.get(scope, cmd.idempotency_key)
        if on_file is None:
            # The reads under the supplier's and the PO lines' locks first, the invoice number
            # last: its counter row stays locked until commit (IDs follow commit order), so
            # every submission queues for it; claimed last, it is held only for the writes.
            checked = await _check(uow, submitted, facts, workflow)
            invoice_id, on_file = await uow.invoices.next_id_keyed(
                scope,
                cmd.idempotency_key,
                fingerprint=fingerprint,
                at=at,
                along=lambda claimed: [posting_key_record(claimed, posting_key, at=at)],
            )
            if on_file.result_ref == invoice_id:  # the key is ours: this request does the work
                stored = await _store(
                    uow, submitted, facts, checked, invoice_id, principal, workflow, at
                )
                await uow.commit()
        if stored is None:
            if on_file.fingerprint != fingerprint:
                return Outcome.failed(
                    Problem(
                        ProblemCode.IDEMPOTENCY_KEY_REUSED,
                        "this idempotency key was used for another invoice; use a new key",
                        KEY_PATH,
                    )
                )
            return Outcome.succeeded(await _first_result(uow, on_file))
    invoice, route = stored
    if invoice.status is not InvoiceStatus.MATCHED:
        return Outcome.succeeded(invoice)
    posted = await post_and_record(
        invoice,
        posting_key=posting_key,
        route=route,
        workflow=workflow,
        principal=principal,
        clock=clock,
    )
    return Outcome.succeeded(posted)


def _refusal(cmd: SubmitInvoice, principal: Principal) -> Problem | None:
    key = cmd.idempotency_key
    if not key.strip():
        return Problem(ProblemCode.FIELD_REQUIRED, "must not be blank", KEY_PATH)
    if len(key) > MAX_IDEMPOTENCY_KEY:
        return Problem(
            ProblemCode.FIELD_TOO_LONG, f"at most {MAX_IDEMPOTENCY_KEY} characters", KEY_PATH
        )
    supplier_id = cmd.invoice.supplier_id
    if principal.supplier_id is not None and supplier_id != principal.supplier_id:
        # said alike for any other supplier, existing or not: nothing to learn by probing
        return Problem(
            ProblemCode.SUPPLIER_NOT_ALLOWED,
            "you submit invoices of your own supplier only",
            ("input", "supplierId"),
        )
    return None


@dataclass(frozen=True, slots=True)
class _Stored:
    """What the database holds of what the invoice names, as the caller may see it."""

    supplier: Supplier | None
    facility_known: bool
    cost_center: CostCenter | None
    order: PurchaseOrder | None
    order_lines: Sequence[PurchaseOrderLine] | None  # None: no PO, or not one the caller sees


async def _stored_facts(reads: Reads, submitted: SubmittedInvoice) -> _Stored:
    """Asked all at once, so that inside `sharing_one_connection` they queue for one pooled
    connection: one after the other, each read found none waiting and gave the connection
    back, and took one anew (five pool checkouts, ~5 % of a submission's CPU; issue 19)."""
    order_read, suppliers, facilities, centers = await asyncio.gather(
        _order_and_lines(reads, submitted),
        reads.suppliers.get_many([submitted.supplier_id]),
        reads.facilities.get_many([submitted.facility_id]),
        reads.facilities.cost_centers([submitted.cost_center_id]),
    )
    order, order_lines = order_read
    return _Stored(
        supplier=suppliers[0] if suppliers else None,
        facility_known=bool(facilities),
        cost_center=centers[0] if centers else None,
        order=order,
        order_lines=order_lines,
    )


async def _order_and_lines(
    reads: Reads, submitted: SubmittedInvoice
) -> tuple[PurchaseOrder | None, Sequence[PurchaseOrderLine] | None]:
    """The PO the invoice names and its lines; (None, None) without one it may see."""
    if submitted.purchase_order_id is None:
        return None, None
    found = await reads.purchase_orders.get_many([submitted.purchase_order_id])
    if not found:
        return None, None
    order = found[0]
    return order, [line for _, line in await reads.purchase_orders.lines_of([order.id])]


def _unknown_references(submitted: SubmittedInvoice, stored: _Stored) -> list[Problem]:
    """What the invoice names but the caller cannot see. The store keeps invoices only
    against rows that exist, so such a submission is refused, not stored REJECTED; another
    supplier's PO answers as an unknown one does."""
    missing = [
        ("supplierId", stored.supplier is None, submitted.supplier_id),
        ("facilityId", not stored.facility_known, submitted.facility_id),
        ("costCenterId", stored.cost_center is None, submitted.cost_center_id),
        (
            "purchaseOrderId",
            submitted.purchase_order_id is not None and stored.order is None,
            submitted.purchase_order_id,
        ),
    ]
    return [
        Problem(
            ProblemCode.UNKNOWN_REFERENCE, f"no {name.removesuffix('Id')} {value}", ("input", name)
        )
        for name, unknown, value in missing
        if unknown
    ]


async def _facts(
    connectors: WorkflowConnectors, submitted: SubmittedInvoice, stored: _Stored
) -> _Facts:
    """`stored`, and what materials management and sourcing say of the PO: asked only for a
    submission past the input checks, and with no database connection held meanwhile."""
    receipts: Sequence[GoodsReceipt] | None = ()
    contracts: Sequence[ContractPrice] | None = ()
    order, order_lines = stored.order, stored.order_lines
    if order is not None and order_lines is not None:
        receipts, contracts = await asyncio.gather(  # at once: one round trip, not two
            receipts_or_none(connectors, order),
            contracts_or_none(
                connectors,
                supplier_id=submitted.supplier_id,
                invoice_date=submitted.invoice_date,
                billed_po_lines={line.po_line_no for line in submitted.lines},
                order_lines=order_lines,
            ),
        )
    return _Facts(
        supplier=stored.supplier,
        order=order,
        order_lines=order_lines,
        cost_center=stored.cost_center,
        receipts=receipts,
        contracts=contracts,
    )


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the unit of work read under the supplier's lock (and the billed PO lines' locks),
    and the validation it decided; none of it depends on the invoice's ID."""

    lines: Sequence[InvoiceLine]
    number: NumberKey  # its number's key, stored with it
    on_file: Sequence[Invoice]  # the supplier's invoices the duplicate rules could flag
    reasons: Sequence[Reason]  # validation's; none: VALIDATED
    billed_before: Sequence[BilledInvoice]  # on the PO lines it bills; () unless matched


async def _check(
    uow: UnitOfWork, submitted: SubmittedInvoice, facts: _Facts, workflow: Workflow
) -> _Checked:
    """Validates under the supplier's row lock, then, for a valid PO invoice, reads what was
    billed on its PO lines under their locks (docs/invariants.md). The invoice is not stored
    yet, so nothing read here is itself."""
    lines = submitted.invoice_lines()
    numbers = workflow.policy.review.numbers
    number = numbers.keyed(submitted.supplier_invoice_number)
    on_file = await uow.invoices.duplicate_candidates(
        submitted.supplier_id, number=number, currency=submitted.currency, total=submitted.total
    )
    reasons = validate_invoice(
        submitted,
        ValidationFacts(facts.supplier, facts.order, facts.cost_center, on_file),
        duplicate_window_days=workflow.policy.duplicate_window_days,
        numbers=numbers,
    )
    billed_before: Sequence[BilledInvoice] = ()
    if not reasons and submitted.purchase_order_id is not None:
        billed_before = await uow.invoices.billed_per_po_line(
            submitted.purchase_order_id,
            lines={line.po_line_no for line in lines if line.po_line_no is not None},
        )
    return _Checked(lines, number, on_file, tuple(reasons), billed_before)


async def _store(
    uow: UnitOfWork,
    submitted: SubmittedInvoice,
    facts: _Facts,
    checked: _Checked,
    invoice_id: InvoiceId,
    principal: Principal,
    workflow: Workflow,
    at: datetime,
) -> tuple[Invoice, ApprovalRoute | None]:
    """Receives, validates and matches the invoice as `checked` decided, and writes all of it
    into `uow`: the invoice is inserted as it ends up (one statement, no update after)."""
    supplier = facts.supplier
    received = lifecycle.receive(
        submitted,
        invoice_id=invoice_id,
        submitted_by=principal.subject,
        payment_terms=supplier.payment_terms if supplier else None,
        at=at,
    )
    transitions: list[Transition] = [
        received,
        lifecycle.validate(received.invoice, checked.reasons, at=at),
    ]
    route = None
    if transitions[-1].invoice.status is InvoiceStatus.VALIDATED:
        result = _match(transitions[-1].invoice, checked, facts, workflow)
        if result is not None:
            transitions.append(lifecycle.match(transitions[-1].invoice, result, at=at))
    invoice = transitions[-1].invoice
    if invoice.status is InvoiceStatus.EXCEPTION and facts.cost_center is not None:
        route = route_exception(
            invoice, facts.cost_center, workflow.policy.approvals, waiting_since=at, now=at
        )
    await record_new_invoice(
        uow, transitions, checked.lines, number=checked.number, actor=principal.subject, at=at
    )
    codes = [reason.code for transition in transitions for reason in transition.reasons]
    detail = " ".join([invoice.status.value, *dict.fromkeys(codes)])
    if route is not None:
        detail += f"; routed to {', '.join(route.approvers)}"
    await audit(
        uow,
        principal=principal,
        action="invoice.submit",
        invoice=invoice,
        entity_ids=[invoice.purchase_order_id] if invoice.purchase_order_id else [],
        outcome=AuditOutcome.SUCCEEDED,
        detail=detail,
        trace_id=workflow.trace_id,
        at=at,
    )
    return invoice, route


def _match(
    invoice: Invoice, checked: _Checked, facts: _Facts, workflow: Workflow
) -> MatchResult | None:
    """The three-way match and the review checks (domain/review.py); None while materials
    management is down: both wait for the re-match loop."""
    if invoice.purchase_order_id is None:
        result: MatchResult | None = MatchResult(())
    else:
        result = match_invoice(
            invoice,
            checked.lines,
            order_lines=facts.order_lines or (),
            receipts=facts.receipts,
            billed_before=checked.billed_before,
            contracts=facts.contracts,
            rules=workflow.policy.match_rules,
            newest=True,  # under the lines' locks, every invoice on file was stored before it
        )
    if result is None:
        return None
    return result.with_review(
        review_invoice(
            invoice,
            order=facts.order,
            on_file=checked.on_file,
            rules=workflow.policy.review,
            duplicate_window_days=workflow.policy.duplicate_window_days,
        )
    )


async def _first_result(uow: UnitOfWork, on_file: IdempotencyRecord) -> Invoice:
    """As it stands now. MATCHED means its posting is under way, or was interrupted by a
    crash; it is not posted again from here, where it would race the first request's
    posting: `retryPosting` finishes an interrupted one under the same key."""
    invoice_id = InvoiceId(on_file.result_ref)
    first = await uow.invoices.get_for_update(invoice_id)
    if first is None:
        raise LookupError(f"idempotency key {on_file.key!r} names {invoice_id}, which is gone")
    return first


def _fingerprint(submitted: SubmittedInvoice) -> str:
    """Of the payload as sent: 10.0 and 10.00 differ, as the client wrote them."""
    canonical = json.dumps(asdict(submitted), sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
