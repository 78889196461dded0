"""Invoices as a unit of work writes them, and the facts its rules read under lock.

Every call runs on the unit of work's connection, in its transaction. The row locks taken
here (`FOR NO KEY UPDATE` on PostgreSQL; SQLite has one writer at a time anyway) last until
the unit of work ends: they make concurrent changes to one invoice, and concurrent checks
against one supplier or one PO line, happen one after the other (docs/invariants.md).
"""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    Boolean,
    ColumnElement,
    Insert,
    Integer,
    Select,
    Text,
    Update,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from apgraph.domain.approvals import Assignment
from apgraph.domain.ids import EntityKind, InvoiceId, PurchaseOrderId, SupplierId, numbered
from apgraph.domain.invoice_numbers import NumberKey
from apgraph.domain.invoices import (
    Approval,
    Invoice,
    InvoiceException,
    InvoiceLine,
    StatusChange,
)
from apgraph.domain.matching.match import BilledInvoice
from apgraph.domain.validation import PostingFacts
from apgraph.services.ports.unit_of_work import IdempotencyRecord
from apgraph.store import counters, idempotency, number_keys
from apgraph.store.column_arrays import array_params, rows_of, typed, unnested, widened
from apgraph.store.facilities import cost_center_from_row
from apgraph.store.idempotency import IdempotencyKeyStore, record_of
from apgraph.store.invoices import (
    approval_from_row,
    invoice_from_row,
    invoice_from_values,
    invoice_line_from_values,
    lines_of_statement,
    status_change_from_row,
)
from apgraph.store.purchasing import purchase_order_from_row
from apgraph.store.reading import among_parameter, execute_kept
from apgraph.store.rows import row_of
from apgraph.store.suppliers import supplier_unopened
from apgraph.store.tables import (
    CostCenterRow,
    CounterRow,
    ExceptionAssignmentRow,
    IdempotencyKeyRow,
    InvoiceApprovalRow,
    InvoiceExceptionRow,
    InvoiceLineRow,
    InvoiceRow,
    InvoiceStatusChangeRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    SupplierRow,
)

COUNTER = "invoice"
_PREFIX = f"{EntityKind.INVOICE.prefix}-"

_invoices = InvoiceRow.__table__.c
_counter = CounterRow.__table__.c
_exceptions = InvoiceExceptionRow.__table__.c
_changes = InvoiceStatusChangeRow.__table__.c
_approvals = InvoiceApprovalRow.__table__.c
_order_lines = PurchaseOrderLineRow.__table__.c
_LINE_TABLE = InvoiceLineRow.__table__
_LINE_COLUMNS = tuple(column.name for column in _LINE_TABLE.c)


_HISTORY_TABLE = InvoiceStatusChangeRow.__table__
_HISTORY_COLUMNS = tuple(column.name for column in _HISTORY_TABLE.c)


@cache
def _added(invoice_columns: tuple[str, ...]) -> Insert:
    """`WITH added AS (INSERT INTO invoices …), lines AS (INSERT INTO invoice_lines SELECT …
    FROM unnest(…)) INSERT INTO invoice_status_changes SELECT … FROM unnest(…)`, built once
    per set of invoice columns given (column_arrays.py): the invoice's values are parameters
    `invoice_<column>`, its lines' the arrays `line_<column>`, its first status changes' the
    arrays `change_<column>`."""
    added = insert(InvoiceRow).values(
        {name: bindparam(f"invoice_{name}", type_=_invoices[name].type) for name in invoice_columns}
    )
    lines = insert(InvoiceLineRow).from_select(
        _LINE_COLUMNS, rows_of(_LINE_TABLE, _LINE_COLUMNS, prefix="line")
    )
    changes = rows_of(_HISTORY_TABLE, _HISTORY_COLUMNS, prefix="change")
    return (
        insert(InvoiceStatusChangeRow)
        .from_select(_HISTORY_COLUMNS, changes)
        .add_cte(added.cte("added"))
        .add_cte(lines.cte("lines"))
    )


_LOCK_SUPPLIER = (
    select(SupplierRow.id)
    .where(SupplierRow.id == bindparam("supplier_id"))
    .with_for_update(key_share=True)
)
_HISTORY_LENGTH = select(func.coalesce(func.max(_changes.sequence), 0).label("length")).where(
    _changes.invoice_id == bindparam("invoice_id")
)
_FOR_UPDATE = (
    select(InvoiceRow.__table__)
    .where(_invoices.id == bindparam("invoice_id"))
    .with_for_update(key_share=True)
)
_BILLED = select(InvoiceRow.__table__).where(
    _invoices.purchase_order_id == bindparam("purchase_order_id"),
    _invoices.id != bindparam("excluding"),
)


@cache
def _lock_order_lines(dialect: str) -> Select[Any]:
    """The PO's billed lines' rows, in line order (one statement locks them sorted, so two
    invoices billing overlapping lines never wait on each other in a circle); the line
    numbers a parameter `lines` (one integer array on PostgreSQL)."""
    billed = among_parameter(dialect, _order_lines.line_no, "lines", keys=Integer())
    return (
        select(_order_lines.line_no)
        .where(_order_lines.purchase_order_id == bindparam("purchase_order_id"), billed)
        .order_by(_order_lines.line_no)
        .with_for_update(key_share=True)
    )


_KEY: BindParameter[Any] = bindparam("key")  # the invoice a save writes


@cache
def _saved(columns: tuple[str, ...]) -> Update:
    """`UPDATE invoices SET … WHERE id = :key`, built once per set of columns given: a save
    binds its values instead of building the statement and its cache key each time."""
    return (
        update(InvoiceRow)
        .where(_invoices.id == _KEY)
        .values({name: bindparam(name, type_=_invoices[name].type) for name in columns})
    )


@cache
def _saved_with_history(columns: tuple[str, ...], *, numbered_on: bool = False) -> Insert:
    """`WITH saved AS (UPDATE invoices … RETURNING id) INSERT INTO invoice_status_changes
    SELECT … FROM unnest(…) WHERE EXISTS (SELECT FROM saved)`, built once per set of invoice
    columns: the changes (arrays `change_<column>`) go in only if the invoice was saved, so
    the rows it returns say whether it was. `numbered_on`: each change's sequence is added to
    the stored history's length, read in the statement (`history_length` in SQL)."""
    saved = _saved(columns).returning(_invoices.id).cte("saved")
    source = unnested(_HISTORY_TABLE, _HISTORY_COLUMNS, prefix="change")
    stored = select(_HISTORY_LENGTH.selected_columns[0]).where(_changes.invoice_id == _KEY)
    changes = select(
        *(
            stored.scalar_subquery() + source.c.sequence
            if numbered_on and name == "sequence"
            else typed(_HISTORY_TABLE, source, name)
            for name in _HISTORY_COLUMNS
        )
    ).where(exists(select(saved.c.id)))
    return (
        insert(InvoiceStatusChangeRow)
        .from_select(_HISTORY_COLUMNS, changes)
        .add_cte(saved)
        .returning(_changes.sequence)
    )


_CANDIDATES = (
    select(InvoiceRow.__table__)
    .where(
        _invoices.supplier_id == bindparam("supplier_id"),
        _invoices.id != bindparam("excluding"),
        number_keys.MAY_BE_DUPLICATE,
    )
    .order_by(_invoices.received_at, _invoices.id)
)


@dataclass(frozen=True, slots=True)
class InvoiceWrites:
    connection: AsyncConnection

    async def next_id(self) -> InvoiceId:
        number = await counters.claim(self.connection, COUNTER, 1, floor=_highest_invoice_number)
        return InvoiceId(numbered(EntityKind.INVOICE, number))

    async def next_id_keyed(
        self,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        at: datetime,
        along: Callable[[InvoiceId], Sequence[IdempotencyRecord]] = lambda _: (),
    ) -> tuple[InvoiceId, IdempotencyRecord]:
        """On PostgreSQL the claim and the key's insert are one statement (`_NEXT_ID_KEYED`):
        every submission queues for the counter, which is held to COMMIT, so each round trip
        under it costs them all. Without the counter's row (a fresh or emptied database) and
        on SQLite, `next_id` and then `IdempotencyKeyStore.put`."""
        keys = IdempotencyKeyStore(self.connection)
        if self.connection.dialect.name == "postgresql":
            offered = [
                {
                    "scope": scope,
                    "key": key,
                    "fingerprint": fingerprint,
                    "result_ref": "",  # the ID, set in the statement
                    "created_at": at,
                    "key_is_id": False,
                    "result_is_id": True,
                }
            ]
            for record in along(_ANY_ID):
                if record.key != _ANY_ID or _ANY_ID in (record.scope, record.result_ref):
                    raise ValueError("records along an invoice's key hold its ID as their key")
                offered.append(row_of(record, key_is_id=True, result_is_id=False))
            found = await execute_kept(
                self.connection,
                _NEXT_ID_KEYED,
                array_params(_OFFERED, _OFFERED_NAMES, offered, prefix="offered"),
            )
            if found:  # else no counter row: nothing claimed nor stored
                invoice_id = InvoiceId(numbered(EntityKind.INVOICE, found[0]["claimed"]))
                if found[0]["claimed_id"] != invoice_id:
                    raise RuntimeError(
                        f"{found[0]['claimed_id']!r} was formatted, not {invoice_id}"
                    )
                mine = [v for v in found if (v["scope"], v["key"]) == (scope, key)]
                on_file = record_of(mine[0]) if mine else await keys.get(scope, key)
                if on_file is None:
                    raise RuntimeError(f"idempotency key {key!r} of {scope!r} vanished")
                return invoice_id, on_file
        invoice_id = await self.next_id()
        on_file = await keys.put(
            scope,
            key,
            fingerprint=fingerprint,
            result_ref=invoice_id,
            at=at,
            along=along(invoice_id),
        )
        return invoice_id, on_file

    async def add(
        self,
        invoice: Invoice,
        lines: Sequence[InvoiceLine],
        *,
        number: NumberKey,
        history: Sequence[StatusChange] = (),
    ) -> None:
        line_rows = [row_of(line, invoice_id=invoice.id) for line in lines]
        values = {**row_of(invoice), **number_keys.stored(number)}
        if self.connection.dialect.name == "postgresql":
            # One round trip for the invoice, its lines and its first status changes (a
            # data-modifying WITH runs to completion; the foreign keys to the invoice are
            # checked at the end of the statement): a submission holds the invoice-number
            # counter's row lock two round trips less. The rows go as column arrays: one
            # statement, built and compiled once (column_arrays.py).
            changes = [row_of(change) for change in history]
            await execute_kept(
                self.connection,
                _added(tuple(values)),
                {
                    **{f"invoice_{name}": value for name, value in values.items()},
                    **array_params(_LINE_TABLE, _LINE_COLUMNS, line_rows, prefix="line"),
                    **array_params(_HISTORY_TABLE, _HISTORY_COLUMNS, changes, prefix="change"),
                },
            )
            return
        await self.connection.execute(insert(InvoiceRow), [values])
        if line_rows:
            await self.connection.execute(insert(InvoiceLineRow), line_rows)
        await self.add_history(history)

    async def get_for_update(self, invoice_id: InvoiceId) -> Invoice | None:
        found = await execute_kept(self.connection, _FOR_UPDATE, {"invoice_id": invoice_id})
        return invoice_from_values(found[0]) if found else None

    async def get_many_for_update(self, invoice_ids: Collection[InvoiceId]) -> Sequence[Invoice]:
        found = await self.connection.execute(
            select(InvoiceRow.__table__)
            .where(_invoices.id.in_(sorted(invoice_ids)))
            .order_by(_invoices.id)
            .with_for_update(key_share=True)
        )
        return [invoice_from_row(row) for row in found]

    async def save_many(self, invoices: Sequence[Invoice]) -> None:
        """One UPDATE statement executed for every invoice (not one round of SQL each)."""
        if not invoices:
            return
        rows = [{**row_of(i), "key": i.id} for i in invoices]
        names = tuple(name for name in rows[0] if name not in ("id", "key"))
        for row in rows:
            del row["id"]
        await self.connection.execute(
            _saved(names), rows, execution_options={"synchronize_session": False}
        )

    async def history_lengths(self, invoice_ids: Collection[InvoiceId]) -> dict[InvoiceId, int]:
        found = await self.connection.execute(
            select(_changes.invoice_id, func.max(_changes.sequence))
            .where(_changes.invoice_id.in_(sorted(invoice_ids)))
            .group_by(_changes.invoice_id)
        )
        lengths = {InvoiceId(invoice_id): int(last) for invoice_id, last in found.all()}
        return {invoice_id: lengths.get(invoice_id, 0) for invoice_id in invoice_ids}

    async def history_length(self, invoice_id: InvoiceId) -> int:
        """One number, not the rows: recording a transition needs only where to go on."""
        (found,) = await execute_kept(self.connection, _HISTORY_LENGTH, {"invoice_id": invoice_id})
        return int(found["length"])

    async def save(self, invoice: Invoice) -> None:
        values = row_of(invoice)
        del values["id"]
        saved = await self.connection.execute(_saved(tuple(values)), {**values, "key": invoice.id})
        if saved.rowcount != 1:
            raise LookupError(f"no invoice {invoice.id} to save")

    async def add_history(self, changes: Sequence[StatusChange]) -> None:
        if changes:
            await self.connection.execute(
                insert(InvoiceStatusChangeRow), [row_of(change) for change in changes]
            )

    async def save_with_history(
        self, invoice: Invoice, changes: Sequence[StatusChange], *, numbered_on: bool = False
    ) -> None:
        if not changes or self.connection.dialect.name != "postgresql":
            if numbered_on:
                after = await self.history_length(invoice.id)
                changes = [replace(c, sequence=after + c.sequence) for c in changes]
            await self.save(invoice)
            await self.add_history(changes)
            return
        # one round trip on PostgreSQL: the update and the changes in one statement
        values = row_of(invoice)
        del values["id"]
        arrays = array_params(
            _HISTORY_TABLE,
            _HISTORY_COLUMNS,
            [row_of(change) for change in changes],
            prefix="change",
        )
        added = await execute_kept(
            self.connection,
            _saved_with_history(tuple(values), numbered_on=numbered_on),
            {**values, "key": invoice.id, **arrays},
        )
        if len(added) != len(changes):
            raise LookupError(f"no invoice {invoice.id} to save")

    async def history(self, invoice_id: InvoiceId) -> Sequence[StatusChange]:
        found = await self.connection.execute(
            select(InvoiceStatusChangeRow.__table__)
            .where(_changes.invoice_id == invoice_id)
            .order_by(_changes.sequence)
        )
        return [status_change_from_row(row) for row in found]

    async def approvals(self, invoice_id: InvoiceId) -> Sequence[Approval]:
        found = await self.connection.execute(
            select(InvoiceApprovalRow.__table__)
            .where(_approvals.invoice_id == invoice_id)
            .order_by(_approvals.id)
        )
        return [approval_from_row(row) for row in found]

    async def add_approval(self, approval: Approval) -> None:
        await self.connection.execute(
            insert(InvoiceApprovalRow),
            [row_of(approval)],
        )

    async def add_assignment(self, assignment: Assignment) -> None:
        """Appends one; the latest row per invoice is whose queue the exception is in."""
        await self.connection.execute(insert(ExceptionAssignmentRow), [row_of(assignment)])

    async def replace_exceptions(
        self, invoice_id: InvoiceId, exceptions: Sequence[InvoiceException]
    ) -> None:
        await self.connection.execute(
            delete(InvoiceExceptionRow).where(_exceptions.invoice_id == invoice_id)
        )
        if exceptions:
            await self.connection.execute(
                insert(InvoiceExceptionRow),
                [row_of(found, invoice_id=invoice_id) for found in exceptions],
            )

    async def duplicate_candidates(
        self,
        supplier_id: SupplierId,
        *,
        number: NumberKey,
        currency: str,
        total: Decimal,
        excluding: InvoiceId | None = None,
    ) -> Sequence[Invoice]:
        # two statements: the read after the lock has its own snapshot, which holds what the
        # submission that had the lock committed (in one, it would not under READ COMMITTED)
        await execute_kept(self.connection, _LOCK_SUPPLIER, {"supplier_id": supplier_id})
        rows = await execute_kept(
            self.connection,
            _CANDIDATES,
            {
                "supplier_id": supplier_id,
                "excluding": excluding or "",  # no invoice has the empty ID
                **number_keys.candidate_parameters(number, currency=currency, total=total),
            },
        )
        return [invoice_from_values(row) for row in rows]

    async def posting_facts(self, invoice: Invoice) -> PostingFacts:
        """Read `FOR SHARE`: a concurrent change to the supplier, PO or cost center waits
        until this unit of work has decided, so it is seen by the decision or comes after."""
        supplier = await self.connection.execute(
            select(SupplierRow.__table__)
            .where(SupplierRow.id == invoice.supplier_id)
            .with_for_update(read=True)
        )
        order = None
        if invoice.purchase_order_id is not None:
            order = (
                await self.connection.execute(
                    select(PurchaseOrderRow.__table__)
                    .where(PurchaseOrderRow.id == invoice.purchase_order_id)
                    .with_for_update(read=True)
                )
            ).one_or_none()
        center = await self.connection.execute(
            select(CostCenterRow.__table__)
            .where(CostCenterRow.id == invoice.cost_center_id)
            .with_for_update(read=True)
        )
        supplier_row, center_row = supplier.one_or_none(), center.one_or_none()
        return PostingFacts(
            supplier=supplier_unopened(supplier_row) if supplier_row is not None else None,
            purchase_order=purchase_order_from_row(order) if order is not None else None,
            cost_center=cost_center_from_row(center_row) if center_row is not None else None,
        )

    async def billed_per_po_line(
        self,
        purchase_order_id: PurchaseOrderId,
        *,
        lines: Collection[int],
        excluding: InvoiceId | None = None,
    ) -> Sequence[BilledInvoice]:
        dialect = self.connection.dialect.name
        await execute_kept(
            self.connection,
            _lock_order_lines(dialect),
            {"purchase_order_id": purchase_order_id, "lines": sorted(lines)},
        )
        found = await execute_kept(
            self.connection,
            _BILLED,
            {"purchase_order_id": purchase_order_id, "excluding": excluding or ""},
        )
        invoices = [invoice_from_values(row) for row in found]
        of: dict[str, list[InvoiceLine]] = {invoice.id: [] for invoice in invoices}
        if invoices:
            for row in await execute_kept(
                self.connection, lines_of_statement(dialect), {"invoice_ids": list(of)}
            ):
                of[row["invoice_id"]].append(invoice_line_from_values(row))
        return [BilledInvoice(invoice, tuple(of[invoice.id])) for invoice in invoices]


_ANY_ID = InvoiceId(numbered(EntityKind.INVOICE, 0))  # what `along` is built with, then set
_KEYS = IdempotencyKeyRow.__table__
# the keys offered, as column arrays (column_arrays.py), each with where the new ID goes
_OFFERED = widened(
    "offered_keys", _KEYS, idempotency.COLUMNS, key_is_id=Boolean(), result_is_id=Boolean()
)
_OFFERED_NAMES = tuple(_OFFERED.c.keys())


def _next_id_keyed() -> Select[Any]:
    """`WITH claimed AS (UPDATE counters … RETURNING), ids AS (the number and the ID, formatted
    as `ids.numbered` formats it), put AS (INSERT INTO idempotency_keys … ON CONFLICT DO NOTHING
    RETURNING …)`: one row per key stored (none of them when another request holds the
    caller's key: it waits for that request first, as `put` does), or one with nulls; each
    with the number claimed and the ID. No row when the counter's row is missing."""
    claimed = (
        update(CounterRow)
        .where(_counter.name == COUNTER)
        .values(last_value=_counter.last_value + 1)
        .returning(_counter.last_value)
        .cte("claimed")
    )
    digits = cast(claimed.c.last_value, Text)
    width = len(EntityKind.INVOICE.example.rsplit("-", 1)[1])
    formatted = literal_column(f"'{_PREFIX}'", Text()) + func.lpad(
        digits, func.greatest(width, func.length(digits)), literal_column("'0'", Text())
    )
    ids = select(claimed.c.last_value.label("claimed"), formatted.label("claimed_id")).cte("ids")
    offered = unnested(_OFFERED, _OFFERED_NAMES, prefix="offered")

    def value(name: str) -> ColumnElement[Any]:
        given = typed(_OFFERED, offered, name)
        flag = {"key": offered.c.key_is_id, "result_ref": offered.c.result_is_id}.get(name)
        return given if flag is None else case((flag, ids.c.claimed_id), else_=given)

    put = (
        postgresql.insert(IdempotencyKeyRow)
        .from_select(
            idempotency.COLUMNS,
            select(*(value(name) for name in idempotency.COLUMNS))
            .select_from(ids)
            .join(offered, true()),
        )
        .on_conflict_do_nothing()
        .returning(*_KEYS.c)
        .cte("put")
    )
    return select(ids.c.claimed, ids.c.claimed_id, *put.c).select_from(ids.outerjoin(put, true()))


_NEXT_ID_KEYED = _next_id_keyed()  # built once (column_arrays.py)


async def _highest_invoice_number(connection: AsyncConnection) -> int:
    """IDs are zero-padded to one width, so the greatest string is the greatest number."""
    highest = await connection.scalar(
        select(_invoices.id)
        .where(_invoices.id.like(f"{_PREFIX}%"))
        .order_by(_invoices.id.desc())
        .limit(1)
    )
    return int(highest.removeprefix(_PREFIX)) if highest else 0
