"""Master-data bundles in and out of the database: what the store holds of the IDs a bundle
names, the bulk upsert of a whole bundle in one transaction, and reading a bundle back.

The upsert compares each row with the stored one by canonical ID (PO lines by PO and line
number) and writes only the difference, with bulk statements: new rows in one multi-row
INSERT per chunk, changed ones in one executemany UPDATE per chunk. Equal rows are left
alone, so importing the same bundle again writes nothing, not even an audit entry.

A stored PO line that the bundle does not list for its PO is kept, not deleted: invoices may
already bill it, and a bundle adds and corrects lines but never withdraws one. An export
lists every stored line, so export → import still round-trips exactly. Vendor links given
for a supplier replace its link to that ERP (and any other supplier's link to the same
vendor key, as the supplier sync does); links the bundle leaves out stay.
"""

import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    RowMapping,
    Select,
    Table,
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.audit import AuditEvent, AuditOutcome
from apgraph.domain.bundle import (
    FacilityEntry,
    KnownIds,
    MasterDataBundle,
    PurchaseOrderEntry,
    SupplierEntry,
    VendorLink,
)
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.ids import ContractPriceId, FacilityId, SupplierId
from apgraph.domain.purchasing import ContractPrice
from apgraph.domain.systems import ERPS, ExternalSystem
from apgraph.services.ports.master_data import UpsertCounts
from apgraph.store import audit
from apgraph.store.connector_state import SUPPLIER, replace_vendor_links
from apgraph.store.database import begin_writing, refresh_statistics
from apgraph.store.facilities import cost_center_from_row, facility_from_row
from apgraph.store.keyring import Keyring
from apgraph.store.purchasing import (
    goods_receipt_from_row,
    purchase_order_from_row,
    purchase_order_line_from_row,
)
from apgraph.store.rows import facility_row, row_of, supplier_row
from apgraph.store.sealing import UNREADABLE, Sealing
from apgraph.store.suppliers import open_suppliers
from apgraph.store.tables import (
    ContractPriceRow,
    CostCenterRow,
    ErpCrossReferenceRow,
    FacilityRow,
    GoodsReceiptRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    SupplierRow,
)

IMPORTED = "master_data.imported"  # one per import that changed anything: the counts
UPDATED = "master_data.updated"  # one per changed row: which fields (names only, no values)

# Rows compared per round trip, and IDs per IN list: few round trips, and under every
# driver's parameter limit (32,767 on asyncpg and SQLite 3.32+). Fewer, larger chunks also
# matter for PostgreSQL's plans: tables filled in this very transaction have no statistics,
# so each lookup may scan the whole table; a few scans cost little, hundreds would not.
CHUNK = 5000
LINK_CHUNK = 500  # vendor links per DELETE and INSERT

_facilities: Table = FacilityRow.__table__  # type: ignore[assignment]
_cost_centers: Table = CostCenterRow.__table__  # type: ignore[assignment]
_suppliers: Table = SupplierRow.__table__  # type: ignore[assignment]
_orders: Table = PurchaseOrderRow.__table__  # type: ignore[assignment]
_lines: Table = PurchaseOrderLineRow.__table__  # type: ignore[assignment]
_receipts: Table = GoodsReceiptRow.__table__  # type: ignore[assignment]
_contracts: Table = ContractPriceRow.__table__  # type: ignore[assignment]
_xrefs: Table = ErpCrossReferenceRow.__table__  # type: ignore[assignment]
MASTER_DATA_TABLES = (
    _facilities,
    _cost_centers,
    _suppliers,
    _orders,
    _lines,
    _receipts,
    _contracts,
    _xrefs,
)

Progress = Callable[[int], None]
_Key = tuple[Any, ...]

log = logging.getLogger("apgraph.master_data")


class UnreadableSupplier(Exception):
    """A stored supplier's classified value fails its integrity check: nothing is exported."""

    code = UNREADABLE

    def __init__(self, supplier_id: str, fields: frozenset[str]) -> None:
        super().__init__(
            f"supplier {supplier_id}: {', '.join(sorted(fields))} cannot be read "
            f"({UNREADABLE}: the stored value fails its integrity check)"
        )
        self.supplier_id = supplier_id


# --- what is stored of what a bundle names ----------------------------------------------------


async def stored_ids(connection: AsyncConnection, bundle: MasterDataBundle) -> KnownIds:
    """Of the facilities, cost centers, suppliers and POs the bundle has or refers to, those
    already stored, with the line numbers of each stored PO."""
    facility_ids = {e.facility.id for e in bundle.facilities}
    facility_ids |= {c.facility_id for c in bundle.cost_centers}
    facility_ids |= {e.order.facility_id for e in bundle.purchase_orders}
    cost_center_ids = {c.id for c in bundle.cost_centers}
    cost_center_ids |= {e.order.cost_center_id for e in bundle.purchase_orders}
    supplier_ids = {e.supplier.id for e in bundle.suppliers}
    supplier_ids |= {e.order.supplier_id for e in bundle.purchase_orders}
    supplier_ids |= {c.supplier_id for c in bundle.contract_prices}
    order_ids = {e.order.id for e in bundle.purchase_orders}
    order_ids |= {r.purchase_order_id for r in bundle.goods_receipts}
    lines: dict[str, set[int]] = {}
    for ids in _chunks(sorted(order_ids)):
        found = await connection.execute(
            select(_lines.c.purchase_order_id, _lines.c.line_no).where(
                _lines.c.purchase_order_id.in_(ids)
            )
        )
        for order_id, line_no in found:
            lines.setdefault(order_id, set()).add(line_no)
        orders = await connection.execute(select(_orders.c.id).where(_orders.c.id.in_(ids)))
        for (order_id,) in orders:
            lines.setdefault(order_id, set())
    return KnownIds(
        facilities=await _present(connection, _facilities.c.id, facility_ids),
        cost_centers=await _present(connection, _cost_centers.c.id, cost_center_ids),
        suppliers=await _present(connection, _suppliers.c.id, supplier_ids),
        purchase_order_lines={order: frozenset(numbers) for order, numbers in lines.items()},
    )


async def _present(connection: AsyncConnection, column: Any, ids: Iterable[str]) -> frozenset[str]:
    found: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        found |= set((await connection.execute(select(column).where(column.in_(chunk)))).scalars())
    return frozenset(found)


async def stored_routes(engine: AsyncEngine) -> dict[FacilityId, ErpRoute]:
    """Each stored facility's route, as its columns say (before gateway.yaml's overrides)."""
    statement = select(_facilities.c.id, _facilities.c.migration_mode)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return {FacilityId(row.id): ErpRoute(MigrationMode(row.migration_mode)) for row in rows}


# --- the upsert -------------------------------------------------------------------------------


def _as_is(row: Mapping[str, Any] | RowMapping) -> dict[str, Any]:
    return dict(row)


@dataclass(frozen=True, slots=True)
class _Entity:
    """One table of the bundle: its name in counts, its key columns and its rows (plain).

    `stored` turns a stored row into the plain row it holds (opens sealed columns), and
    `storing` a plain row into what is stored, so comparison is always on plain values."""

    name: str
    table: Table
    key: tuple[str, ...]
    rows: Sequence[dict[str, Any]]
    stored: Callable[[Mapping[str, Any] | RowMapping], dict[str, Any]] = _as_is
    storing: Callable[[Mapping[str, Any]], dict[str, Any]] = _as_is

    def key_of(self, row: Mapping[str, Any]) -> _Key:
        return tuple(row[column] for column in self.key)

    def label(self, row: Mapping[str, Any]) -> str:
        """The canonical ID audit entries name: a PO line is named by its PO."""
        return str(row[self.key[0]])

    def describe(self, row: Mapping[str, Any]) -> str:
        """What changed, as an audit entry says it: "suppliers", "purchase_order_lines line 2"."""
        return self.name if len(self.key) == 1 else f"{self.name} line {row[self.key[1]]}"


def _entities(bundle: MasterDataBundle, sealing: Sealing) -> list[_Entity]:
    """In foreign-key order: parents first."""
    return [
        _Entity(
            "facilities",
            _facilities,
            ("id",),
            [facility_row(e.facility, e.erp, e.migration) for e in bundle.facilities],
        ),
        _Entity("cost_centers", _cost_centers, ("id",), [row_of(c) for c in bundle.cost_centers]),
        _Entity(
            "suppliers",
            _suppliers,
            ("id",),
            [supplier_row(e.supplier) for e in bundle.suppliers],
            stored=lambda row: sealing.open_supplier(row)[0],
            storing=sealing.seal_supplier,
        ),
        _Entity(
            "purchase_orders", _orders, ("id",), [row_of(e.order) for e in bundle.purchase_orders]
        ),
        _Entity(
            "purchase_order_lines",
            _lines,
            ("purchase_order_id", "line_no"),
            [
                row_of(line, purchase_order_id=e.order.id)
                for e in bundle.purchase_orders
                for line in e.lines
            ],
        ),
        _Entity("goods_receipts", _receipts, ("id",), [row_of(r) for r in bundle.goods_receipts]),
        _Entity(
            "contract_prices", _contracts, ("id",), [row_of(c) for c in bundle.contract_prices]
        ),
    ]


@dataclass(slots=True)
class _Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    created_ids: set[str] = field(default_factory=set)


async def upsert_bundle(
    connection: AsyncConnection,
    bundle: MasterDataBundle,
    *,
    actor: str,
    at: datetime,
    sealing: Sealing,
    progress: Progress | None = None,
) -> UpsertCounts:
    """In the caller's transaction: see the module docstring. The caller commits."""
    outcomes: dict[str, _Outcome] = {}
    changed: dict[tuple[str, str], list[str]] = {}  # (what, canonical ID) → changed fields
    done = 0
    for entity in _entities(bundle, sealing):
        outcome = outcomes[entity.name] = _Outcome()
        for chunk in _chunks(entity.rows):
            await _upsert_chunk(connection, entity, chunk, outcome, changed)
            done += len(chunk)
            if progress is not None:
                progress(done)
    await _mark_bank_changes(connection, changed, at=at)
    suppliers = outcomes["suppliers"]
    for supplier_id, systems in (await _link_vendors(connection, bundle.suppliers, at=at)).items():
        if supplier_id in suppliers.created_ids:
            continue  # a new supplier's links are part of its creation
        fields = changed.setdefault(("suppliers", supplier_id), [])
        if not fields:
            suppliers.updated += 1
            suppliers.unchanged -= 1
        fields += [f"vendor_link.{system.erp_name}" for system in systems]
    counts = UpsertCounts(
        created={name: o.created for name, o in outcomes.items()},
        updated={name: o.updated for name, o in outcomes.items()},
        unchanged={name: o.unchanged for name, o in outcomes.items()},
    )
    if changed or any(counts.created.values()):
        facility_ids = tuple(sorted(e.facility.id for e in bundle.facilities))
        events = [_imported(actor, counts, facility_ids)]
        events += [
            _updated(actor, what, entity_id, fields)
            for (what, entity_id), fields in changed.items()
        ]
        await audit.append(connection, events, at=at)
    return counts


async def _upsert_chunk(
    connection: AsyncConnection,
    entity: _Entity,
    chunk: Sequence[dict[str, Any]],
    outcome: _Outcome,
    changed: dict[tuple[str, str], list[str]],
) -> None:
    stored = await _stored_rows(connection, entity, chunk)
    new, updated = [], []
    for row in chunk:
        before = stored.get(entity.key_of(row))
        if before is None:
            new.append(row)
            continue
        fields = [name for name, value in row.items() if before[name] != value]
        if fields:
            updated.append(row)
            changed[(entity.describe(row), entity.label(row))] = fields
    await _insert(connection, entity.table, [entity.storing(row) for row in new])
    await _update(connection, entity, [entity.storing(row) for row in updated])
    outcome.created += len(new)
    outcome.created_ids |= {entity.label(row) for row in new}
    outcome.updated += len(updated)
    outcome.unchanged += len(chunk) - len(new) - len(updated)


async def _mark_bank_changes(
    connection: AsyncConnection, changed: Mapping[tuple[str, str], list[str]], *, at: datetime
) -> None:
    """A supplier whose remit-to account changed gets `bank_account_changed_at`: payments
    in a run soon after are held for review (domain/scheduling.py, a fraud control)."""
    ids = sorted(
        entity_id
        for (what, entity_id), fields in changed.items()
        if what == "suppliers" and any(name.startswith("bank_") for name in fields)
    )
    if ids:
        await connection.execute(
            update(_suppliers).where(_suppliers.c.id.in_(ids)).values(bank_account_changed_at=at)
        )


def _imported(actor: str, counts: UpsertCounts, facility_ids: tuple[str, ...]) -> AuditEvent:
    totals = {"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged}
    return AuditEvent(
        subject=actor,
        action=IMPORTED,
        outcome=AuditOutcome.SUCCEEDED,
        entity_ids=facility_ids,
        detail=json.dumps(totals, sort_keys=True),
    )


def _updated(actor: str, what: str, entity_id: str, fields: Sequence[str]) -> AuditEvent:
    """Field names only: a changed bank account is recorded as changed, never shown."""
    return AuditEvent(
        subject=actor,
        action=UPDATED,
        outcome=AuditOutcome.SUCCEEDED,
        entity_ids=(entity_id,),
        detail=f"{what}: {', '.join(fields)}",
    )


async def _stored_rows(
    connection: AsyncConnection, entity: _Entity, rows: Sequence[Mapping[str, Any]]
) -> dict[_Key, dict[str, Any]]:
    first = entity.table.c[entity.key[0]]
    ids = sorted({row[entity.key[0]] for row in rows})
    found = await connection.execute(select(entity.table).where(first.in_(ids)))
    return {
        tuple(row._mapping[column] for column in entity.key): entity.stored(row._mapping)
        for row in found
    }


async def _insert(
    connection: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    if rows:
        await connection.execute(insert(table), list(rows))


async def _update(
    connection: AsyncConnection, entity: _Entity, rows: Sequence[dict[str, Any]]
) -> None:
    """Every column of each changed row, matched on its key: one executemany."""
    if not rows:
        return
    table = entity.table
    match = and_(*(table.c[column] == bindparam(f"key_{column}") for column in entity.key))
    columns = [name for name in rows[0] if name not in entity.key]
    values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in columns}
    parameters = [
        {**{f"new_{n}": row[n] for n in columns}, **{f"key_{c}": row[c] for c in entity.key}}
        for row in rows
    ]
    await connection.execute(update(table).where(match).values(values), parameters)


async def _link_vendors(
    connection: AsyncConnection, suppliers: Sequence[SupplierEntry], *, at: datetime
) -> dict[str, list[ExternalSystem]]:
    """Writes the vendor links that differ from the stored ones; returns, per supplier, the
    systems whose link it wrote."""
    wanted = {
        (link.system.value, entry.supplier.id): link.vendor_key
        for entry in suppliers
        for link in entry.vendor_links
    }
    if not wanted:
        return {}
    stored: dict[tuple[str, str], str] = {}
    for ids in _chunks(sorted({supplier for _, supplier in wanted})):
        found = await connection.execute(
            select(_xrefs.c.system, _xrefs.c.canonical_id, _xrefs.c.vendor_key).where(
                _xrefs.c.entity == SUPPLIER, _xrefs.c.canonical_id.in_(ids)
            )
        )
        stored |= {(row.system, row.canonical_id): row.vendor_key for row in found}
    differing = {key: vendor for key, vendor in wanted.items() if stored.get(key) != vendor}
    for system in ERPS:
        links = sorted(
            (SupplierId(supplier), vendor)
            for (name, supplier), vendor in differing.items()
            if name == system.value
        )
        for chunk in _chunks(links, size=LINK_CHUNK):
            await replace_vendor_links(connection, system, dict(chunk), at=at)
    relinked: dict[str, list[ExternalSystem]] = {}
    for name, supplier in sorted(differing):
        relinked.setdefault(supplier, []).append(ExternalSystem(name))
    return relinked


# --- reading a bundle back --------------------------------------------------------------------


async def read_bundle(
    engine: AsyncEngine,
    keyring: Keyring,
    *,
    facilities: Sequence[str] | None = None,
    policy: Mapping[str, object] | None = None,
    skip_unreadable: bool = False,
) -> MasterDataBundle:
    """`skip_unreadable`: leave out a supplier whose classified value fails its check (the
    simulators' books at start: one tampered row must not stop a server) instead of raising.

    Everything stored, or only what belongs to `facilities`: their cost centers (and any
    other a PO of theirs is charged to), their POs with every line, the receipts of those
    POs, the suppliers of those POs with their vendor links and contract prices. Such a
    bundle imports into an empty database on its own. `policy` is copied in as it is.

    Classified values come back in plain: the caller decides what leaves the process (an
    export masks them unless told otherwise). A supplier whose value fails its integrity
    check raises UnreadableSupplier rather than export an empty value."""
    async with engine.connect() as connection:
        if facilities is None:
            where_facility: ColumnElement[bool] | None = None
        else:
            where_facility = _facilities.c.id.in_(list(facilities))
        order_ids = _scoped(select(_orders.c.id), _orders.c.facility_id, facilities)
        supplier_ids = _scoped(
            select(_orders.c.supplier_id).distinct(), _orders.c.facility_id, facilities
        )
        cost_center_ids = _scoped(
            select(_orders.c.cost_center_id).distinct(), _orders.c.facility_id, facilities
        )

        facility_rows = await _all(connection, select(_facilities), where_facility)
        cost_center_rows = await _all(
            connection,
            select(_cost_centers),
            None
            if facilities is None
            else or_(
                _cost_centers.c.facility_id.in_(list(facilities)),
                _cost_centers.c.id.in_(cost_center_ids),
            ),
        )
        supplier_rows = await _all(
            connection,
            select(_suppliers),
            None if facilities is None else _suppliers.c.id.in_(supplier_ids),
        )
        xref_rows = await _all(
            connection,
            select(_xrefs).where(
                _xrefs.c.entity == SUPPLIER, _xrefs.c.system.in_([s.value for s in ERPS])
            ),
            None if facilities is None else _xrefs.c.canonical_id.in_(supplier_ids),
        )
        order_rows = await _all(
            connection,
            select(_orders),
            None if facilities is None else _orders.c.facility_id.in_(list(facilities)),
        )
        line_rows = await _all(
            connection,
            select(_lines),
            None if facilities is None else _lines.c.purchase_order_id.in_(order_ids),
        )
        receipt_rows = await _all(
            connection,
            select(_receipts),
            None if facilities is None else _receipts.c.purchase_order_id.in_(order_ids),
        )
        contract_rows = await _all(
            connection,
            select(_contracts),
            None if facilities is None else _contracts.c.supplier_id.in_(supplier_ids),
        )
    suppliers = await open_suppliers(sorted(supplier_rows, key=lambda r: r.id), keyring)
    broken = [supplier for supplier in suppliers if supplier.unreadable]
    if broken and not skip_unreadable:
        raise UnreadableSupplier(broken[0].id, broken[0].unreadable)
    if broken:
        log.error(
            "left out of the bundle, unreadable (%s): %s",
            UNREADABLE,
            ", ".join(supplier.id for supplier in broken),
        )
        suppliers = [supplier for supplier in suppliers if not supplier.unreadable]
    links: dict[str, list[VendorLink]] = {}
    for row in sorted(xref_rows, key=lambda r: (r.canonical_id, r.system)):
        links.setdefault(row.canonical_id, []).append(
            VendorLink(system=ExternalSystem(row.system), vendor_key=row.vendor_key)
        )
    lines: dict[str, list[Row[Any]]] = {}
    for row in line_rows:
        lines.setdefault(row.purchase_order_id, []).append(row)
    return MasterDataBundle(
        facilities=tuple(
            FacilityEntry(
                facility=facility_from_row(row),
                erp=ExternalSystem(row.erp_system),
                migration=MigrationMode(row.migration_mode),
            )
            for row in sorted(facility_rows, key=lambda r: r.id)
        ),
        cost_centers=tuple(
            cost_center_from_row(row) for row in sorted(cost_center_rows, key=lambda r: r.id)
        ),
        suppliers=tuple(
            SupplierEntry(supplier=supplier, vendor_links=tuple(links.get(supplier.id, ())))
            for supplier in suppliers
        ),
        purchase_orders=tuple(
            PurchaseOrderEntry(
                order=purchase_order_from_row(row),
                lines=tuple(
                    purchase_order_line_from_row(line)
                    for line in sorted(lines.get(row.id, ()), key=lambda r: r.line_no)
                ),
            )
            for row in sorted(order_rows, key=lambda r: r.id)
        ),
        goods_receipts=tuple(
            goods_receipt_from_row(row) for row in sorted(receipt_rows, key=lambda r: r.id)
        ),
        contract_prices=tuple(
            _contract_price_from_row(row) for row in sorted(contract_rows, key=lambda r: r.id)
        ),
        policy=policy,
    )


def _scoped(statement: Select[Any], column: Any, facilities: Sequence[str] | None) -> Select[Any]:
    return statement if facilities is None else statement.where(column.in_(list(facilities)))


async def _all(
    connection: AsyncConnection, statement: Select[Any], where: ColumnElement[bool] | None
) -> Sequence[Row[Any]]:
    if where is not None:
        statement = statement.where(where)
    return (await connection.execute(statement)).all()


def _contract_price_from_row(row: Row[Any]) -> ContractPrice:
    return ContractPrice(
        id=ContractPriceId(row.id),
        supplier_id=SupplierId(row.supplier_id),
        item_id=row.item_id,
        unit_price=row.unit_price,
        currency=row.currency,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
    )


# --- the repository the onboarding service is given -------------------------------------------


@dataclass(frozen=True, slots=True)
class SqlMasterData:
    """services.ports.MasterDataStore on one engine; classified columns sealed on the way in."""

    engine: AsyncEngine
    keyring: Keyring

    async def stored_ids(self, bundle: MasterDataBundle) -> KnownIds:
        async with self.engine.connect() as connection:
            return await stored_ids(connection, bundle)

    async def upsert(
        self,
        bundle: MasterDataBundle,
        *,
        actor: str,
        at: datetime,
        progress: Progress | None = None,
        dry_run: bool = False,
    ) -> UpsertCounts:
        sealing = await self.keyring.sealing()
        async with _write_transaction(self.engine) as connection:
            counts = await upsert_bundle(
                connection, bundle, actor=actor, at=at, sealing=sealing, progress=progress
            )
            if not dry_run:  # a dry run's transaction rolls back: the counts, nothing written
                await connection.commit()
        changed = any(counts.created.values()) or any(counts.updated.values())
        if changed and not dry_run:  # the planner reads what the import grew or changed
            await refresh_statistics(self.engine, MASTER_DATA_TABLES)
        return counts


@asynccontextmanager
async def _write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that rolls back unless committed. On SQLite it takes the write lock up
    front, as the unit of work does."""
    async with engine.connect() as connection:
        await begin_writing(connection)
        yield connection


def _chunks(items: Sequence[Any], *, size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
