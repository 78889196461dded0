"""Scheduling posted invoices for payment: a service that runs right after posting.

Not inside the posting's unit of work: posting keeps its contract (a posting answers
POSTED, and retries, dead letters and shadow postings stay as they are), and scheduling
needs nothing from the ERP. The scheduler sweeps POSTED invoices in batches (a background
task of `apgraph serve`, `apgraph payments schedule`, and first thing in every payment-run
proposal, so a run never misses an invoice). Each invoice is locked and scheduled only while
POSTED, so a sweep repeated or run by two workers at once schedules it once; a crash
between posting and scheduling leaves it POSTED for the next sweep. The supplier's row is
locked too, so one supplier's invoices join their payments one at a time.
"""

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime

from apgraph.domain import lifecycle
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.ids import FacilityId
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.lifecycle import Transition
from apgraph.domain.money import minor_units
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentStatus
from apgraph.domain.principal import ALL_SCOPES, Principal, Role
from apgraph.domain.scheduling import SchedulingRules, method_for, plan_payment
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.recording import audit, record_transitions

SCHEDULER = Principal(
    subject="apgraph.payments",
    roles=frozenset({Role.FINANCE_ADMIN}),
    scopes=frozenset(ALL_SCOPES),
)  # the scheduler, named as such in invoice histories and the audit trail
BATCH = 200  # invoices scheduled per unit of work


async def schedule_invoice(
    uow: UnitOfWork, invoice: Invoice, *, rules: SchedulingRules, at: datetime
) -> tuple[Transition, Payment]:
    """POSTED → SCHEDULED: the invoice joins the open payment of its group (supplier,
    facility, pay date, currency, method), or starts one."""
    supplier, _ = await uow.payments.payee_for_update(invoice.supplier_id)
    plan = plan_payment(
        invoice,
        terms=supplier.payment_terms,
        rules=rules,
        today=at.date(),
        places=minor_units(invoice.currency),
    )
    method = method_for(supplier)
    payment = await uow.payments.open_payment(
        supplier_id=invoice.supplier_id,
        facility_id=invoice.facility_id,
        pay_date=plan.pay_date,
        currency=invoice.currency,
        method=method,
    )
    if payment is None:
        payment = Payment(
            id=await uow.payments.next_id(),
            supplier_id=invoice.supplier_id,
            amount=plan.amount,
            currency=invoice.currency,
            method=method,
            scheduled_date=plan.pay_date,
            status=PaymentStatus.SCHEDULED,
            remittance_ref=None,
            facility_id=invoice.facility_id,
            discount=plan.discount,
        )
        await uow.payments.add(payment)
    else:
        payment = replace(
            payment, amount=payment.amount + plan.amount, discount=payment.discount + plan.discount
        )
        await uow.payments.save([payment])
    await uow.payments.add_allocations(
        [PaymentAllocation(payment.id, invoice.id, plan.amount, plan.discount)]
    )
    scheduled = lifecycle.schedule(
        invoice, payment_id=payment.id, scheduled_date=plan.pay_date, at=at
    )
    return scheduled, payment


async def schedule_posted(
    *, workflow: Workflow, clock: Clock, limit: int, facility_id: FacilityId | None = None
) -> int:
    """Schedules up to `limit` POSTED invoices (of one facility, or all), oldest first, in
    units of work of BATCH; returns how many it scheduled."""
    async with workflow.unit_of_work() as uow:
        waiting = await uow.payments.posted_invoice_ids(limit=limit, facility_id=facility_id)
    scheduled = 0
    for start in range(0, len(waiting), BATCH):
        at = clock.now()
        async with workflow.unit_of_work() as uow:
            for invoice_id in waiting[start : start + BATCH]:
                invoice = await uow.invoices.get_for_update(invoice_id)
                if invoice is None or invoice.status is not InvoiceStatus.POSTED:
                    continue  # scheduled meanwhile by another sweep
                rules = workflow.policy.payments
                transition, payment = await schedule_invoice(uow, invoice, rules=rules, at=at)
                history = await uow.invoices.history(invoice.id)
                await record_transitions(
                    uow,
                    [transition],
                    actor=SCHEDULER.subject,
                    at=at,
                    history_so_far=len(history),
                    note="Scheduled for payment",
                )
                await audit(
                    uow,
                    principal=SCHEDULER,
                    action="payment.schedule",
                    invoice=invoice,
                    outcome=AuditOutcome.SUCCEEDED,
                    detail=f"{payment.id} on {payment.scheduled_date.isoformat()}",
                    trace_id=workflow.trace_id,
                    at=at,
                )
                scheduled += 1
            await uow.commit()
    return scheduled


@dataclass(frozen=True)
class Scheduler:
    """The background scheduling of one process."""

    workflow: Workflow
    clock: Clock
    batch: int = 1000

    async def run_until(self, stop: asyncio.Event, *, interval: float) -> None:
        async def more() -> bool:
            done = await schedule_posted(workflow=self.workflow, clock=self.clock, limit=self.batch)
            return done == self.batch

        await repeat_until(stop, more, interval=interval)
