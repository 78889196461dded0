"""Payments, payment runs and remittance advice as a unit of work writes them.

Every call runs on the unit of work's connection, in its transaction. Row locks (`FOR NO KEY
UPDATE` on PostgreSQL; SQLite has one writer at a time anyway) last until it ends: a run is
approved or released by one caller at a time, and a payment confirmed once.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from apgraph.domain.ids import (
    EntityKind,
    FacilityId,
    InvoiceId,
    PaymentId,
    PaymentRunId,
    SupplierId,
    numbered,
)
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.payment_runs import PaymentRun
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentStatus
from apgraph.domain.remittance import RemittanceDocument
from apgraph.domain.suppliers import Supplier
from apgraph.store import counters
from apgraph.store.invoices import invoice_from_row
from apgraph.store.keyring import Keyring
from apgraph.store.payments import allocation_from_row, payment_from_row, run_from_row
from apgraph.store.rows import row_of
from apgraph.store.suppliers import open_suppliers, supplier_unopened
from apgraph.store.tables import (
    FacilityRow,
    InvoiceRow,
    PaymentAllocationRow,
    PaymentRow,
    PaymentRunRow,
    RemittanceDocumentRow,
    SupplierRow,
)

PAYMENT_COUNTER = "payment"
RUN_COUNTER = "payment_run"
DOCUMENT_COUNTER = "remittance_document"
DOCUMENT_PREFIX = "RA-"  # remittance documents are numbered apart from attachments

_payments = PaymentRow.__table__.c
_runs = PaymentRunRow.__table__.c
_allocations = PaymentAllocationRow.__table__.c
_suppliers = SupplierRow.__table__.c
_documents = RemittanceDocumentRow.__table__.c
_invoices = InvoiceRow.__table__.c
_facilities = FacilityRow.__table__.c


@dataclass(frozen=True, slots=True)
class PaymentWrites:
    connection: AsyncConnection
    keyring: Keyring | None = None  # opens the payees' sealed bank accounts

    async def _payee(self, rows: Sequence[Row[Any]]) -> list[Supplier]:
        if self.keyring is None:
            return [supplier_unopened(row) for row in rows]
        return await open_suppliers(rows, self.keyring)

    async def next_id(self) -> PaymentId:
        number = await counters.claim(
            self.connection, PAYMENT_COUNTER, 1, floor=_highest(_payments.id, "PAY-")
        )
        return PaymentId(numbered(EntityKind.PAYMENT, number))

    async def next_run_id(self) -> PaymentRunId:
        number = await counters.claim(
            self.connection, RUN_COUNTER, 1, floor=_highest(_runs.id, "RUN-")
        )
        return PaymentRunId(numbered(EntityKind.PAYMENT_RUN, number))

    async def payees_for_update(
        self, supplier_ids: Collection[SupplierId]
    ) -> Mapping[SupplierId, tuple[Supplier, datetime | None]]:
        """The suppliers and when their remit-to accounts last changed; their rows stay
        locked, so one supplier's invoices are grouped into payments one sweep at a time."""
        found = await self.connection.execute(
            select(SupplierRow.__table__)
            .where(_suppliers.id.in_(sorted(supplier_ids)))
            .order_by(_suppliers.id)
            .with_for_update(key_share=True)
        )
        rows = found.all()
        opened = await self._payee(rows)
        return {
            SupplierId(row.id): (payee, row.bank_account_changed_at)
            for row, payee in zip(rows, opened, strict=True)
        }

    async def payees(
        self, supplier_ids: Sequence[str]
    ) -> Mapping[SupplierId, tuple[Supplier, datetime | None]]:
        found = await self.connection.execute(
            select(SupplierRow.__table__).where(_suppliers.id.in_(sorted(set(supplier_ids))))
        )
        rows = found.all()
        opened = await self._payee(rows)
        return {
            SupplierId(row.id): (payee, row.bank_account_changed_at)
            for row, payee in zip(rows, opened, strict=True)
        }

    async def open_payments(self, supplier_ids: Collection[SupplierId]) -> Sequence[Payment]:
        found = await self.connection.execute(
            select(PaymentRow.__table__)
            .where(
                _payments.supplier_id.in_(sorted(supplier_ids)),
                _payments.status == PaymentStatus.SCHEDULED.value,
                _payments.run_id.is_(None),
                _payments.hold_code.is_(None),
            )
            .order_by(_payments.id)
            .with_for_update(key_share=True)
        )
        return [payment_from_row(row) for row in found]

    async def add(self, payments: Sequence[Payment]) -> None:
        if payments:
            await self.connection.execute(
                insert(PaymentRow), [row_of(payment) for payment in payments]
            )

    async def add_allocations(self, allocations: Sequence[PaymentAllocation]) -> None:
        if allocations:
            await self.connection.execute(
                insert(PaymentAllocationRow), [row_of(a) for a in allocations]
            )

    async def save(self, payments: Sequence[Payment]) -> None:
        """Writes each payment's fields over its stored row (in one statement)."""
        if not payments:
            return
        rows = [{**row_of(p), "key": p.id} for p in payments]
        names = [name for name in rows[0] if name not in ("id", "key")]
        await self.connection.execute(
            update(PaymentRow)
            .where(_payments.id == bindparam("key"))
            .values({name: bindparam(name) for name in names}),
            rows,
            execution_options={"synchronize_session": False},
        )

    async def get_for_update(self, payment_id: PaymentId) -> Payment | None:
        found = await self.connection.execute(
            select(PaymentRow.__table__)
            .where(_payments.id == payment_id)
            .with_for_update(key_share=True)
        )
        row = found.one_or_none()
        return payment_from_row(row) if row is not None else None

    async def due_for_update(self, facility_id: FacilityId, pay_date: date) -> Sequence[Payment]:
        """Scheduled payments of the facility due by `pay_date` in no run, locked, by ID."""
        found = await self.connection.execute(
            select(PaymentRow.__table__)
            .where(
                _payments.facility_id == facility_id,
                _payments.status == PaymentStatus.SCHEDULED.value,
                _payments.scheduled_date <= pay_date,
                _payments.run_id.is_(None),
            )
            .order_by(_payments.id)
            .with_for_update(key_share=True)
        )
        return [payment_from_row(row) for row in found]

    async def of_run(self, run_id: PaymentRunId) -> Sequence[Payment]:
        found = await self.connection.execute(
            select(PaymentRow.__table__).where(_payments.run_id == run_id).order_by(_payments.id)
        )
        return [payment_from_row(row) for row in found]

    async def allocations_of(self, payment_ids: Sequence[str]) -> Sequence[PaymentAllocation]:
        found = await self.connection.execute(
            select(PaymentAllocationRow.__table__)
            .where(_allocations.payment_id.in_(payment_ids))
            .order_by(_allocations.payment_id, _allocations.invoice_id)
        )
        return [allocation_from_row(row) for row in found]

    async def allocation_to(self, invoice_id: InvoiceId) -> PaymentAllocation | None:
        found = await self.connection.execute(
            select(PaymentAllocationRow.__table__).where(_allocations.invoice_id == invoice_id)
        )
        row = found.first()
        return allocation_from_row(row) if row is not None else None

    async def settled_invoices(self, payment_ids: Sequence[str]) -> Sequence[Invoice]:
        """The invoices the payments settle, by ID."""
        found = await self.connection.execute(
            select(InvoiceRow.__table__)
            .join(PaymentAllocationRow, _allocations.invoice_id == _invoices.id)
            .where(_allocations.payment_id.in_(payment_ids))
            .order_by(_invoices.id)
        )
        return [invoice_from_row(row) for row in found]

    async def posted_invoice_ids(
        self, *, limit: int, facility_id: FacilityId | None
    ) -> Sequence[InvoiceId]:
        """POSTED invoices waiting to be scheduled, oldest first."""
        statement = select(_invoices.id).where(_invoices.status == InvoiceStatus.POSTED.value)
        if facility_id is not None:
            statement = statement.where(_invoices.facility_id == facility_id)
        found = await self.connection.execute(statement.order_by(_invoices.id).limit(limit))
        return [InvoiceId(invoice_id) for invoice_id in found.scalars()]

    async def facility_name(self, facility_id: FacilityId) -> str | None:
        return await self.connection.scalar(
            select(_facilities.name).where(_facilities.id == facility_id)
        )

    async def awaiting_confirmation(self, limit: int) -> Sequence[Payment]:
        """Released payments the ERP took and has not confirmed yet, oldest first."""
        found = await self.connection.execute(
            select(PaymentRow.__table__)
            .where(
                _payments.status == PaymentStatus.RELEASED.value,
                _payments.erp_reference.is_not(None),
            )
            .order_by(_payments.id)
            .limit(limit)
        )
        return [payment_from_row(row) for row in found]

    async def with_status(self, status: PaymentStatus, limit: int) -> Sequence[Payment]:
        found = await self.connection.execute(
            select(PaymentRow.__table__)
            .where(_payments.status == status.value)
            .order_by(_payments.id)
            .limit(limit)
        )
        return [payment_from_row(row) for row in found]

    async def add_run(self, run: PaymentRun) -> None:
        await self.connection.execute(insert(PaymentRunRow), [row_of(run)])

    async def save_run(self, run: PaymentRun) -> None:
        values = row_of(run)
        await self.connection.execute(
            update(PaymentRunRow).where(_runs.id == run.id).values(values)
        )

    async def run_for_update(self, run_id: PaymentRunId) -> PaymentRun | None:
        found = await self.connection.execute(
            select(PaymentRunRow.__table__).where(_runs.id == run_id).with_for_update()
        )
        row = found.one_or_none()
        return run_from_row(row) if row is not None else None

    async def add_remittance(
        self, documents: Sequence[RemittanceDocument], *, at: datetime
    ) -> None:
        if not documents:
            return
        last = await counters.claim(
            self.connection,
            DOCUMENT_COUNTER,
            len(documents),
            floor=_highest(_documents.id, DOCUMENT_PREFIX),
        )
        first = last - len(documents) + 1
        await self.connection.execute(
            insert(RemittanceDocumentRow),
            [
                document_row(first + offset, document, at=at)
                for offset, document in enumerate(documents)
            ],
        )


def document_row(number: int, document: RemittanceDocument, *, at: datetime) -> dict[str, Any]:
    """A stored remittance document: `number` in the documents' own sequence (RA-…)."""
    return {
        "id": document_id(number),
        "payment_id": document.payment_id,
        "format": document.format.value,
        "filename": document.filename,
        "media_type": document.media_type,
        "size": len(document.content),
        "sha256": document.sha256,
        "created_at": at,
        "content": document.content,
    }


def document_id(number: int) -> str:
    return f"{DOCUMENT_PREFIX}{number:08d}"


def _highest(column: Any, prefix: str) -> counters.Floor:
    """The highest number used under `prefix`: IDs are zero-padded to one width, so the
    greatest string is the greatest number."""

    async def floor(connection: AsyncConnection) -> int:
        highest = await connection.scalar(
            select(column).where(column.like(f"{prefix}%")).order_by(column.desc()).limit(1)
        )
        return int(highest.removeprefix(prefix)) if highest else 0

    return floor
