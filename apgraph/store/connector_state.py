"""What the connectors keep in the database: ERP cross-references, the posting ledger, and the
differences shadow mode found. Each class implements one port of services/ports.py."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.erp import FieldDifference
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.services.ports.connectors import MigrationDifference, PostingState
from apgraph.store.reading import fetch_values, write_alone
from apgraph.store.tables import (
    ErpCrossReferenceRow,
    ErpPostingRow,
    InvoiceRow,
    MigrationDifferenceRow,
)

SUPPLIER = "supplier"  # the `entity` of a vendor ⇄ supplier link

_x = ErpCrossReferenceRow.__table__.c
_p = ErpPostingRow.__table__.c
_d = MigrationDifferenceRow.__table__.c


async def replace_vendor_links(
    connection: AsyncConnection,
    system: ExternalSystem,
    links: Mapping[SupplierId, str],
    *,
    at: datetime,
) -> None:
    """In the caller's transaction: the links of these suppliers (supplier ID → vendor key)
    replace their earlier ones to `system`, and any other supplier's link to these keys."""
    if not links:
        return
    await connection.execute(
        delete(ErpCrossReferenceRow).where(
            _x.system == system.value,
            _x.entity == SUPPLIER,
            or_(_x.canonical_id.in_(list(links)), _x.vendor_key.in_(list(links.values()))),
        )
    )
    await connection.execute(
        insert(ErpCrossReferenceRow),
        [
            {
                "system": system.value,
                "entity": SUPPLIER,
                "canonical_id": supplier_id,
                "vendor_key": vendor_key,
                "synced_at": at,
            }
            for supplier_id, vendor_key in links.items()
        ],
    )


_VENDOR_KEY = select(_x.vendor_key).where(  # built once: see reading.fetch_values
    _x.system == bindparam("system"),
    _x.entity == SUPPLIER,
    _x.canonical_id == bindparam("supplier_id"),
)


@dataclass(frozen=True, slots=True)
class SqlCrossReferences:
    engine: AsyncEngine

    async def vendor_key(self, system: ExternalSystem, supplier_id: SupplierId) -> str | None:
        """Read on every posting, never kept between them: another process (`apgraph
        import`, another worker) may relink a supplier at any time."""
        found = await fetch_values(
            self.engine, _VENDOR_KEY, {"system": system.value, "supplier_id": supplier_id}
        )
        return found[0]["vendor_key"] if found else None

    async def link_vendors(
        self, system: ExternalSystem, links: Mapping[SupplierId, str], *, at: datetime
    ) -> None:
        """Replaces the links of these suppliers, and any link to these vendor keys, in one go."""
        if not links:
            return
        async with self.engine.begin() as connection:
            await replace_vendor_links(connection, system, links, at=at)


# The ledger's statements, built once with bound parameters: every ERP posting sends two of
# them (SENT before the call, the outcome after), and building a statement and its cache key
# anew each time cost more CPU than sending it. (`p_`: a bound parameter may not be named
# after a column the statement sets.)
_KEY = (_p.system == bindparam("p_system")) & (_p.idempotency_key == bindparam("p_idempotency_key"))
_STATE_FOR_UPDATE = select(_p.state).where(_KEY).with_for_update()
_ATTEMPT_AGAIN = (
    update(ErpPostingRow)
    .where(_KEY)
    .values(state=PostingState.SENT.value, attempts=_p.attempts + 1, updated_at=bindparam("p_at"))
)
_SETTLE = (
    update(ErpPostingRow)
    .where(_KEY)
    .values(
        state=bindparam("p_state"),
        document_ref=bindparam("p_document_ref"),
        last_error=bindparam("p_last_error"),
        updated_at=bindparam("p_at"),
    )
)


@cache
def _first_attempt(dialect: str) -> Insert:
    """The posting marked SENT, its first attempt, unless it is on file (per dialect: the
    conflict clause is)."""
    insert_new = sqlite.insert if dialect == "sqlite" else postgresql.insert
    return (
        insert_new(ErpPostingRow)
        .values(
            system=bindparam("p_system"),
            idempotency_key=bindparam("p_idempotency_key"),
            invoice_id=bindparam("p_invoice_id"),
            facility_id=bindparam("p_facility_id"),
            state=PostingState.SENT.value,
            attempts=1,
            updated_at=bindparam("p_at"),
        )
        .on_conflict_do_nothing()
        .returning(_p.attempts)  # a row: this was the first attempt
    )


@dataclass(frozen=True, slots=True)
class SqlPostingLedger:
    engine: AsyncEngine

    async def begin(
        self, *, system: ExternalSystem, idempotency_key: str, invoice: Invoice, at: datetime
    ) -> PostingState | None:
        """Marks the posting SENT; returns its state before, None when this is the first.

        Insert first, read after: two attempts at once (a retry racing a replay) never both
        take the first-attempt path, and neither trips over the other's unique key.
        """
        key = {"p_system": system.value, "p_idempotency_key": idempotency_key}
        first = await write_alone(
            self.engine,
            _first_attempt(self.engine.dialect.name),
            {**key, "p_invoice_id": invoice.id, "p_facility_id": invoice.facility_id, "p_at": at},
        )
        if first:
            return None  # committed SENT before anything leaves
        async with self.engine.begin() as connection:
            before = (await connection.execute(_STATE_FOR_UPDATE, key)).one()
            await connection.execute(_ATTEMPT_AGAIN, {**key, "p_at": at})
            return PostingState(before.state)

    async def settle(
        self,
        *,
        system: ExternalSystem,
        idempotency_key: str,
        state: PostingState,
        document_number: str | None,
        error: str | None,
        at: datetime,
    ) -> None:
        await write_alone(
            self.engine,
            _SETTLE,
            {
                "p_system": system.value,
                "p_idempotency_key": idempotency_key,
                "p_state": state.value,
                "p_document_ref": document_number,
                "p_last_error": error,
                "p_at": at,
            },
        )

    async def unsettled(
        self, *, status: InvoiceStatus, sent_before: datetime, limit: int
    ) -> Sequence[InvoiceId]:
        invoices = InvoiceRow.__table__.c
        statement = (
            select(_p.invoice_id)
            .join(InvoiceRow.__table__, invoices.id == _p.invoice_id)
            .where(
                _p.state == PostingState.SENT.value,
                _p.updated_at < sent_before,
                invoices.status == status.value,
            )
            .group_by(_p.invoice_id)
            .order_by(func.min(_p.updated_at))
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            found = (await connection.execute(statement)).scalars().all()
        return [InvoiceId(invoice_id) for invoice_id in found]

    async def state_of(self, system: ExternalSystem, idempotency_key: str) -> PostingState | None:
        """For operators and tests: where one posting stands."""
        statement = select(_p.state).where(
            _p.system == system.value, _p.idempotency_key == idempotency_key
        )
        async with self.engine.connect() as connection:
            found = (await connection.execute(statement)).scalar_one_or_none()
        return None if found is None else PostingState(found)


@dataclass(frozen=True, slots=True)
class SqlMigrationDifferences:
    engine: AsyncEngine

    async def record(self, differences: Sequence[MigrationDifference]) -> None:
        if not differences:
            return
        async with self.engine.begin() as connection:
            await connection.execute(
                insert(MigrationDifferenceRow),
                [
                    {
                        "facility_id": d.facility_id,
                        "invoice_id": d.invoice_id,
                        "idempotency_key": d.idempotency_key,
                        "field": d.difference.field,
                        "legacy_value": d.difference.legacy,
                        "cloud_value": d.difference.cloud,
                        "recorded_at": d.recorded_at,
                    }
                    for d in differences
                ],
            )

    async def of_facility(
        self, facility_id: FacilityId, *, limit: int
    ) -> Sequence[MigrationDifference]:
        statement = (
            select(MigrationDifferenceRow)
            .where(_d.facility_id == facility_id)
            .order_by(_d.recorded_at.desc(), _d.id.desc())
            .limit(limit)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            MigrationDifference(
                facility_id=FacilityId(row.facility_id),
                invoice_id=InvoiceId(row.invoice_id),
                idempotency_key=row.idempotency_key,
                difference=FieldDifference(row.field, row.legacy_value, row.cloud_value),
                recorded_at=row.recorded_at,
            )
            for row in rows
        ]
