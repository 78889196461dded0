"""Purchase orders, their lines and goods receipts: rows ⇄ domain, scoped like invoices."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Row, RowMapping, Select, and_, func, not_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.ids import (
    CostCenterId,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    SupplierId,
)
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import RowScope
from apgraph.domain.purchasing import (
    Category,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.services.ports.reads import BilledQuantity, Page, PageRequest, PurchaseOrderFilter
from apgraph.store.reading import among_parameter, count, fetch, fetch_page, fetch_values
from apgraph.store.rows import member_by_value
from apgraph.store.scoping import KeptScope, by_supplier_and_facility, scope_parameters
from apgraph.store.tables import (
    GoodsReceiptRow,
    InvoiceLineRow,
    InvoiceRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
)

_orders = PurchaseOrderRow.__table__.c
_lines = PurchaseOrderLineRow.__table__.c
_receipts = GoodsReceiptRow.__table__.c
_invoices = InvoiceRow.__table__.c
_invoice_lines = InvoiceLineRow.__table__.c
_CLOSED = sorted(s.value for s in PurchaseOrderStatus if not s.accepts_invoices)


_PURCHASE_ORDER_STATUS = member_by_value(PurchaseOrderStatus)  # a stored status as its member


def _billing(*columns: ColumnElement[Any]) -> Select[Any]:
    """Invoice lines that bill a PO line, on every invoice that counts (all but REJECTED):
    the cumulative billing the match checks (DESIGN §4)."""
    return (
        select(*columns)
        .select_from(InvoiceLineRow.__table__)
        .join(InvoiceRow.__table__, _invoices.id == _invoice_lines.invoice_id)
        .where(_invoices.status != InvoiceStatus.REJECTED.value)
        .where(_invoice_lines.po_line_no.is_not(None))
    )


def _open_to_bill() -> ColumnElement[bool]:
    """The order takes invoices and one of its lines ordered more than is billed on it."""
    billed = (
        _billing(func.coalesce(func.sum(_invoice_lines.quantity), 0))
        .where(_invoices.purchase_order_id == _lines.purchase_order_id)
        .where(_invoice_lines.po_line_no == _lines.line_no)
        .scalar_subquery()
    )
    open_line = (
        select(_lines.line_no)
        .where(_lines.purchase_order_id == _orders.id)
        .where(_lines.quantity > billed)
        .exists()
    )
    return and_(_orders.status.not_in(_CLOSED), open_line)


def purchase_order_from_row(row: Row[Any]) -> PurchaseOrder:
    return purchase_order_from_values(row._mapping)  # by name: attributes cost ten times more


def purchase_order_from_values(values: Mapping[str, Any] | RowMapping) -> PurchaseOrder:
    return PurchaseOrder(
        id=PurchaseOrderId(values["id"]),
        supplier_id=SupplierId(values["supplier_id"]),
        facility_id=FacilityId(values["facility_id"]),
        cost_center_id=CostCenterId(values["cost_center_id"]),
        status=_PURCHASE_ORDER_STATUS(values["status"]),
        currency=values["currency"],
        ordered_on=values["ordered_on"],
    )


def purchase_order_line_from_row(row: Row[Any]) -> PurchaseOrderLine:
    return purchase_order_line_from_values(row._mapping)


def purchase_order_line_from_values(values: Mapping[str, Any] | RowMapping) -> PurchaseOrderLine:
    return PurchaseOrderLine(
        line_no=values["line_no"],
        item_id=values["item_id"],
        description=values["description"],
        category=Category(values["category"]),
        quantity=values["quantity"],
        unit_of_measure=values["unit_of_measure"],
        unit_price=values["unit_price"],
    )


def goods_receipt_from_row(row: Row[Any]) -> GoodsReceipt:
    values = row._mapping
    return GoodsReceipt(
        id=GoodsReceiptId(values["id"]),
        purchase_order_id=PurchaseOrderId(values["purchase_order_id"]),
        line_no=values["line_no"],
        quantity=values["quantity"],
        received_at=values["received_at"],
    )


def visible_purchase_orders(scope: RowScope | KeptScope) -> Select[Any]:
    """The purchase orders `scope` may see: every read of them starts here (a kept
    statement's scope: scoping.KeptScope)."""
    return by_supplier_and_facility(
        select(PurchaseOrderRow.__table__),
        scope,
        supplier=_orders.supplier_id,
        facility=_orders.facility_id,
    )


@lru_cache(maxsize=1024)
def _orders_among(dialect: str, kept: KeptScope) -> Select[Any]:
    """The purchase orders a scope may see among the bound `ids`, kept per kind of scope (as
    suppliers._visible_among): a submission's by-id read runs on the driver (issue 19)."""
    return visible_purchase_orders(kept).where(among_parameter(dialect, _orders.id, "ids"))


@lru_cache(maxsize=2)
def _lines_among(dialect: str) -> Select[Any]:
    return (
        select(PurchaseOrderLineRow.__table__)
        .where(among_parameter(dialect, _lines.purchase_order_id, "order_ids"))
        .order_by(_lines.purchase_order_id, _lines.line_no)
    )


@dataclass(frozen=True, slots=True)
class PurchaseOrderRepository:
    engine: AsyncEngine
    scope: RowScope

    def _visible(self) -> Select[Any]:
        return visible_purchase_orders(self.scope)

    async def get_many(self, ids: Sequence[str]) -> Sequence[PurchaseOrder]:
        statement = _orders_among(self.engine.dialect.name, KeptScope.of(self.scope))
        parameters = {"ids": list(ids), **scope_parameters(self.scope)}
        rows = await fetch_values(self.engine, statement, parameters)
        return [purchase_order_from_values(row) for row in rows]

    def _filtered(self, where: PurchaseOrderFilter) -> Select[Any]:
        statement = self._visible()
        if where.supplier_id is not None:
            statement = statement.where(_orders.supplier_id == where.supplier_id)
        if where.facility_id is not None:
            statement = statement.where(_orders.facility_id == where.facility_id)
        if where.statuses is not None:
            statement = statement.where(_orders.status.in_(sorted(s.value for s in where.statuses)))
        if where.open_to_bill is not None:
            is_open = _open_to_bill()
            statement = statement.where(is_open if where.open_to_bill else not_(is_open))
        return statement

    async def page(self, where: PurchaseOrderFilter, page: PageRequest) -> Page[PurchaseOrder]:
        return await fetch_page(
            self.engine,
            self._filtered(where),
            key=_orders.id,
            page=page,
            to_domain=purchase_order_from_row,
        )

    async def count(self, where: PurchaseOrderFilter) -> int:
        return await count(self.engine, self._filtered(where))

    async def lines_of(self, order_ids: Sequence[str]) -> Sequence[tuple[str, PurchaseOrderLine]]:
        """(order id, line) pairs in line order; callers reach them only through visible orders."""
        statement = _lines_among(self.engine.dialect.name)
        rows = await fetch_values(self.engine, statement, {"order_ids": list(order_ids)})
        return [(row["purchase_order_id"], purchase_order_line_from_values(row)) for row in rows]

    async def receipts_of(self, order_ids: Sequence[str]) -> Sequence[GoodsReceipt]:
        statement = (
            select(GoodsReceiptRow.__table__)
            .where(_receipts.purchase_order_id.in_(order_ids))
            .order_by(_receipts.id)
        )
        return [goods_receipt_from_row(row) for row in await fetch(self.engine, statement)]

    async def billed_of(self, order_ids: Sequence[str]) -> Sequence[BilledQuantity]:
        """Callers reach them only through visible orders, like the lines."""
        line = _invoice_lines.po_line_no
        statement = (
            _billing(
                _invoices.purchase_order_id,
                line.label("line_no"),
                func.sum(_invoice_lines.quantity).label("quantity"),
            )
            .where(_invoices.purchase_order_id.in_(order_ids))
            .group_by(_invoices.purchase_order_id, line)
            .order_by(_invoices.purchase_order_id, line)
        )
        rows = await fetch(self.engine, statement)
        return [BilledQuantity(row.purchase_order_id, row.line_no, row.quantity) for row in rows]
