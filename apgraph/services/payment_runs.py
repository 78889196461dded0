"""Payment runs: propose, approve, release and cancel, under maker–checker.

Row level first: a facility the caller may not manage answers FACILITY_NOT_MANAGED, as an
unknown one does, and a run of such a facility PAYMENT_RUN_NOT_FOUND. Each command is one
unit of work that locks the run first, so two approvers (or two releases) acting at once are
decided one after the other. A refused command changes nothing but the audit trail.

Releasing commits the run RELEASED and its payments RELEASED first, then hands each payment
to its facility's ERP outside any transaction (services/payment_release.py), as posting does.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TypeVar

from apgraph.domain import payment_runs
from apgraph.domain.codes import ProblemCode
from apgraph.domain.ids import FacilityId, PaymentId, PaymentRunId
from apgraph.domain.payment_runs import PaymentRun
from apgraph.domain.payments import Payment, PaymentStatus
from apgraph.domain.principal import Principal
from apgraph.domain.problems import DomainError, Outcome, Problem
from apgraph.domain.scheduling import bank_fingerprint
from apgraph.services.payment_audit import audited, refused
from apgraph.services.payment_release import send_released
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.reads import Reads
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.scheduling import schedule_posted

RUN_PATH = ("runId",)
T = TypeVar("T")
CATCH_UP_LIMIT = 100_000  # POSTED invoices a proposal schedules first, at most


@dataclass(frozen=True, slots=True)
class SchedulePaymentRun:
    facility_id: FacilityId
    pay_date: date
    payment_ids: tuple[PaymentId, ...] | None = None  # None: every payable one


@dataclass(frozen=True, slots=True)
class RunProposal:
    run: PaymentRun
    held: tuple[Payment, ...]  # due by the pay date, kept out by a hold (with its reason)


@dataclass(frozen=True, slots=True)
class RunRelease:
    run: PaymentRun
    held: tuple[Payment, ...]  # pulled out of the run at release: a hold came up since
    failed: tuple[Payment, ...]  # payment exceptions (the bank account changed since approval)


async def schedule_payment_run(
    cmd: SchedulePaymentRun,
    *,
    principal: Principal,
    workflow: Workflow,
    reads: Reads,
    clock: Clock,
) -> Outcome[RunProposal]:
    """Proposes a run of the facility's scheduled payments due by the pay date and free of
    holds (those held are reported with why). POSTED invoices are scheduled first."""
    at = clock.now()
    if await _manages(principal, reads, cmd.facility_id):
        await schedule_posted(
            workflow=workflow, clock=clock, limit=CATCH_UP_LIMIT, facility_id=cmd.facility_id
        )
    async with workflow.unit_of_work() as uow:
        if not await _manages(principal, reads, cmd.facility_id):
            problem = Problem(
                ProblemCode.FACILITY_NOT_MANAGED,
                f"no facility {cmd.facility_id} whose payments you manage",
                ("facilityId",),
            )
            return await refused(
                uow,
                problem,
                action="payment_run.propose",
                entity_id=cmd.facility_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        due = await uow.payments.due_for_update(cmd.facility_id, cmd.pay_date)
        payees = await uow.payments.payees([p.supplier_id for p in due])
        checked = [
            payment_runs.with_holds(
                p,
                supplier=payees[p.supplier_id][0],
                bank_changed_at=payees[p.supplier_id][1],
                run_on=at.date(),
                rules=workflow.policy.payments,
            )
            for p in due
        ]
        candidates = checked
        if cmd.payment_ids is not None:
            by_id = {p.id: p for p in checked}
            for index, payment_id in enumerate(cmd.payment_ids):
                named = by_id.get(payment_id)
                path = ("paymentIds", str(index))
                if named is None:
                    problem = Problem(
                        ProblemCode.PAYMENT_NOT_FOUND,
                        f"{payment_id} is not a scheduled payment of {cmd.facility_id} due by "
                        f"{cmd.pay_date}",
                        path,
                    )
                    return await refused(
                        uow,
                        problem,
                        action="payment_run.propose",
                        entity_id=cmd.facility_id,
                        principal=principal,
                        workflow=workflow,
                        at=at,
                    )
                if named.held:
                    problem = Problem(
                        ProblemCode.PAYMENT_ON_HOLD,
                        f"{payment_id} is on hold: {named.hold_reason}",
                        path,
                    )
                    return await refused(
                        uow,
                        problem,
                        action="payment_run.propose",
                        entity_id=cmd.facility_id,
                        principal=principal,
                        workflow=workflow,
                        at=at,
                    )
            candidates = [by_id[payment_id] for payment_id in cmd.payment_ids]
        currencies = sorted({p.currency for p in candidates if not p.held})
        try:
            run, chosen = payment_runs.propose(
                await uow.payments.next_run_id(),
                facility_id=cmd.facility_id,
                pay_date=cmd.pay_date,
                payments=[p for p in candidates if p.currency == (currencies or [""])[0]],
                by=principal.subject,
                at=at,
                today=at.date(),
                rules=workflow.policy.payments,
            )
        except DomainError as error:
            field: tuple[str, ...] = ()
            if error.problem.code is ProblemCode.PAY_DATE_IN_PAST:
                field = ("payDate",)
            if error.problem.code is ProblemCode.NOTHING_TO_PAY:
                # the holds it found are findings, not the refused change: they are recorded,
                # so finance sees why nothing could be paid
                await _record_holds(uow, due, checked, cmd.facility_id, principal, workflow, at)
            return await refused(
                uow,
                error.problem.at(*field),
                action="payment_run.propose",
                entity_id=cmd.facility_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        chosen = tuple(
            replace(p, bank_fingerprint=bank_fingerprint(payees[p.supplier_id][0])) for p in chosen
        )
        held = tuple(p for p in checked if p.held)
        await uow.payments.add_run(run)
        await _record_holds(uow, due, checked, cmd.facility_id, principal, workflow, at)
        await uow.payments.save(list(chosen))  # after the holds: a hold lifted, now in the run
        await audited(
            uow,
            "payment_run.propose",
            (run.id, run.facility_id),
            f"{run.payment_count} payments, {run.total} {run.currency}; {len(held)} held",
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(RunProposal(run, held))


async def approve_payment_run(
    run_id: PaymentRunId, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[PaymentRun]:
    """One approval; never the proposer's. Above the policy total, two distinct approvers."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        try:
            run, approved = await _acted_on(
                uow,
                reads,
                run_id,
                principal,
                lambda run: payment_runs.approve(run, by=principal.subject),
            )
        except Refusal as refusal:
            return await refused(
                uow,
                refusal.problem,
                action="payment_run.approve",
                entity_id=run_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        await uow.payments.save_run(approved)
        detail = f"{len(approved.approvers)} of {approved.approvals_needed} approvals"
        await audited(
            uow,
            "payment_run.approve",
            (approved.id, approved.facility_id),
            detail,
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(approved)


async def cancel_payment_run(
    run_id: PaymentRunId, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[PaymentRun]:
    """Before release: the run ends, its payments are scheduled again for the next run."""
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        try:
            run, cancelled = await _acted_on(uow, reads, run_id, principal, payment_runs.cancel)
        except Refusal as refusal:
            return await refused(
                uow,
                refusal.problem,
                action="payment_run.cancel",
                entity_id=run_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        members = await uow.payments.of_run(run.id)
        await uow.payments.save([replace(p, run_id=None) for p in members])
        await uow.payments.save_run(cancelled)
        await audited(
            uow,
            "payment_run.cancel",
            (cancelled.id, cancelled.facility_id),
            None,
            principal=principal,
            workflow=workflow,
            at=at,
        )
        await uow.commit()
    return Outcome.succeeded(cancelled)


async def release_payment_run(
    run_id: PaymentRunId, *, principal: Principal, workflow: Workflow, reads: Reads, clock: Clock
) -> Outcome[RunRelease]:
    """Releases an approved run to the ERP; never by its proposer. A run released already is
    answered as it stands (and payments whose hand-over to the ERP was interrupted are handed
    over again, under their one key): released twice, paid once.

    At release the holds are checked again: a payment whose supplier went on hold leaves the
    run (scheduled, held, with why); one whose bank account changed since approval becomes a
    payment exception (BANK_ACCOUNT_CHANGED) instead of being paid to the new account.
    """
    at = clock.now()
    async with workflow.unit_of_work() as uow:
        try:
            run, released = await _acted_on(
                uow,
                reads,
                run_id,
                principal,
                lambda run: payment_runs.release(run, by=principal.subject, at=at),
            )
        except Refusal as refusal:
            return await refused(
                uow,
                refusal.problem,
                action="payment_run.release",
                entity_id=run_id,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        held: list[Payment] = []
        failed: list[Payment] = []
        if released is not None:
            members = await uow.payments.of_run(run.id)
            payees = await uow.payments.payees([p.supplier_id for p in members])
            changed: list[Payment] = []
            for payment in members:
                moved = payment_runs.released_payment(
                    payment,
                    supplier=payees[payment.supplier_id][0],
                    at=at,
                    rules=workflow.policy.payments,
                )
                if moved.held:
                    held.append(moved)
                elif moved.status is PaymentStatus.FAILED:
                    failed.append(moved)
                changed.append(moved)
            await uow.payments.save(changed)
            await uow.payments.save_run(released)
            detail = f"{len(changed) - len(held) - len(failed)} released"
            if held or failed:
                detail += f"; held: {_ids(held) or '-'}; exceptions: {_ids(failed) or '-'}"
            await audited(
                uow,
                "payment_run.release",
                (released.id, released.facility_id),
                detail,
                principal=principal,
                workflow=workflow,
                at=at,
            )
        await uow.commit()
    await send_released(run_id, workflow=workflow, principal=principal, clock=clock)
    final = released or run
    return Outcome.succeeded(RunRelease(final, tuple(held), tuple(failed)))


async def _record_holds(
    uow: UnitOfWork,
    due: Sequence[Payment],
    checked: Sequence[Payment],
    facility_id: FacilityId,
    principal: Principal,
    workflow: Workflow,
    at: datetime,
) -> None:
    """Saves the holds a proposal found (and lifted), each new one audited."""
    changed = [p for p in checked if p != _original(due, p.id)]
    await uow.payments.save([replace(p, run_id=None) for p in changed])
    for payment in changed:
        if not payment.held:
            continue
        await audited(
            uow,
            "payment.hold",
            (payment.id, payment.supplier_id, facility_id),
            f"{payment.hold_code.value if payment.hold_code else ''}: {payment.hold_reason}",
            principal=principal,
            workflow=workflow,
            at=at,
        )


def _original(due: Sequence[Payment], payment_id: PaymentId) -> Payment | None:
    return next((p for p in due if p.id == payment_id), None)


def _ids(found: Sequence[Payment]) -> str:
    return ", ".join(p.id for p in found)


async def _manages(principal: Principal, reads: Reads, facility_id: FacilityId) -> bool:
    """Payments are managed per facility: an approver's own; finance everywhere; a supplier
    never. The facility must exist (an unknown one answers alike)."""
    if principal.supplier_id is not None:
        return False
    if principal.facility_ids is not None and facility_id not in principal.facility_ids:
        return False
    return bool(await reads.facilities.get_many([facility_id]))


class Refusal(Exception):
    """A command refused, with why: answered and audited by the command (`refused`)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


async def _acted_on(
    uow: UnitOfWork,
    reads: Reads,
    run_id: PaymentRunId,
    principal: Principal,
    change: Callable[[PaymentRun], T],
) -> tuple[PaymentRun, T]:
    """The run, locked, and what `change` makes of it; a Refusal when the caller may not
    see the run (as if it did not exist) or the domain refuses the change."""
    run = await _visible_run(uow, reads, run_id, principal)
    if run is None:
        raise Refusal(_run_missing(run_id))
    try:
        return run, change(run)
    except DomainError as error:
        raise Refusal(error.problem.at(*RUN_PATH)) from None


async def _visible_run(
    uow: UnitOfWork, reads: Reads, run_id: PaymentRunId, principal: Principal
) -> PaymentRun | None:
    run = await uow.payments.run_for_update(run_id)
    if run is None or not await _manages(principal, reads, run.facility_id):
        return None
    return run


def _run_missing(run_id: PaymentRunId) -> Problem:
    return Problem(ProblemCode.PAYMENT_RUN_NOT_FOUND, f"no payment run {run_id}", RUN_PATH)
