"""Payments and what they settle: rows ⇄ domain.

A facility-bound caller sees the payments that settle at least one invoice of its facilities,
and of such a payment only the allocations to invoices it may see: what the payment settles
elsewhere is another facility's business. Payment runs are seen by the callers who may see
their facility; suppliers see none.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, exists, false, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.ids import FacilityId, InvoiceId, PaymentId, PaymentRunId, SupplierId
from apgraph.domain.payment_runs import PaymentRun, PaymentRunStatus
from apgraph.domain.payments import (
    OPEN,
    HoldCode,
    Payment,
    PaymentAllocation,
    PaymentExceptionCode,
    PaymentMethod,
    PaymentStatus,
)
from apgraph.domain.principal import RowScope
from apgraph.domain.remittance import RemittanceFormat
from apgraph.services.ports.reads import (
    Page,
    PageRequest,
    PaymentFilter,
    PaymentRunFilter,
    RemittanceDocumentInfo,
)
from apgraph.store.reading import count, fetch, fetch_page
from apgraph.store.scoping import facility_condition, supplier_condition
from apgraph.store.tables import (
    InvoiceRow,
    PaymentAllocationRow,
    PaymentRow,
    PaymentRunRow,
    RemittanceDocumentRow,
)

_payments = PaymentRow.__table__.c
_allocations = PaymentAllocationRow.__table__.c
_invoices = InvoiceRow.__table__.c
_runs = PaymentRunRow.__table__.c
_documents = RemittanceDocumentRow.__table__.c


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
        facility_id=FacilityId(row.facility_id) if row.facility_id else None,
        run_id=PaymentRunId(row.run_id) if row.run_id else None,
        discount=row.discount,
        hold_code=HoldCode(row.hold_code) if row.hold_code else None,
        hold_reason=row.hold_reason,
        erp_reference=row.erp_reference,
        exception_code=PaymentExceptionCode(row.exception_code) if row.exception_code else None,
        released_at=row.released_at,
        paid_at=row.paid_at,
        bank_fingerprint=row.bank_fingerprint,
    )


def allocation_from_row(row: Row[Any]) -> PaymentAllocation:
    return PaymentAllocation(
        payment_id=PaymentId(row.payment_id),
        invoice_id=InvoiceId(row.invoice_id),
        amount=row.amount,
        discount=row.discount,
    )


def run_from_row(row: Row[Any]) -> PaymentRun:
    return PaymentRun(
        id=PaymentRunId(row.id),
        facility_id=FacilityId(row.facility_id),
        pay_date=row.pay_date,
        status=PaymentRunStatus(row.status),
        currency=row.currency,
        total=row.total,
        payment_count=row.payment_count,
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        approvals_needed=row.approvals_needed,
        approvers=tuple(row.approvers),
        released_by=row.released_by,
        released_at=row.released_at,
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
        if where.run_id is not None:
            statement = statement.where(_payments.run_id == where.run_id)
        if where.facility_id is not None:
            statement = statement.where(_payments.facility_id == where.facility_id)
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

    async def open_of_supplier(self, supplier_id: str) -> Sequence[Payment]:
        """The supplier's payments not paid yet and not failed, as the caller may see them."""
        statement = self._visible().where(
            _payments.supplier_id == supplier_id,
            _payments.status.in_(sorted(s.value for s in OPEN)),
        )
        return [payment_from_row(row) for row in await fetch(self.engine, statement)]

    async def remittance_documents(
        self, payment_ids: Sequence[str]
    ) -> Sequence[RemittanceDocumentInfo]:
        """Metadata only, of the payments the caller may see."""
        visible = (
            self._visible().with_only_columns(_payments.id).where(_payments.id.in_(payment_ids))
        )
        statement = (
            select(
                _documents.id,
                _documents.payment_id,
                _documents.format,
                _documents.filename,
                _documents.media_type,
                _documents.size,
                _documents.sha256,
                _documents.created_at,
            )
            .where(_documents.payment_id.in_(visible.scalar_subquery()))
            .order_by(_documents.payment_id, _documents.id)
        )
        return [
            RemittanceDocumentInfo(
                id=row.id,
                payment_id=PaymentId(row.payment_id),
                format=RemittanceFormat(row.format),
                filename=row.filename,
                media_type=row.media_type,
                size=row.size,
                sha256=row.sha256,
                created_at=row.created_at,
            )
            for row in await fetch(self.engine, statement)
        ]

    async def remittance_content(
        self, document_id: str
    ) -> tuple[RemittanceDocumentInfo, bytes] | None:
        """A document and its bytes; None when unknown or not the caller's (the same answer)."""
        visible = self._visible().with_only_columns(_payments.id)
        rows = await fetch(
            self.engine,
            select(RemittanceDocumentRow.__table__).where(
                _documents.id == document_id,
                _documents.payment_id.in_(visible.scalar_subquery()),
            ),
        )
        if not rows:
            return None
        row = rows[0]
        info = RemittanceDocumentInfo(
            id=row.id,
            payment_id=PaymentId(row.payment_id),
            format=RemittanceFormat(row.format),
            filename=row.filename,
            media_type=row.media_type,
            size=row.size,
            sha256=row.sha256,
            created_at=row.created_at,
        )
        return info, bytes(row.content)


@dataclass(frozen=True, slots=True)
class PaymentRunRepository:
    """Runs of the facilities the caller may see; a supplier sees none (runs are internal)."""

    engine: AsyncEngine
    scope: RowScope

    def _visible(self) -> Select[Any]:
        statement = select(PaymentRunRow.__table__).where(
            facility_condition(self.scope, _runs.facility_id)
        )
        if self.scope.supplier_id is not None:
            statement = statement.where(false())
        return statement

    def _filtered(self, where: PaymentRunFilter) -> Select[Any]:
        statement = self._visible()
        if where.statuses is not None:
            statement = statement.where(_runs.status.in_(sorted(s.value for s in where.statuses)))
        if where.facility_id is not None:
            statement = statement.where(_runs.facility_id == where.facility_id)
        if where.pay_dates.start is not None:
            statement = statement.where(_runs.pay_date >= where.pay_dates.start)
        if where.pay_dates.end is not None:
            statement = statement.where(_runs.pay_date <= where.pay_dates.end)
        return statement

    async def get_many(self, ids: Sequence[str]) -> Sequence[PaymentRun]:
        rows = await fetch(self.engine, self._visible().where(_runs.id.in_(ids)))
        return [run_from_row(row) for row in rows]

    async def page(self, where: PaymentRunFilter, page: PageRequest) -> Page[PaymentRun]:
        return await fetch_page(
            self.engine, self._filtered(where), key=_runs.id, page=page, to_domain=run_from_row
        )

    async def count(self, where: PaymentRunFilter) -> int:
        return await count(self.engine, self._filtered(where))
