"""Invoices with their lines, exceptions, status history and approvals: rows ⇄ domain."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.approvals import Assignment
from apgraph.domain.ids import CostCenterId, FacilityId, InvoiceId, PurchaseOrderId, SupplierId
from apgraph.domain.invoices import (
    Approval,
    ApprovalDecision,
    Invoice,
    InvoiceException,
    InvoiceLine,
    InvoiceStatus,
    StatusChange,
)
from apgraph.domain.principal import RowScope
from apgraph.services.ports.reads import InvoiceFilter, Page, PageRequest
from apgraph.store.reading import among, count, fetch, fetch_page
from apgraph.store.scoping import by_supplier_and_facility
from apgraph.store.tables import (
    ExceptionAssignmentRow,
    InvoiceApprovalRow,
    InvoiceExceptionRow,
    InvoiceLineRow,
    InvoiceRow,
    InvoiceStatusChangeRow,
)

_invoices = InvoiceRow.__table__.c
_lines = InvoiceLineRow.__table__.c
_exceptions = InvoiceExceptionRow.__table__.c
_changes = InvoiceStatusChangeRow.__table__.c
_approvals = InvoiceApprovalRow.__table__.c
_assignments = ExceptionAssignmentRow.__table__.c


def invoice_from_row(row: Row[Any]) -> Invoice:
    return Invoice(
        id=InvoiceId(row.id),
        supplier_id=SupplierId(row.supplier_id),
        supplier_invoice_number=row.supplier_invoice_number,
        facility_id=FacilityId(row.facility_id),
        cost_center_id=CostCenterId(row.cost_center_id),
        purchase_order_id=(
            PurchaseOrderId(row.purchase_order_id) if row.purchase_order_id else None
        ),
        invoice_date=row.invoice_date,
        due_date=row.due_date,
        currency=row.currency,
        subtotal=row.subtotal,
        tax=row.tax,
        total=row.total,
        status=InvoiceStatus(row.status),
        submitted_by=row.submitted_by,
        received_at=row.received_at,
        erp_document_ref=row.erp_document_ref,
    )


def invoice_line_from_row(row: Row[Any]) -> InvoiceLine:
    return InvoiceLine(
        line_no=row.line_no,
        po_line_no=row.po_line_no,
        item_id=row.item_id,
        description=row.description,
        quantity=row.quantity,
        unit_of_measure=row.unit_of_measure,
        unit_price=row.unit_price,
        amount=row.amount,
    )


def status_change_from_row(row: Row[Any]) -> StatusChange:
    return StatusChange(
        invoice_id=InvoiceId(row.invoice_id),
        sequence=row.sequence,
        at=row.at,
        from_status=InvoiceStatus(row.from_status) if row.from_status else None,
        to_status=InvoiceStatus(row.to_status),
        actor=row.actor,
        note=row.note,
    )


def approval_from_row(row: Row[Any]) -> Approval:
    return Approval(
        invoice_id=InvoiceId(row.invoice_id),
        approver=row.approver,
        decision=ApprovalDecision(row.decision),
        at=row.at,
        note=row.note,
    )


@dataclass(frozen=True, slots=True)
class InvoiceRepository:
    engine: AsyncEngine
    scope: RowScope

    def _visible(self) -> Select[Any]:
        return by_supplier_and_facility(
            select(InvoiceRow.__table__),
            self.scope,
            supplier=_invoices.supplier_id,
            facility=_invoices.facility_id,
        )

    def _filtered(self, where: InvoiceFilter) -> Select[Any]:
        statement = self._visible()
        if where.statuses is not None:
            statement = statement.where(
                _invoices.status.in_(sorted(s.value for s in where.statuses))
            )
        if where.supplier_id is not None:
            statement = statement.where(_invoices.supplier_id == where.supplier_id)
        if where.facility_id is not None:
            statement = statement.where(_invoices.facility_id == where.facility_id)
        if where.purchase_order_id is not None:
            statement = statement.where(_invoices.purchase_order_id == where.purchase_order_id)
        if where.invoice_dates.start is not None:
            statement = statement.where(_invoices.invoice_date >= where.invoice_dates.start)
        if where.invoice_dates.end is not None:
            statement = statement.where(_invoices.invoice_date <= where.invoice_dates.end)
        return statement

    async def get_many(self, ids: Sequence[str]) -> Sequence[Invoice]:
        rows = await fetch(
            self.engine, self._visible().where(among(self.engine, _invoices.id, ids))
        )
        return [invoice_from_row(row) for row in rows]

    async def page(self, where: InvoiceFilter, page: PageRequest) -> Page[Invoice]:
        return await fetch_page(
            self.engine,
            self._filtered(where),
            key=_invoices.id,
            page=page,
            to_domain=invoice_from_row,
        )

    async def count(self, where: InvoiceFilter) -> int:
        return await count(self.engine, self._filtered(where))

    # The child rows below are reached only through invoices the caller could already see.

    async def lines_of(self, invoice_ids: Sequence[str]) -> Sequence[tuple[str, InvoiceLine]]:
        statement = (
            select(InvoiceLineRow.__table__)
            .where(among(self.engine, _lines.invoice_id, invoice_ids))
            .order_by(_lines.invoice_id, _lines.line_no)
        )
        rows = await fetch(self.engine, statement)
        return [(row.invoice_id, invoice_line_from_row(row)) for row in rows]

    async def exceptions_of(
        self, invoice_ids: Sequence[str]
    ) -> Sequence[tuple[str, InvoiceException]]:
        statement = (
            select(InvoiceExceptionRow.__table__)
            .where(_exceptions.invoice_id.in_(invoice_ids))
            .order_by(_exceptions.id)
        )
        rows = await fetch(self.engine, statement)
        return [
            (row.invoice_id, InvoiceException(row.code, row.line_no, row.message)) for row in rows
        ]

    async def history_of(self, invoice_ids: Sequence[str]) -> Sequence[StatusChange]:
        statement = (
            select(InvoiceStatusChangeRow.__table__)
            .where(_changes.invoice_id.in_(invoice_ids))
            .order_by(_changes.invoice_id, _changes.sequence)
        )
        return [status_change_from_row(row) for row in await fetch(self.engine, statement)]

    async def assignments_of(self, invoice_ids: Sequence[str]) -> Sequence[Assignment]:
        """Every reassignment of these invoices' exceptions, oldest first."""
        rows = _assignments
        statement = (
            select(rows.invoice_id, rows.assignee, rows.assigned_by, rows.at, rows.reason)
            .where(rows.invoice_id.in_(invoice_ids))
            .order_by(rows.id)
        )
        return [
            Assignment(
                invoice_id=InvoiceId(row.invoice_id),
                assignee=row.assignee,
                assigned_by=row.assigned_by,
                at=row.at,
                reason=row.reason,
            )
            for row in await fetch(self.engine, statement)
        ]

    async def approvals_of(self, invoice_ids: Sequence[str]) -> Sequence[Approval]:
        statement = (
            select(InvoiceApprovalRow.__table__)
            .where(_approvals.invoice_id.in_(invoice_ids))
            .order_by(_approvals.id)
        )
        return [approval_from_row(row) for row in await fetch(self.engine, statement)]
