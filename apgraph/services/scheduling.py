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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from apgraph.domain import lifecycle
from apgraph.domain.audit import AuditOutcome
from apgraph.domain.ids import FacilityId, PaymentId
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.lifecycle import Transition
from apgraph.domain.money import minor_units
from apgraph.domain.payments import Payment, PaymentAllocation
from apgraph.domain.principal import ALL_SCOPES, Principal, Role
from apgraph.domain.scheduling import (
    SchedulingRules,
    join_payment,
    method_for,
    plan_payment,
    start_payment,
)
from apgraph.services.periodic import repeat_until
from apgraph.services.ports.clock import Clock
from apgraph.services.ports.unit_of_work import UnitOfWork
from apgraph.services.ports.workflow import Workflow
from apgraph.services.recording import audit, record_many

SCHEDULER = Principal(
    subject="apgraph.payments",
    roles=frozenset({Role.FINANCE_ADMIN}),
    scopes=frozenset(ALL_SCOPES),
)  # the scheduler, named as such in invoice histories and the audit trail
BATCH = 200  # invoices scheduled per unit of work


async def schedule_invoices(
    uow: UnitOfWork, invoices: Sequence[Invoice], *, rules: SchedulingRules, at: datetime
) -> list[tuple[Transition, Payment]]:
    """POSTED → SCHEDULED, in order: each invoice joins the open payment of its group
    (supplier, facility, pay date, currency, method), or starts one. The suppliers' open
    payments are read, and the writes go out, in a few statements, not a round per invoice."""
    payees = await uow.payments.payees_for_update({i.supplier_id for i in invoices})
    groups: dict[tuple[object, ...], Payment] = {}
    for payment in await uow.payments.open_payments(payees):  # by ID: the first one is open
        groups.setdefault(_group_of(payment), payment)
    added: dict[PaymentId, Payment] = {}
    changed: dict[PaymentId, Payment] = {}
    allocations: list[PaymentAllocation] = []
    moved: list[tuple[Transition, Payment]] = []
    for invoice in invoices:
        supplier = payees[invoice.supplier_id][0]
        plan = plan_payment(
            invoice,
            terms=supplier.payment_terms,
            rules=rules,
            today=at.date(),
            places=minor_units(invoice.currency),
        )
        method = method_for(supplier)
        key = (invoice.supplier_id, invoice.facility_id, plan.pay_date, invoice.currency, method)
        group = groups.get(key)
        if group is None:
            payment = start_payment(await uow.payments.next_id(), invoice, plan, method)
            added[payment.id] = payment
        else:
            payment = join_payment(group, plan)
            (added if payment.id in added else changed)[payment.id] = payment
        groups[key] = payment
        allocations.append(PaymentAllocation(payment.id, invoice.id, plan.amount, plan.discount))
        scheduled = lifecycle.schedule(
            invoice, payment_id=payment.id, scheduled_date=plan.pay_date, at=at
        )
        moved.append((scheduled, payment))
    await uow.payments.add(list(added.values()))
    await uow.payments.save(list(changed.values()))
    await uow.payments.add_allocations(allocations)
    return moved


def _group_of(payment: Payment) -> tuple[object, ...]:
    return (
        payment.supplier_id,
        payment.facility_id,
        payment.scheduled_date,
        payment.currency,
        payment.method,
    )


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
            batch = waiting[start : start + BATCH]
            invoices = [  # those another sweep scheduled meanwhile are left out
                i
                for i in await uow.invoices.get_many_for_update(batch)
                if i.status is InvoiceStatus.POSTED
            ]
            rules = workflow.policy.payments
            moved = await schedule_invoices(uow, invoices, rules=rules, at=at)
            await record_many(
                uow,
                [[transition] for transition, _ in moved],
                actor=SCHEDULER.subject,
                at=at,
                histories=await uow.invoices.history_lengths([i.id for i in invoices]),
                note="Scheduled for payment",
            )
            for invoice, (_, payment) in zip(invoices, moved, strict=True):
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
            scheduled += len(moved)
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
