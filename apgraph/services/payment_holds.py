"""Finance's own holds on a scheduled payment (a dispute on one of its invoices), and the
review that lifts a hold, bank-account changes included. Each is audited."""

from dataclasses import replace

from apgraph.domain import payments
from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import PaymentId
from apgraph.domain.payments import HoldCode, Payment
from apgraph.domain.principal import Principal
from apgraph.domain.problems import DomainError, Outcome, Problem
from apgraph.domain.scheduling import bank_fingerprint
from apgraph.services.payment_audit import audited, refused
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.workflow import Workflow

PAYMENT_PATH = ("paymentId",)


async def hold_payment(
    payment_id: PaymentId, reason: str, *, principal: Principal, workflow: Workflow, clock: Clock
) -> Outcome[Payment]:
    """A scheduled payment leaves any run not yet released and stays out until lifted."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        current = await uow.payments.get_for_update(payment_id)
        problem = _refusal(current, principal, payment_id)
        if problem is None and not reason.strip():
            problem = Problem(ProblemCode.REASON_REQUIRED, "say why, for auditors", ("reason",))
        if problem is None and current is not None:
            try:
                held = payments.hold(current, code=HoldCode.PAYMENT_HELD, reason=reason.strip())
            except DomainError as error:
                problem = error.problem.at(*PAYMENT_PATH)
        if problem is not None or current is None:
            assert problem is not None
            return await refused(
                uow,
                problem,
                action="payment.hold",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        await uow.payments.save([held])
        await audited(
            uow,
            "payment.hold",
            (held.id, held.supplier_id),
            reason.strip(),
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(held)


async def release_payment_hold(
    payment_id: PaymentId,
    note: str | None,
    *,
    principal: Principal,
    workflow: Workflow,
    clock: Clock,
) -> Outcome[Payment]:
    """Lifts the hold after review: the payment may go into the next run. A bank-account
    hold lifted so clears the account as it is now for this payment."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        current = await uow.payments.get_for_update(payment_id)
        problem = _refusal(current, principal, payment_id)
        if problem is None and current is not None:
            try:
                lifted = payments.lift_hold(current)
            except DomainError as error:
                problem = error.problem.at(*PAYMENT_PATH)
        if problem is not None or current is None:
            assert problem is not None
            return await refused(
                uow,
                problem,
                action="payment.release_hold",
                entity_id=payment_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        if current.hold_code is HoldCode.BANK_ACCOUNT_CHANGED:
            payees = await uow.payments.payees([current.supplier_id])
            lifted = replace(
                lifted, bank_fingerprint=bank_fingerprint(payees[current.supplier_id][0])
            )
        await uow.payments.save([lifted])
        detail = (
            f"{current.hold_code.value if current.hold_code else ''} reviewed: {note or ''}".strip()
        )
        await audited(
            uow,
            "payment.release_hold",
            (lifted.id, lifted.supplier_id),
            detail,
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(lifted)


def _refusal(
    current: Payment | None, principal: Principal, payment_id: PaymentId
) -> Problem | None:
    visible = (
        current is not None
        and principal.supplier_id is None
        and (principal.facility_ids is None or current.facility_id in principal.facility_ids)
    )
    if not visible:
        return Problem(ProblemCode.PAYMENT_NOT_FOUND, f"no payment {payment_id}", PAYMENT_PATH)
    return None
