"""Posting an invoice to its facility's ERP at most once, and recording how it went.

The ERP is called between two units of work, never inside one: the posting ledger of the
connectors writes through its own connection (which SQLite's single writer would block), and
no row lock should be held across retries with backoff. At most once rests on three things:

1. Each invoice has one posting key, kept on file (`posting_key_record`) in the
   transaction that first stores it. Every attempt (the end of a submission, the last
   approval, `retryPosting`) posts under that key, and the ERP connectors are idempotent on
   it: a repeat returns the first document, and an attempt whose answer was lost is looked
   up before anything is posted again.
2. A submission's key derives from the client's idempotency key, not from the invoice ID: a
   unit of work that rolls back gives its invoice ID back to the counter, so after a crash
   the same ID may name another invoice, while the client's key still names this one.
3. The ERP's answer is recorded in a unit of work that locks the invoice row and checks its
   status again, so two callers who both reached the ERP record one POSTED between them.

A crash after the ERP booked the invoice but before its answer was recorded leaves the invoice
MATCHED (or approved in EXCEPTION); `retryPosting` posts it again under its key and gets the
first document back, and for MATCHED the servers do so on their own (posting_recovery.py).
(A resubmission under the same idempotency key only reports it: it cannot tell an interrupted
posting from one still under way.)
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from opentelemetry import trace

from apgraph.domain import lifecycle
from apgraph.domain.approvals import ApprovalRoute
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.erp import ErpDocumentRef
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Approval, Invoice, InvoiceStatus
from apgraph.domain.lifecycle import Transition
from apgraph.domain.principal import Principal
from apgraph.domain.problems import DomainError
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import ConnectorError
from apgraph.services.ports.unit_of_work import IdempotencyRecord, UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.recording import audit, record_transitions

_tracer = trace.get_tracer(__name__)  # the OTel API: a no-op until a provider is set
POSTING_KEYS = "apgraph.erp-posting"  # the idempotency scope that keeps each invoice's key
POSTABLE = frozenset({InvoiceStatus.MATCHED, InvoiceStatus.EXCEPTION, InvoiceStatus.POSTING_FAILED})


def submission_posting_key(scope: str, idempotency_key: str) -> str:
    """The ERP key of an invoice submitted under (scope, key): stable across crashes."""
    digest = hashlib.sha256(f"{scope}\0{idempotency_key}".encode()).hexdigest()
    return f"sub-{digest[:40]}"


def posting_key_record(invoice_id: InvoiceId, key: str, *, at: datetime) -> IdempotencyRecord:
    """How an invoice's posting key is kept on file, in the transaction that first stores
    the invoice (a submission passes it `along` with the client's key: one round trip)."""
    fingerprint = hashlib.sha256(key.encode()).hexdigest()
    return IdempotencyRecord(POSTING_KEYS, invoice_id, fingerprint, key, at)


async def posting_key_of(uow: UnitOfWork, invoice_id: InvoiceId) -> str:
    """The key on file; an invoice stored without one (the seed) posts under its own ID,
    which is stable once committed."""
    record = await uow.idempotency.get(POSTING_KEYS, invoice_id)
    return record.result_ref if record is not None else invoice_id


@_tracer.start_as_current_span("apgraph.post_invoice")
async def post_and_record(
    invoice: Invoice,
    *,
    posting_key: str,
    route: ApprovalRoute | None,
    workflow: Workflow,
    principal: Principal,
    clock: Clock,
) -> Invoice:
    """Posts `invoice` (committed MATCHED, approved EXCEPTION or POSTING_FAILED) and records
    POSTED, or POSTING_FAILED with an `invoice.posting_failed` event when the ERP stayed down
    past its retries or refused. Returns the invoice as it stands afterwards; when another
    caller recorded the posting first, as that caller left it."""
    document: ErpDocumentRef | None = None
    failure: ConnectorError | None = None
    try:
        document = await workflow.connectors.erp.post_invoice(invoice, idempotency_key=posting_key)
    except ConnectorError as error:
        failure = error
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        current = await uow.invoices.get_for_update(invoice.id)
        if current is None:
            raise LookupError(f"{invoice.id} vanished between its commit and its posting")
        if current.status not in POSTABLE:
            return current
        # only an exception's posting turns on its approvals (lifecycle.check_postable)
        decisions: Sequence[Approval] = ()
        if current.status is InvoiceStatus.EXCEPTION:
            decisions = await uow.invoices.approvals(current.id)
        try:
            transition = _after_erp(current, document, failure, route, decisions, at)
        except DomainError:
            return current  # no longer postable (e.g. rejected meanwhile); nothing to record
        # numbered on after the stored history by the store, as it saves them (under the
        # invoice's row lock): on PostgreSQL in the statement that saves, no read before it
        await record_transitions(
            uow, [transition], actor=principal.subject, at=at, history_so_far=None
        )
        await _file_dead_letter(uow, current, transition, document, failure, principal, at)
        await audit(
            uow,
            principal=principal,
            action="invoice.post",
            invoice=current,
            outcome=AuditOutcome.SUCCEEDED if document else AuditOutcome.FAILED,
            detail=document.reference if document else (failure.code.value if failure else None),
            trace_id=workflow.trace_id,
            at=at,
        )
        await uow.commit()
    return transition.invoice


async def _file_dead_letter(
    uow: UnitOfWork,
    before: Invoice,
    transition: Transition,
    document: ErpDocumentRef | None,
    failure: ConnectorError | None,
    principal: Principal,
    at: datetime,
) -> None:
    """A posting that failed is a dead letter, filed with the failure; one posted resolves
    its letter (a replay, retryPosting) in the transaction that records it."""
    if transition.invoice.status is InvoiceStatus.POSTING_FAILED:
        code = failure.code.value if failure is not None else "NO_ANSWER"
        await uow.dead_letters.record(
            DeadLetterKind.POSTING,
            before.id,
            code=code,
            detail=str(failure) if failure is not None else None,
            at=at,
        )
    elif before.status is InvoiceStatus.POSTING_FAILED and document is not None:
        await uow.dead_letters.resolve(
            DeadLetterKind.POSTING,
            before.id,
            outcome=f"{InvoiceStatus.POSTED.value} {document.reference}",
            by=principal.subject,
            at=at,
        )


def _after_erp(
    invoice: Invoice,
    document: ErpDocumentRef | None,
    failure: ConnectorError | None,
    route: ApprovalRoute | None,
    decisions: Sequence[Approval],
    at: datetime,
) -> Transition:
    if document is None:
        reason = failure.code.value if failure is not None else "no answer"
        return lifecycle.fail_posting(
            invoice, reason=reason, at=at, route=route, decisions=decisions
        )
    if invoice.status is InvoiceStatus.POSTING_FAILED:
        return lifecycle.retry_posting(invoice, erp_document_ref=document.reference, at=at)
    return lifecycle.post(
        invoice, erp_document_ref=document.reference, at=at, route=route, decisions=decisions
    )
