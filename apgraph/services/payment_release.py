"""Handing released payments to the ERP, and recording its confirmation: paid once.

Like posting, the ERP is called between units of work, never inside one. Paid once rests on:

1. Each payment is ordered under one idempotency key, its ID, and both ERPs answer a repeat
   with the first order: a run released twice, a replay after the ERP was down, or two
   workers sending at once all order it once.
2. The ERP's answer is recorded in a unit of work that locks the payment and checks its
   status again; a second answer for the same payment changes nothing.
3. A confirmation moves the payment to PAID once (the domain refuses a second one with
   PAYMENT_ALREADY_CONFIRMED), and with it its invoices to PAID, then REMITTED once the
   remittance advice is stored: `payment.released` and `remittance.sent` are emitted once.

The ERP down past every retry leaves the payment RELEASE_FAILED: a dead letter, replayed by
`apgraph payments replay` or `retryPaymentRelease` under the same key.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from apgraph.domain import lifecycle, payments
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.codes import ProblemCode
from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.erp import ConfirmationState, PaymentConfirmation, PaymentOrderLine
from apgraph.domain.ids import PaymentId, PaymentRunId
from apgraph.domain.payments import Payment, PaymentExceptionCode, PaymentStatus
from apgraph.domain.principal import ALL_SCOPES, Principal, Role
from apgraph.domain.problems import DomainError, Outcome, Problem
from apgraph.domain.remittance import (
    RemittanceAdvice,
    RemittanceDocument,
    RemittanceLine,
    documents_of,
    remittance_line,
    remittance_ref,
)
from apgraph.services.payment_audit import audited, refused
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.connectors import ConnectorError, ConnectorRejected
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.recording import record_many
from apgraph.services.remittance_pdf import render_pdf

CONFIRMER = Principal(
    subject="apgraph.payments",
    roles=frozenset({Role.FINANCE_ADMIN}),
    scopes=frozenset(ALL_SCOPES),
)  # the confirmation poller and replays, named as such in histories and the audit trail
ACCOUNT_CLOSED = "ACCOUNT_CLOSED"  # the ERPs' return reason for a closed account
PAYMENT_PATH = ("paymentId",)


@dataclass(frozen=True, slots=True)
class ConfirmationReport:
    paid: list[PaymentId] = field(default_factory=list)
    failed: list[PaymentId] = field(default_factory=list)
    pending: list[PaymentId] = field(default_factory=list)


async def send_released(
    run_id: PaymentRunId, *, workflow: Workflow, principal: Principal, clock: Clock
) -> None:
    """Orders every payment of the run the ERP has not taken yet."""
    async with workflow.unit_of_work() as uow:
        waiting = [
            p
            for p in await uow.payments.of_run(run_id)
            if p.status is PaymentStatus.RELEASED and p.erp_reference is None
        ]
        invoices = await uow.payments.settled_invoices([p.id for p in waiting])
        allocations = await uow.payments.allocations_of([p.id for p in waiting])
    refs = {invoice.id: invoice.erp_document_ref or "" for invoice in invoices}
    for payment in waiting:
        lines = [
            PaymentOrderLine(a.invoice_id, refs[a.invoice_id], a.amount, a.discount)
            for a in allocations
            if a.payment_id == payment.id
        ]
        await send_one(payment, lines, workflow=workflow, principal=principal, clock=clock)


async def send_one(
    payment: Payment,
    lines: Sequence[PaymentOrderLine],
    *,
    workflow: Workflow,
    principal: Principal,
    clock: Clock,
) -> Payment:
    """Orders one payment and records the ERP's answer; returns it as it stands afterwards."""
    confirmation: PaymentConfirmation | None = None
    failure: ConnectorError | None = None
    try:
        confirmation = await workflow.connectors.erp_payments.release_payment(
            payment, lines, idempotency_key=payment.id
        )
    except ConnectorError as error:
        failure = error
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        current = await uow.payments.get_for_update(payment.id)
        if current is None or current.status is not PaymentStatus.RELEASED:
            return current or payment
        if current.erp_reference is not None:
            return current  # another sender recorded the ERP's answer first
        if confirmation is not None:
            moved = payments.sent(current, erp_reference=confirmation.reference)
            detail = confirmation.reference
        elif isinstance(failure, ConnectorRejected):
            moved = payments.fail(current, code=PaymentExceptionCode.ERP_REJECTED)
            detail = f"{PaymentExceptionCode.ERP_REJECTED.value}: {failure}"
        else:
            moved = payments.release_failed(current)
            detail = f"{PaymentExceptionCode.ERP_UNAVAILABLE.value}: {failure}"
        await uow.payments.save([moved])
        await _file_dead_letter(uow, moved, detail, principal=principal, at=at)
        await audited(
            uow,
            "payment.release",
            _payment_ids(moved),
            detail,
            outcome=AuditOutcome.SUCCEEDED if confirmation else AuditOutcome.FAILED,
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    if confirmation is not None and confirmation.state is not ConfirmationState.PENDING:
        outcome = await record_confirmation(
            moved.id, confirmation, workflow=workflow, principal=principal, clock=clock
        )
        return outcome.value or moved
    return moved


async def _file_dead_letter(
    uow: UnitOfWork, moved: Payment, detail: str, *, principal: Principal, at: datetime
) -> None:
    """RELEASE_FAILED is a dead letter, filed with the failure (one more attempt on a replay
    that failed again); any other answer of the ERP resolves the payment's open letter."""
    if moved.status is PaymentStatus.RELEASE_FAILED:
        await uow.dead_letters.record(
            DeadLetterKind.PAYMENT_RELEASE,
            moved.id,
            code=PaymentExceptionCode.ERP_UNAVAILABLE.value,
            detail=detail,
            at=at,
        )
    else:
        await uow.dead_letters.resolve(
            DeadLetterKind.PAYMENT_RELEASE,
            moved.id,
            outcome=f"{moved.status.value} {detail}",
            by=principal.subject,
            at=at,
        )


async def replay_failed_releases(
    *, workflow: Workflow, clock: Clock, limit: int, principal: Principal = CONFIRMER
) -> list[Payment]:
    """Orders the dead letters (RELEASE_FAILED) again under their one key, oldest first."""
    async with workflow.unit_of_work() as uow:
        dead = await uow.payments.with_status(PaymentStatus.RELEASE_FAILED, limit)
    replayed = []
    for payment in dead:
        outcome = await retry_release(
            payment.id, workflow=workflow, clock=clock, principal=principal
        )
        if outcome.value is not None:
            replayed.append(outcome.value)
    return replayed


async def retry_release(
    payment_id: PaymentId, *, workflow: Workflow, clock: Clock, principal: Principal
) -> Outcome[Payment]:
    """RELEASE_FAILED → RELEASED, then ordered again under the payment's one key."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        current = await uow.payments.get_for_update(payment_id)
        if current is None or not _may_act(principal, current):
            return await refused(
                uow,
                _missing(payment_id),
                action="payment.retry_release",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        if current.status is not PaymentStatus.RELEASE_FAILED:
            problem = Problem(
                ProblemCode.ILLEGAL_TRANSITION,
                f"cannot retry the release of {payment_id} while it is {current.status.value}",
                PAYMENT_PATH,
            )
            return await refused(
                uow,
                problem,
                action="payment.retry_release",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        again = payments.release(current, at=at)
        await uow.payments.save([again])
        invoices = await uow.payments.settled_invoices([payment_id])
        allocations = await uow.payments.allocations_of([payment_id])
        await uow.commit()
    refs = {invoice.id: invoice.erp_document_ref or "" for invoice in invoices}
    lines = [
        PaymentOrderLine(a.invoice_id, refs[a.invoice_id], a.amount, a.discount)
        for a in allocations
    ]
    sent = await send_one(again, lines, workflow=workflow, principal=principal, clock=clock)
    return Outcome.succeeded(sent)


async def confirm_released(
    *, workflow: Workflow, clock: Clock, limit: int, principal: Principal = CONFIRMER
) -> ConfirmationReport:
    """Polls the ERP for each payment it took and has not confirmed; records what it says."""
    report = ConfirmationReport()
    async with workflow.unit_of_work() as uow:
        waiting = await uow.payments.awaiting_confirmation(limit)
    for payment in waiting:
        assert payment.erp_reference is not None  # awaiting_confirmation's promise
        try:
            confirmation = await workflow.connectors.erp_payments.payment_confirmation(
                payment.erp_reference
            )
        except ConnectorError:
            report.pending.append(payment.id)  # asked again on the next poll
            continue
        outcome = await record_confirmation(
            payment.id, confirmation, workflow=workflow, principal=principal, clock=clock
        )
        status = outcome.value.status if outcome.value else None
        if status is PaymentStatus.PAID:
            report.paid.append(payment.id)
        elif status is PaymentStatus.FAILED:
            report.failed.append(payment.id)
        else:
            report.pending.append(payment.id)
    return report


async def confirm_payment(
    payment_id: PaymentId, *, workflow: Workflow, clock: Clock, principal: Principal
) -> Outcome[Payment]:
    """Asks the ERP about one payment now and records the answer. A payment confirmed
    already is refused (PAYMENT_ALREADY_CONFIRMED): a confirmation counts once."""
    async with workflow.unit_of_work() as uow:
        current = await uow.payments.get_for_update(payment_id)
        at = clock.now()
        if current is None or not _may_act(principal, current):
            return await refused(
                uow,
                _missing(payment_id),
                action="payment.confirm",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        problem = None
        if current.status is PaymentStatus.PAID:
            problem = Problem(
                ProblemCode.PAYMENT_ALREADY_CONFIRMED, f"{payment_id} is paid", PAYMENT_PATH
            )
        elif current.status is not PaymentStatus.RELEASED or current.erp_reference is None:
            problem = Problem(
                ProblemCode.ILLEGAL_TRANSITION,
                f"{payment_id} is {current.status.value}: no ERP order to confirm",
                PAYMENT_PATH,
            )
        if problem is not None:
            return await refused(
                uow,
                problem,
                action="payment.confirm",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        reference = current.erp_reference
    assert reference is not None
    try:
        confirmation = await workflow.connectors.erp_payments.payment_confirmation(reference)
    except ConnectorError as error:
        return Outcome.failed(
            Problem(
                ProblemCode.PAYMENT_NOT_CONFIRMED,
                f"the ERP did not answer: {error.code.value}",
                PAYMENT_PATH,
            )
        )
    if confirmation.state is ConfirmationState.PENDING:
        return Outcome.failed(
            Problem(
                ProblemCode.PAYMENT_NOT_CONFIRMED, f"{payment_id} is not settled yet", PAYMENT_PATH
            )
        )
    return await record_confirmation(
        payment_id, confirmation, workflow=workflow, principal=principal, clock=clock
    )


async def record_confirmation(
    payment_id: PaymentId,
    confirmation: PaymentConfirmation,
    *,
    workflow: Workflow,
    principal: Principal,
    clock: Clock,
) -> Outcome[Payment]:
    """PAID: the payment and its invoices PAID, the remittance advice stored (PDF, CSV, X12
    820), the invoices REMITTED. REJECTED: a payment exception with its reason code. A
    payment paid already refuses a second confirmation (nothing changes, the attempt is
    audited)."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        current = await uow.payments.get_for_update(payment_id)
        if current is None:
            raise LookupError(f"{payment_id} vanished while it was being confirmed")
        if confirmation.state is ConfirmationState.PENDING:
            return Outcome.succeeded(current)
        if confirmation.state is ConfirmationState.REJECTED:
            if current.status is not PaymentStatus.RELEASED:
                return Outcome.succeeded(current)
            code = (
                PaymentExceptionCode.ACCOUNT_CLOSED
                if confirmation.reason == ACCOUNT_CLOSED
                else PaymentExceptionCode.ERP_REJECTED
            )
            failed = payments.fail(current, code=code)
            await uow.payments.save([failed])
            await audited(
                uow,
                "payment.confirm",
                _payment_ids(failed),
                f"{code.value}: {confirmation.reason}",
                outcome=AuditOutcome.FAILED,
                principal=principal,
                workflow=workflow,
                at=at,
            )
            await uow.commit()
            return Outcome.succeeded(failed)
        try:
            paid = payments.confirm(current, at=at, remittance_ref=remittance_ref(current.id))
        except DomainError as error:
            return await refused(
                uow,
                error.problem.at(*PAYMENT_PATH),
                action="payment.confirm",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        allocations = await uow.payments.allocations_of([payment_id])
        settled = [a.invoice_id for a in allocations]
        invoices = {i.id: i for i in await uow.invoices.get_many_for_update(settled)}
        moves = []
        for allocation in allocations:
            paid_step = lifecycle.pay(invoices[allocation.invoice_id], payment_id=paid.id, at=at)
            remitted = lifecycle.remit(
                paid_step.invoice,
                payment_id=paid.id,
                remittance_ref=remittance_ref(paid.id),
                at=at,
            )
            moves.append((paid_step, remitted))
        await record_many(
            uow,
            moves,
            actor=principal.subject,
            at=at,
            histories=await uow.invoices.history_lengths(settled),
        )
        lines = [remittance_line(invoices[a.invoice_id], a) for a in allocations]
        await uow.payments.save([paid])
        await uow.payments.add_remittance(await _documents(uow, paid, lines, at), at=at)
        await audited(
            uow,
            "payment.confirm",
            _payment_ids(paid),
            confirmation.reference,
            outcome=AuditOutcome.SUCCEEDED,
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(paid)


async def _documents(
    uow: UnitOfWork, payment: Payment, lines: list[RemittanceLine], at: datetime
) -> list[RemittanceDocument]:
    payees = await uow.payments.payees([payment.supplier_id])
    supplier = payees[payment.supplier_id][0]
    facility = (
        await uow.payments.facility_name(payment.facility_id) if payment.facility_id else None
    )
    advice = RemittanceAdvice(
        payment=payment,
        payer_name=facility or "apgraph",
        payee_name=supplier.legal_name,
        lines=tuple(lines),
    )
    return documents_of(advice, pdf=render_pdf(advice, at=at), at=at)


def _may_act(principal: Principal, payment: Payment) -> bool:
    return principal.supplier_id is None and (
        principal.facility_ids is None or payment.facility_id in principal.facility_ids
    )


def _payment_ids(payment: Payment) -> tuple[str, ...]:
    return (
        payment.id,
        payment.supplier_id,
        *((payment.facility_id,) if payment.facility_id else ()),
    )


def _missing(payment_id: PaymentId) -> Problem:
    return Problem(ProblemCode.PAYMENT_NOT_FOUND, f"no payment {payment_id}", PAYMENT_PATH)
