"""The exception queue's reads: open exceptions, their waiting times, their reasons.

Scoped like every invoice read (suppliers their own, approvers their facilities), in SQL.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.aging import Waiting
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.principal import RowScope
from apgraph.services.ports.reads import ExceptionFilter, Page, PageRequest, ReasonCount
from apgraph.store.invoices import invoice_from_row
from apgraph.store.reading import count, fetch, fetch_page
from apgraph.store.scoping import by_supplier_and_facility
from apgraph.store.tables import ExceptionAssignmentRow, InvoiceExceptionRow, InvoiceRow

_invoices = InvoiceRow.__table__.c
_exceptions = InvoiceExceptionRow.__table__.c
_assigned = ExceptionAssignmentRow.__table__


@dataclass(frozen=True, slots=True)
class ExceptionQueueRepository:
    engine: AsyncEngine
    scope: RowScope

    def _open(self, where: ExceptionFilter, *columns: Any) -> Select[Any]:
        statement = by_supplier_and_facility(
            select(*columns).where(_invoices.status == InvoiceStatus.EXCEPTION.value),
            self.scope,
            supplier=_invoices.supplier_id,
            facility=_invoices.facility_id,
        )
        if where.facility_id is not None:
            statement = statement.where(_invoices.facility_id == where.facility_id)
        if where.reason is not None:
            statement = statement.where(
                exists().where(
                    _exceptions.invoice_id == _invoices.id, _exceptions.code == where.reason
                )
            )
        if where.assignee is not None:
            statement = statement.where(
                or_(
                    _currently_assigned_to(where.assignee),
                    and_(
                        not_(exists().where(_assigned.c.invoice_id == _invoices.id)),
                        _invoices.cost_center_id.in_(sorted(where.cost_center_ids or ())),
                    ),
                )
            )
        elif where.cost_center_ids is not None:
            statement = statement.where(_invoices.cost_center_id.in_(sorted(where.cost_center_ids)))
        return statement

    async def page(self, where: ExceptionFilter, page: PageRequest) -> Page[Invoice]:
        return await fetch_page(
            self.engine,
            self._open(where, *InvoiceRow.__table__.c),
            key=_invoices.id,
            page=page,
            to_domain=invoice_from_row,
        )

    async def count(self, where: ExceptionFilter) -> int:
        return await count(self.engine, self._open(where, _invoices.id))

    async def waiting(self, where: ExceptionFilter) -> Sequence[Waiting]:
        statement = self._open(where, _invoices.received_at, _invoices.total, _invoices.currency)
        rows = await fetch(self.engine, statement)
        return [Waiting(row.received_at, row.total, row.currency) for row in rows]

    async def reason_counts(self, where: ExceptionFilter) -> Sequence[ReasonCount]:
        """Open exceptions per facility and reason; an invoice with two reasons counts in both."""
        statement = (
            self._open(
                where,
                _invoices.facility_id,
                _exceptions.code,
                func.count(func.distinct(_invoices.id)).label("n"),
            )
            .join_from(
                InvoiceRow.__table__,
                InvoiceExceptionRow.__table__,
                _exceptions.invoice_id == _invoices.id,
            )
            .group_by(_invoices.facility_id, _exceptions.code)
            .order_by(_invoices.facility_id, _exceptions.code)
        )
        rows = await fetch(self.engine, statement)
        return [ReasonCount(facility_id=r.facility_id, code=r.code, count=int(r.n)) for r in rows]


def _currently_assigned_to(assignee: str) -> ColumnElement[bool]:
    """The invoice's latest assignment names `assignee` (no later row for the invoice)."""
    mine = _assigned.alias("mine")
    later = _assigned.alias("later")
    return exists().where(
        mine.c.invoice_id == _invoices.id,
        mine.c.assignee == assignee,
        not_(exists().where(later.c.invoice_id == mine.c.invoice_id, later.c.id > mine.c.id)),
    )
