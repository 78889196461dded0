"""Invoices with their lines, exceptions, status history and approvals: rows ⇄ domain."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Row,
    Select,
    Subquery,
    Text,
    bindparam,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.approvals import Assignment
from apgraph.domain.facilities import CostCenter
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
from apgraph.domain.purchasing import PurchaseOrder
from apgraph.domain.suppliers import Supplier
from apgraph.services.ports.reads import (
    InvoiceFilter,
    InvoicePageWithOrders,
    Page,
    PageRequest,
    Selection,
)
from apgraph.store.facilities import (
    cost_center_from_values,
    visible_cost_centers,
    visible_facilities,
)
from apgraph.store.invoice_json import (
    MINOR_UNITS_COLUMN,
    PageColumns,
    kept_page_json,
    minor_units,
)
from apgraph.store.keyring import Keyring
from apgraph.store.purchasing import purchase_order_from_values, visible_purchase_orders
from apgraph.store.reading import (
    Values,
    among,
    among_parameter,
    count,
    counted,
    fetch,
    fetch_page,
    fetch_values,
)
from apgraph.store.rows import member_by_value
from apgraph.store.scoping import KeptScope, by_supplier_and_facility, scope_parameters
from apgraph.store.suppliers import open_suppliers, visible_suppliers
from apgraph.store.tables import (
    ExceptionAssignmentRow,
    InvoiceApprovalRow,
    InvoiceExceptionRow,
    InvoiceLineRow,
    InvoiceRow,
    InvoiceStatusChangeRow,
    SupplierRow,
)
from apgraph.store.types import ExactDecimal

log = logging.getLogger("apgraph.store")

_invoices = InvoiceRow.__table__.c
_lines = InvoiceLineRow.__table__.c
_exceptions = InvoiceExceptionRow.__table__.c
_changes = InvoiceStatusChangeRow.__table__.c
_approvals = InvoiceApprovalRow.__table__.c
_assignments = ExceptionAssignmentRow.__table__.c
_ORDER = "order__"  # the labels of a page's joined purchase-order columns
_CENTER = "center__"  # and of its cost-center columns
_SUPPLIER = "supplier__"  # and of its suppliers' columns
_SUPPLIER_NAMES = tuple(column.name for column in SupplierRow.__table__.c)
_SUPPLIER_JSON = frozenset(c.name for c in SupplierRow.__table__.c if isinstance(c.type, JSON))
_PAGE_LINES = "page__lines"  # the label of a page's lines, JSON text per invoice (PostgreSQL)
# a line's columns as a page's JSON holds them, in the order `invoice_lines_from_json` reads
_LINE_NAMES = (
    "line_no",
    "po_line_no",
    "item_id",
    "description",
    "quantity",
    "unit_of_measure",
    "unit_price",
    "amount",
)


_INVOICE_STATUS = member_by_value(InvoiceStatus)  # a stored status as its member


@dataclass(frozen=True, slots=True)
class _Joined:
    """A scope's visible purchase orders and cost centers as subqueries to join a page to,
    with their labelled columns."""

    orders: Subquery
    centers: Subquery
    columns: tuple[ColumnElement[Any], ...]
    order_names: tuple[str, ...]
    center_names: tuple[str, ...]
    json_names: frozenset[str]


@lru_cache(maxsize=1024)
def _joined_orders_and_centers(kept: KeptScope) -> _Joined:
    """Built once per kind of scope and kept: building the subqueries' and labels' column
    proxies anew on every page was as costly as the statements it saves (~0.5 ms; issue 19).
    The supplier is bound at execution (scoping.KeptScope), as the page's own condition."""
    orders = visible_purchase_orders(kept).subquery("page_orders")
    centers = visible_cost_centers(kept).subquery("page_cost_centers")
    return _Joined(
        orders=orders,
        centers=centers,
        columns=(
            *(column.label(_ORDER + column.name) for column in orders.c),
            *(_as_text_if_json(column).label(_CENTER + column.name) for column in centers.c),
        ),
        order_names=tuple(column.name for column in orders.c),
        center_names=tuple(column.name for column in centers.c),
        json_names=frozenset(c.name for c in centers.c if isinstance(c.type, JSON)),
    )


@dataclass(frozen=True, slots=True)
class _JoinedSuppliers:
    """A scope's visible suppliers as a subquery to join a page to, with labelled columns."""

    suppliers: Subquery
    columns: tuple[ColumnElement[Any], ...]


@lru_cache(maxsize=1024)
def _joined_suppliers(kept: KeptScope) -> _JoinedSuppliers:
    """Built once per kind of scope and kept, as `_joined_orders_and_centers` is.

    A supplier's columns come only on the rows whose supplier differs from the previous
    row's (in the page's order): a supplier's page is one supplier 50 times over, and the
    driver decoded each repetition of its ~600 bytes (sealed fields, contacts), more than
    the invoices' own columns (issue 19). The page reads a supplier from its first row."""
    suppliers = visible_suppliers(kept).subquery("page_suppliers")
    changed = (
        func.lag(_invoices.supplier_id)
        .over(order_by=_invoices.id)
        .is_distinct_from(_invoices.supplier_id)
    )
    return _JoinedSuppliers(
        suppliers=suppliers,
        columns=tuple(
            case((changed, _as_text_if_json(column))).label(_SUPPLIER + column.name)
            for column in suppliers.c
        ),
    )


@dataclass(frozen=True, slots=True)
class _FilterShape:
    """What a kept page statement knows of an InvoiceFilter: its statuses (rendered: there
    are few sets of them) and which other conditions it sets, whose values are bound at
    execution (`_filter_parameters`), so one statement serves every supplier's page."""

    statuses: tuple[str, ...] | None
    supplier: bool
    facility: bool
    purchase_order: bool
    from_date: bool
    to_date: bool

    @classmethod
    def of(cls, where: InvoiceFilter) -> "_FilterShape":
        return cls(
            statuses=(
                None if where.statuses is None else tuple(sorted(s.value for s in where.statuses))
            ),
            supplier=where.supplier_id is not None,
            facility=where.facility_id is not None,
            purchase_order=where.purchase_order_id is not None,
            from_date=where.invoice_dates.start is not None,
            to_date=where.invoice_dates.end is not None,
        )


def _filter_parameters(where: InvoiceFilter) -> dict[str, Any]:
    """The values `_filtered_invoices` binds for `where` (those it sets)."""
    given = {
        "filter_supplier_id": where.supplier_id,
        "filter_facility_id": where.facility_id,
        "filter_purchase_order_id": where.purchase_order_id,
        "filter_from": where.invoice_dates.start,
        "filter_to": where.invoice_dates.end,
    }
    return {name: value for name, value in given.items() if value is not None}


def _filtered_invoices(kept: KeptScope, shape: _FilterShape) -> Select[Any]:
    """The invoices the scope sees that meet a filter of this shape, with the scope's
    supplier and the filter's values as parameters (`filter_parameters`): one statement
    serves every supplier (the page, its count and the portal's page with orders)."""
    statement = _visible_invoices(kept)
    if shape.statuses is not None:
        statement = statement.where(_invoices.status.in_(shape.statuses))
    if shape.supplier:
        statement = statement.where(_invoices.supplier_id == bindparam("filter_supplier_id"))
    if shape.facility:
        statement = statement.where(_invoices.facility_id == bindparam("filter_facility_id"))
    if shape.purchase_order:
        statement = statement.where(
            _invoices.purchase_order_id == bindparam("filter_purchase_order_id")
        )
    if shape.from_date:
        statement = statement.where(_invoices.invoice_date >= bindparam("filter_from"))
    if shape.to_date:
        statement = statement.where(_invoices.invoice_date <= bindparam("filter_to"))
    return statement


@lru_cache(maxsize=1024)
def _page_with_orders(
    kept: KeptScope,
    shape: _FilterShape,
    first: int,
    continued: bool,
    with_lines: bool = False,
    with_suppliers: bool = False,
) -> Select[Any]:
    """`first` + 1 invoices (one more tells whether more follow) with their joined orders
    and cost centers, after the bound `after` when `continued`, each invoice's lines as JSON
    text when `with_lines` (PostgreSQL only), and its joined supplier when `with_suppliers`:
    kept per kind of scope, filter shape, size and shape, so a page neither builds its
    statement nor compiles it again, whichever supplier asks (its values are bound at
    execution: `page_parameters`). Kept per scope and filter, every supplier's first page
    built and compiled its own (~3-6 ms), and past 1,024 suppliers taking turns every page
    did."""
    joined = _joined_orders_and_centers(kept)
    statement = (
        _filtered_invoices(kept, shape)
        .outerjoin(joined.orders, joined.orders.c.id == _invoices.purchase_order_id)
        .outerjoin(joined.centers, joined.centers.c.id == _invoices.cost_center_id)
        .add_columns(*joined.columns)
    )
    if with_suppliers:
        suppliers = _joined_suppliers(kept)
        statement = statement.outerjoin(
            suppliers.suppliers, suppliers.suppliers.c.id == _invoices.supplier_id
        ).add_columns(*suppliers.columns)
    if with_lines:
        statement = statement.add_columns(_lines_json().label(_PAGE_LINES))
    if continued:
        statement = statement.where(_invoices.id > bindparam("after"))
    return statement.order_by(_invoices.id).limit(first + 1)


@lru_cache(maxsize=1024)
def _page_columns(kept: KeptScope, shape: _FilterShape, first: int, continued: bool) -> PageColumns:
    """The page `_page_with_orders` reads, numbered in its order, as the subquery whose
    JSON `invoice_json` builds, with the scope's visible suppliers to join it to: kept as
    the page statement is, so each selection's statement is built once per kind of page."""
    page = (
        _page_with_orders(kept, shape, first, continued)
        .add_columns(
            func.row_number().over(order_by=_invoices.id).label("number"),
            minor_units(_invoices.currency).label(MINOR_UNITS_COLUMN),
        )
        .subquery("page")
    )
    suppliers = _joined_suppliers(kept).suppliers
    matching = counted(_filtered_invoices(kept, shape)).scalar_subquery()
    facilities = visible_facilities(kept).subquery("page_facilities")
    return PageColumns(page, _ORDER, _CENTER, suppliers, facilities, first, continued, matching)


def page_parameters(scope: RowScope, where: InvoiceFilter, page: PageRequest) -> dict[str, Any]:
    """What `_page_with_orders` binds at execution: the scope's supplier, the filter's
    values, and where the page starts."""
    after = {} if page.after is None else {"after": page.after}
    return {**filter_parameters(scope, where), **after}


def filter_parameters(scope: RowScope, where: InvoiceFilter) -> dict[str, Any]:
    """What `_filtered_invoices` binds at execution: the scope's supplier and the filter's
    values."""
    return {**scope_parameters(scope), **_filter_parameters(where)}


def _lines_json() -> ColumnElement[Any]:
    """The invoice's lines as JSON text, one array of values per line in line order
    (`_LINE_NAMES`' columns), amounts and quantities as their exact decimal text: read with
    the page, they need no statement of their own after it (issue 19). JSON because the
    driver decodes an array of anonymous records element by element, at ~1.4 times the
    cost of reading the lines in a statement of their own (callgrind, 50 invoices); the
    JSON text is one string, parsed in C. Lines are reached only through the invoice row
    beside them, which the caller may see. An invoice without lines has none (null)."""
    values = [
        cast(_lines[name], Text) if isinstance(_lines[name].type, ExactDecimal) else _lines[name]
        for name in _LINE_NAMES
    ]
    lines = (
        select(func.json_agg(aggregate_order_by(func.json_build_array(*values), _lines.line_no)))
        .where(_lines.invoice_id == _invoices.id)
        .correlate(InvoiceRow.__table__)
        .scalar_subquery()
    )
    return cast(lines, Text)  # the driver hands text over as it is


@cache
def lines_of_statement(dialect: str) -> Select[Any]:
    """The lines of the invoices given as `invoice_ids`: built once per dialect and reused
    (the reads' `lines_of` and the unit of work's)."""
    return (
        select(InvoiceLineRow.__table__)
        .where(among_parameter(dialect, _lines.invoice_id, "invoice_ids"))
        .order_by(_lines.invoice_id, _lines.line_no)
    )


def _as_text_if_json(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """A joined JSON column as its text: a page repeats a cost center on each of its invoices,
    and the driver would decode the JSON of every repetition (a cost center's approvers:
    ~50 decodes per portal page for ~10 cost centers); decoded once per row kept instead."""
    return cast(column, Text) if isinstance(column.type, JSON) else column


def invoice_from_row(row: Row[Any]) -> Invoice:
    return invoice_from_values(row._mapping)  # by name: attribute access costs ten times more


def invoice_from_values(values: Values) -> Invoice:
    return Invoice(
        id=InvoiceId(values["id"]),
        supplier_id=SupplierId(values["supplier_id"]),
        supplier_invoice_number=values["supplier_invoice_number"],
        facility_id=FacilityId(values["facility_id"]),
        cost_center_id=CostCenterId(values["cost_center_id"]),
        purchase_order_id=(
            PurchaseOrderId(values["purchase_order_id"]) if values["purchase_order_id"] else None
        ),
        invoice_date=values["invoice_date"],
        due_date=values["due_date"],
        currency=values["currency"],
        subtotal=values["subtotal"],
        tax=values["tax"],
        total=values["total"],
        status=_INVOICE_STATUS(values["status"]),
        submitted_by=values["submitted_by"],
        received_at=values["received_at"],
        erp_document_ref=values["erp_document_ref"],
    )


def _joined_values(
    values: Values, prefix: str, names: Sequence[str], json_names: frozenset[str]
) -> Values | None:
    """A page row's columns of one joined table (labelled `prefix` + name), by their own
    names, its JSON columns decoded (they come as text: `_as_text_if_json`); None where the
    row joined none of it."""
    if values[prefix + "id"] is None:
        return None
    return {
        name: orjson.loads(values[prefix + name])
        if name in json_names and values[prefix + name] is not None
        else values[prefix + name]
        for name in names
    }


def invoice_lines_from_json(text: str | None) -> list[InvoiceLine]:
    """The lines of a page's invoice (`_lines_json`): each a JSON array of `_LINE_NAMES`'
    values, its amounts and quantity exact decimal text. Decoded by orjson: a third of
    json.loads' CPU, and a page decodes one such array per invoice (issue 19)."""
    return [
        InvoiceLine(
            line_no=line_no,
            po_line_no=po_line_no,
            item_id=item_id,
            description=description,
            quantity=Decimal(quantity),
            unit_of_measure=unit_of_measure,
            unit_price=Decimal(unit_price),
            amount=Decimal(amount),
        )
        for (
            line_no,
            po_line_no,
            item_id,
            description,
            quantity,
            unit_of_measure,
            unit_price,
            amount,
        ) in orjson.loads(text or "[]")
    ]


def invoice_line_from_row(row: Row[Any]) -> InvoiceLine:
    return invoice_line_from_values(row._mapping)


def invoice_line_from_values(values: Values) -> InvoiceLine:
    return InvoiceLine(
        line_no=values["line_no"],
        po_line_no=values["po_line_no"],
        item_id=values["item_id"],
        description=values["description"],
        quantity=values["quantity"],
        unit_of_measure=values["unit_of_measure"],
        unit_price=values["unit_price"],
        amount=values["amount"],
    )


def status_change_from_row(row: Row[Any]) -> StatusChange:
    values = row._mapping
    return StatusChange(
        invoice_id=InvoiceId(values["invoice_id"]),
        sequence=values["sequence"],
        at=values["at"],
        from_status=InvoiceStatus(values["from_status"]) if values["from_status"] else None,
        to_status=InvoiceStatus(values["to_status"]),
        actor=values["actor"],
        note=values["note"],
    )


def approval_from_row(row: Row[Any]) -> Approval:
    values = row._mapping
    return Approval(
        invoice_id=InvoiceId(values["invoice_id"]),
        approver=values["approver"],
        decision=ApprovalDecision(values["decision"]),
        at=values["at"],
        note=values["note"],
    )


def _visible_invoices(scope: RowScope | KeptScope) -> Select[Any]:
    return by_supplier_and_facility(
        select(InvoiceRow.__table__),
        scope,
        supplier=_invoices.supplier_id,
        facility=_invoices.facility_id,
    )


@dataclass(frozen=True, slots=True)
class InvoiceRepository:
    engine: AsyncEngine
    scope: RowScope
    keyring: Keyring | None = None  # opens a page's joined suppliers; None: none joined

    def _visible(self) -> Select[Any]:
        return _visible_invoices(self.scope)

    def _filtered(self, where: InvoiceFilter) -> Select[Any]:
        """Bound at execution with `filter_parameters(self.scope, where)`."""
        return _filtered_invoices(KeptScope.of(self.scope), _FilterShape.of(where))

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
            parameters=filter_parameters(self.scope, where),
        )

    async def count(self, where: InvoiceFilter) -> int:
        return await count(self.engine, self._filtered(where), filter_parameters(self.scope, where))

    async def page_with_orders(
        self,
        where: InvoiceFilter,
        page: PageRequest,
        *,
        with_lines: bool = False,
        with_suppliers: bool = False,
    ) -> InvoicePageWithOrders:
        """The page, its invoices' purchase orders and cost centers in one statement: two
        outer joins instead of two reads of their own after it (issue 19). Each joined table
        is its own reader's visible rows (`visible_purchase_orders`, `visible_cost_centers`
        with this repository's scope), so a row hidden from the caller joins as nulls and
        answers None, as its by-id read would. `with_lines`: on PostgreSQL, each invoice's
        lines too, as `lines_of` answers them (elsewhere `lines` stays None: not read).
        `with_suppliers`: each invoice's supplier too, joined as the orders are and opened as
        the supplier reader opens it (a repository without a keyring joins none)."""
        kept = KeptScope.of(self.scope)
        joined = _joined_orders_and_centers(kept)
        with_lines = with_lines and self.engine.dialect.name == "postgresql"
        with_suppliers = with_suppliers and self.keyring is not None
        statement = _page_with_orders(
            kept,
            _FilterShape.of(where),
            page.first,
            page.after is not None,
            with_lines,
            with_suppliers,
        )
        rows = await fetch_values(self.engine, statement, page_parameters(self.scope, where, page))
        has_next_page = len(rows) > page.first
        order_names, center_names, json_names = (
            joined.order_names,
            joined.center_names,
            joined.json_names,
        )
        found_orders: dict[str, PurchaseOrder | None] = {}
        found_centers: dict[str, CostCenter | None] = {}
        found_lines: dict[str, list[InvoiceLine]] | None = {} if with_lines else None
        supplier_rows: dict[str, Values | None] = {}
        invoices = []
        for values in rows[: page.first]:
            invoices.append(invoice_from_values(values))
            if with_suppliers and values["supplier_id"] not in supplier_rows:
                supplier_rows[values["supplier_id"]] = _joined_values(
                    values, _SUPPLIER, _SUPPLIER_NAMES, _SUPPLIER_JSON
                )
            if found_lines is not None:
                found_lines[values["id"]] = invoice_lines_from_json(values[_PAGE_LINES])
            order_id = values["purchase_order_id"]
            if order_id is not None and order_id not in found_orders:
                found_orders[order_id] = (
                    None
                    if values[_ORDER + "id"] is None
                    else purchase_order_from_values(
                        {name: values[_ORDER + name] for name in order_names}
                    )
                )
            center_id = values["cost_center_id"]
            if center_id not in found_centers:
                center = _joined_values(values, _CENTER, center_names, json_names)
                found_centers[center_id] = (
                    None if center is None else cost_center_from_values(center)
                )
        return InvoicePageWithOrders(
            invoices=Page(
                items=invoices,
                has_next_page=has_next_page,
                has_previous_page=page.after is not None,
            ),
            purchase_orders=found_orders,
            cost_centers=found_centers,
            lines=found_lines,
            suppliers=await self._opened_suppliers(supplier_rows) if with_suppliers else None,
        )

    async def page_as_json(
        self, where: InvoiceFilter, page: PageRequest, selection: Selection
    ) -> str | None:
        """See InvoiceReader.page_as_json (store/invoice_json.py): PostgreSQL only."""
        if self.engine.dialect.name != "postgresql":
            return None
        columns = _page_columns(
            KeptScope.of(self.scope), _FilterShape.of(where), page.first, page.after is not None
        )
        statement = kept_page_json(columns, selection)
        if statement is None:
            return None
        rows = await fetch_values(self.engine, statement, page_parameters(self.scope, where, page))
        if not rows[0]["renderable"]:  # a code or currency the schema could not show
            log.warning("a page held a value its JSON could not show; answered from objects")
            return None
        answer: str = rows[0]["answer"]
        return answer

    async def _opened_suppliers(self, rows: dict[str, Values | None]) -> dict[str, Supplier | None]:
        """A page's joined suppliers opened as the supplier reader opens them; None for a
        supplier hidden from the caller (joined as nulls)."""
        assert self.keyring is not None
        found = [row for row in rows.values() if row is not None]
        opened = {supplier.id: supplier for supplier in await open_suppliers(found, self.keyring)}
        return {key: opened.get(SupplierId(key)) for key in rows}

    # The child rows below are reached only through invoices the caller could already see.

    async def lines_of(self, invoice_ids: Sequence[str]) -> Sequence[tuple[str, InvoiceLine]]:
        statement = lines_of_statement(self.engine.dialect.name)
        rows = await fetch_values(self.engine, statement, {"invoice_ids": list(invoice_ids)})
        return [(values["invoice_id"], invoice_line_from_values(values)) for values in rows]

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
