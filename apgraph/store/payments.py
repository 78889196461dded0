"""Payments and what they settle: rows ⇄ domain.

A payment has no facility of its own; a facility-bound caller sees the payments that settle
at least one invoice of its facilities, and of such a payment only the allocations to
invoices it may see: what the payment settles elsewhere is another facility's business.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, exists, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.ids import InvoiceId, PaymentId, SupplierId
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentMethod, PaymentStatus
from apgraph.domain.principal import RowScope
from apgraph.services.ports.reads import Page, PageRequest, PaymentFilter
from apgraph.store.reading import count, fetch, fetch_page
from apgraph.store.scoping import facility_condition, supplier_condition
from apgraph.store.tables import InvoiceRow, PaymentAllocationRow, PaymentRow

_payments = PaymentRow.__table__.c
_allocations = PaymentAllocationRow.__table__.c
_invoices = InvoiceRow.__table__.c


def payment_from_row(row: Row[Any]) -> Payment:
    return Payment(
        id=PaymentId(row.id),
        supplier_id=SupplierId(row.supplier_id),
        amount=row.amount,
        currency=row.currency,
        method=PaymentMethod(row.method),
        scheduled_date=row.scheduled_date,
        status=PaymentStatus(row.status),
        remittance_ref=row.remittance_ref,
    )


def allocation_from_row(row: Row[Any]) -> PaymentAllocation:
    return PaymentAllocation(
        payment_id=PaymentId(row.payment_id),
        invoice_id=InvoiceId(row.invoice_id),
        amount=row.amount,
    )


@dataclass(frozen=True, slots=True)
class PaymentRepository:
    engine: AsyncEngine
    scope: RowScope

    def _visible(self) -> Select[Any]:
        statement = select(PaymentRow.__table__).where(
            supplier_condition(self.scope, _payments.supplier_id)
        )
        if self.scope.facility_ids is not None:
            settles_visible_invoice = exists().where(
                _allocations.payment_id == _payments.id,
                _allocations.invoice_id == _invoices.id,
                facility_condition(self.scope, _invoices.facility_id),
            )
            statement = statement.where(settles_visible_invoice)
        return statement

    def _filtered(self, where: PaymentFilter) -> Select[Any]:
        statement = self._visible()
        if where.statuses is not None:
            statement = statement.where(
                _payments.status.in_(sorted(s.value for s in where.statuses))
            )
        if where.supplier_id is not None:
            statement = statement.where(_payments.supplier_id == where.supplier_id)
        if where.scheduled_dates.start is not None:
            statement = statement.where(_payments.scheduled_date >= where.scheduled_dates.start)
        if where.scheduled_dates.end is not None:
            statement = statement.where(_payments.scheduled_date <= where.scheduled_dates.end)
        return statement

    async def get_many(self, ids: Sequence[str]) -> Sequence[Payment]:
        rows = await fetch(self.engine, self._visible().where(_payments.id.in_(ids)))
        return [payment_from_row(row) for row in rows]

    async def page(self, where: PaymentFilter, page: PageRequest) -> Page[Payment]:
        return await fetch_page(
            self.engine,
            self._filtered(where),
            key=_payments.id,
            page=page,
            to_domain=payment_from_row,
        )

    async def count(self, where: PaymentFilter) -> int:
        return await count(self.engine, self._filtered(where))

    def _visible_allocations(self) -> Select[Any]:
        """Allocations to invoices the caller may see, by the invoices' own scoping."""
        statement = select(PaymentAllocationRow.__table__)
        if self.scope.unrestricted:
            return statement
        return statement.join(InvoiceRow.__table__, _allocations.invoice_id == _invoices.id).where(
            supplier_condition(self.scope, _invoices.supplier_id),
            facility_condition(self.scope, _invoices.facility_id),
        )

    async def allocations_to(self, invoice_ids: Sequence[str]) -> Sequence[PaymentAllocation]:
        statement = self._visible_allocations().where(_allocations.invoice_id.in_(invoice_ids))
        return [allocation_from_row(row) for row in await fetch(self.engine, statement)]

    async def allocations_of(self, payment_ids: Sequence[str]) -> Sequence[PaymentAllocation]:
        statement = (
            self._visible_allocations()
            .where(_allocations.payment_id.in_(payment_ids))
            .order_by(_allocations.payment_id, _allocations.invoice_id)
        )
        return [allocation_from_row(row) for row in await fetch(self.engine, statement)]
