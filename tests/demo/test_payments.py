"""The demo's payments follow the rules the payment services apply, as generated and as stored.

`broken_rules` restates nothing it can ask the domain: pay dates come from `plan_payment`,
approvals from the policy's `approvals_needed`, remittance totals from the stored documents.
"""

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import writer
from apgraph.demo.generator import DemoNetwork, DemoSize, generate
from apgraph.demo.settlement import DEMO_RULES
from apgraph.domain.ids import InvoiceId
from apgraph.domain.invoices import Invoice, InvoiceStatus, StatusChange
from apgraph.domain.money import minor_units
from apgraph.domain.payment_runs import PaymentRun, PaymentRunStatus
from apgraph.domain.payments import (
    HoldCode,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    PaymentStatus,
)
from apgraph.domain.remittance import remittance_ref
from apgraph.domain.scheduling import plan_payment
from apgraph.domain.suppliers import PaymentTerms, SupplierStatus
from apgraph.policies.loader import load_gateway_config
from apgraph.store import migrate, tables
from apgraph.store.invoices import invoice_from_row, status_change_from_row
from apgraph.store.payments import allocation_from_row, payment_from_row, run_from_row
from tests.databases import drop_database, make_database
from tests.keys import keyring_for

ROOT = Path(__file__).resolve().parents[2]
SMALL = DemoSize().scaled(0.05)
S = InvoiceStatus


@dataclass(frozen=True)
class Payee:
    """What the rules need of a supplier: its terms, status, and whether it has an account."""

    terms: PaymentTerms
    status: SupplierStatus
    banked: bool
    bank_changed: bool


@dataclass(frozen=True)
class PaymentSide:
    invoices: Mapping[InvoiceId, Invoice]
    payees: Mapping[str, Payee]
    changes: Sequence[StatusChange]
    runs: Sequence[PaymentRun]
    payments: Sequence[Payment]
    allocations: Sequence[PaymentAllocation]

    @classmethod
    def of(cls, network: DemoNetwork) -> "PaymentSide":
        changed = {c.supplier_id for c in network.bank_changes}
        payees = {
            s.id: Payee(s.payment_terms, s.status, s.remit_to is not None, s.id in changed)
            for s in network.suppliers
        }
        return cls(
            invoices={i.id: i for i in network.invoices},
            payees=payees,
            changes=network.status_changes,
            runs=network.payment_runs,
            payments=network.payments,
            allocations=network.payment_allocations,
        )


def broken_rules(side: PaymentSide) -> list[str]:
    """Every way the payment side departs from what the services would have written."""
    broken: list[str] = []
    payments = {p.id: p for p in side.payments}
    runs = {r.id: r for r in side.runs}
    scheduled_at = {c.invoice_id: c.at for c in side.changes if c.to_status is S.SCHEDULED}
    by_payment: dict[str, list[PaymentAllocation]] = defaultdict(list)
    for allocation in side.allocations:
        by_payment[allocation.payment_id].append(allocation)
        payment = payments[allocation.payment_id]
        invoice = side.invoices[allocation.invoice_id]
        payee = side.payees[invoice.supplier_id]
        # scheduling: the pay date, amount and discount the scheduler computes from terms
        plan = plan_payment(
            invoice,
            terms=payee.terms,
            rules=DEMO_RULES,
            today=scheduled_at[invoice.id].date(),
            places=minor_units(invoice.currency),
        )
        if (payment.scheduled_date, allocation.amount, allocation.discount) != (
            plan.pay_date,
            plan.amount,
            plan.discount,
        ):
            broken.append(f"{invoice.id}: scheduled otherwise than its terms say ({plan})")
        if (invoice.supplier_id, invoice.facility_id) != (payment.supplier_id, payment.facility_id):
            broken.append(f"{payment.id} pays {invoice.id} of another supplier or facility")
    for payment in side.payments:
        members = by_payment[payment.id]
        payee = side.payees[payment.supplier_id]
        method = PaymentMethod.ACH if payee.banked else PaymentMethod.CHECK
        if payment.method is not method:
            broken.append(f"{payment.id} pays by {payment.method.value}, not {method.value}")
        if payment.amount != sum(a.amount for a in members):
            broken.append(f"{payment.id}: its amount is not its allocations'")
        if payment.discount != sum(a.discount for a in members):
            broken.append(f"{payment.id}: its discount is not its allocations'")
        statuses = {side.invoices[a.invoice_id].status for a in members}
        paid = payment.status is PaymentStatus.PAID
        if statuses != ({S.REMITTED} if paid else {S.SCHEDULED}):
            broken.append(f"{payment.id} is {payment.status.value}, its invoices {statuses}")
        if paid and (
            payment.remittance_ref != remittance_ref(payment.id)
            or payment.erp_reference is None
            or payment.released_at is None
            or payment.paid_at is None
            or not payment.released_at < payment.paid_at
        ):
            broken.append(f"{payment.id} is PAID without its ERP order, release or advice")
        if payment.held:
            if payment.run_id is not None or payment.status is not PaymentStatus.SCHEDULED:
                broken.append(f"{payment.id} is held but {payment.status.value} in a run")
            expected = {
                SupplierStatus.ON_HOLD: HoldCode.SUPPLIER_ON_HOLD,
                SupplierStatus.BLOCKED: HoldCode.SUPPLIER_BLOCKED,
            }.get(payee.status)
            status_hold = payment.hold_code in (
                HoldCode.SUPPLIER_ON_HOLD,
                HoldCode.SUPPLIER_BLOCKED,
            )
            if status_hold and payment.hold_code is not expected:
                broken.append(f"{payment.id}: {payment.hold_code} for a {payee.status}")
            if payment.hold_code is HoldCode.BANK_ACCOUNT_CHANGED and not payee.bank_changed:
                broken.append(f"{payment.id}: held for a bank change that never happened")
        if payment.run_id is not None:
            run = runs[payment.run_id]
            if payment.facility_id != run.facility_id or payment.scheduled_date > run.pay_date:
                broken.append(f"{payment.id} in {run.id}: another facility, or not due by then")
        elif payment.status is not PaymentStatus.SCHEDULED:
            broken.append(f"{payment.id} is {payment.status.value} without a run")
    for run in side.runs:
        members_of_run = [p for p in side.payments if p.run_id == run.id]
        if run.total != sum(p.amount for p in members_of_run) or run.payment_count != len(
            members_of_run
        ):
            broken.append(f"{run.id}: its total or count is not its payments'")
        if run.approvals_needed != DEMO_RULES.approvals_needed(run.total):
            broken.append(f"{run.id} needs {run.approvals_needed} approvals, policy says else")
        if run.proposed_by in run.approvers or len(set(run.approvers)) != len(run.approvers):
            broken.append(f"{run.id}: approved by its proposer, or twice by one person")
        enough = len(run.approvers) >= run.approvals_needed
        if enough != (run.status is not PaymentRunStatus.PROPOSED):
            broken.append(f"{run.id} is {run.status.value} with {len(run.approvers)} approvals")
        released = run.status is PaymentRunStatus.RELEASED
        if released != (run.released_by is not None) or run.released_by == run.proposed_by:
            broken.append(f"{run.id}: released by {run.released_by}, proposed by {run.proposed_by}")
        if not released and any(p.status is not PaymentStatus.SCHEDULED for p in members_of_run):
            broken.append(f"{run.id} is not released, yet some of its payments went out")
    return broken


# --- as generated ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> DemoNetwork:
    return generate(SMALL)


@pytest.fixture(scope="module")
def full() -> DemoNetwork:
    """The demo server's own size: large enough for blocked suppliers and big runs."""
    return generate(DemoSize())


def test_the_demo_is_paid_under_the_shipped_payments_policy():
    shipped = load_gateway_config(ROOT / "apgraph" / "policies" / "gateway.yaml")
    assert shipped.payments.rules() == DEMO_RULES


@pytest.mark.parametrize("size", ["small", "full"])
def test_seeded_payments_follow_the_services_rules(size, request):
    network = request.getfixturevalue(size)
    assert broken_rules(PaymentSide.of(network)) == []


def test_the_small_demo_shows_every_stage_of_a_payment_run(small):
    # then runs wait for approval, wait for release, and went out
    assert {r.status for r in small.payment_runs} == {
        PaymentRunStatus.PROPOSED,
        PaymentRunStatus.APPROVED,
        PaymentRunStatus.RELEASED,
    }
    # and payments are scheduled, paid, held for several reasons, and failed with a reason code
    held = {p.hold_code for p in small.payments if p.held}
    assert {HoldCode.SUPPLIER_ON_HOLD, HoldCode.PAYMENT_HELD, HoldCode.BANK_ACCOUNT_CHANGED} <= held
    assert {p.status for p in small.payments} == {
        PaymentStatus.SCHEDULED,
        PaymentStatus.PAID,
        PaymentStatus.FAILED,
    }
    assert all(p.exception_code for p in small.payments if p.status is PaymentStatus.FAILED)
    assert any(a.discount > 0 for a in small.payment_allocations)  # 2/10 net 30, taken


def test_the_full_demo_has_blocked_suppliers_held_and_runs_needing_two_approvers(full):
    assert HoldCode.SUPPLIER_BLOCKED in {p.hold_code for p in full.payments}
    assert any(r.approvals_needed == 2 for r in full.payment_runs)


def test_no_invoice_on_hold_is_in_a_payment(small):
    allocated = {a.invoice_id for a in small.payment_allocations}
    on_hold = {i.id for i in small.invoices if i.status is S.ON_HOLD}
    assert on_hold
    assert not on_hold & allocated


# --- as stored, on both backends ------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
async def seeded(request, tmp_path, small):
    database = await make_database(request.param, tmp_path)
    engine = database.engine()
    try:
        await migrate.upgrade(engine)
        await writer.write(engine, small, keyring=await keyring_for(engine))
        yield engine
    finally:
        await engine.dispose()
        await drop_database(database)


async def test_stored_payments_follow_the_services_rules(seeded: AsyncEngine, small):
    # given the small demo, seeded
    # when its payment side is read back
    side, documents, events = await _stored(seeded, small)

    # then it keeps every rule
    assert broken_rules(side) == []
    # and each paid payment has its advice in three formats, whose totals are its allocations'
    paid = {p.id: p for p in side.payments if p.status is PaymentStatus.PAID}
    formats = defaultdict(set)
    for payment_id, fmt, content in documents:
        formats[payment_id].add(fmt)
        payment = paid[payment_id]
        if fmt == "CSV":
            rows = list(csv.DictReader(io.StringIO(content.decode())))
            assert sum(Decimal(r["paid"]) for r in rows) == payment.amount
            assert sum(Decimal(r["discount"]) for r in rows) == payment.discount
        if fmt == "X12_820":
            bpr = next(s for s in content.decode().split("~\n") if s.startswith("BPR*"))
            assert Decimal(bpr.split("*")[2]) == payment.amount
    assert formats == {p: {"PDF", "CSV", "X12_820"} for p in paid}
    # and the outbox holds the payment events of the seeded history, one per step
    steps = Counter(c.to_status for c in side.changes)
    assert events["payment.scheduled"] == steps[S.SCHEDULED] > 0
    assert events["payment.released"] == steps[S.PAID] > 0
    assert events["remittance.sent"] == steps[S.REMITTED] == steps[S.PAID]


async def _stored(
    engine: AsyncEngine, network: DemoNetwork
) -> tuple[PaymentSide, list[tuple[str, str, bytes]], Counter[str]]:
    t = tables
    async with engine.connect() as connection:

        async def rows(table: type[tables.Base]):
            return (await connection.execute(select(table.__table__))).all()

        suppliers = await rows(t.SupplierRow)
        side = PaymentSide(
            invoices={r.id: invoice_from_row(r) for r in await rows(t.InvoiceRow)},
            payees={
                r.id: Payee(
                    PaymentTerms(r.payment_terms),
                    SupplierStatus(r.status),
                    r.bank_name is not None,
                    r.bank_account_changed_at is not None,
                )
                for r in suppliers
            },
            changes=[status_change_from_row(r) for r in await rows(t.InvoiceStatusChangeRow)],
            runs=[run_from_row(r) for r in await rows(t.PaymentRunRow)],
            payments=[payment_from_row(r) for r in await rows(t.PaymentRow)],
            allocations=[allocation_from_row(r) for r in await rows(t.PaymentAllocationRow)],
        )
        documents = [
            (r.payment_id, r.format, r.content) for r in await rows(t.RemittanceDocumentRow)
        ]
        events = Counter(r.type for r in await rows(t.OutboxRow))
    assert len(side.payments) == len(network.payments)
    return side, documents, events
