"""Loads the demo network into a migrated database, in one transaction."""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo.generator import DemoNetwork, demo_route
from apgraph.demo.history import history_events
from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.payments import PaymentStatus
from apgraph.domain.remittance import (
    RemittanceAdvice,
    RemittanceDocument,
    documents_of,
    remittance_line,
)
from apgraph.services.remittance_pdf import render_pdf
from apgraph.store import outbox, tables
from apgraph.store.database import refresh_statistics
from apgraph.store.keyring import Keyring
from apgraph.store.payment_writes import document_row
from apgraph.store.rows import facility_row, row_of, supplier_row


async def write(
    engine: AsyncEngine, network: DemoNetwork, *, keyring: Keyring, chunk_size: int = 1000
) -> dict[str, int]:
    """Inserts the whole network in one transaction, with the events of its history in the
    outbox (marked published: history, not news for subscribers and webhooks): all of it, or
    on any error none of it.
    Classified supplier columns are sealed with `keyring`'s active data key.

    Expects a migrated database without a network in it (`is_empty`; `clear` empties one).
    Returns the rows written per table name. The planner then reads the tables written
    (`refresh_statistics`).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    sealing = await keyring.sealing()
    counts: dict[str, int] = {}
    written: list[Table] = []
    async with engine.begin() as connection:
        for table, plain in _rows(network):
            written.append(table)
            rows = plain
            if table.name == "suppliers":
                rows = [sealing.seal_supplier(row) for row in plain]
            for start in range(0, len(rows), chunk_size):
                await connection.execute(insert(table), rows[start : start + chunk_size])
            counts[table.name] = len(rows)
        events = history_events(network)
        for start in range(0, len(events), chunk_size):
            chunk = events[start : start + chunk_size]
            await outbox.write(connection, chunk, trace_id=None, published_at=chunk[-1].occurred_at)
        counts["outbox"] = len(events)
    await refresh_statistics(engine, written)
    return counts


async def is_empty(engine: AsyncEngine) -> bool:
    """No facility means no network: every other row hangs off one."""
    facilities = _table(tables.FacilityRow)
    async with engine.connect() as connection:
        first = await connection.scalar(select(facilities.c.id).limit(1))
    return first is None


# Never cleared: the audit trail is append-only (deleting it would break its hash chain and
# its purpose), registered partner clients are not demo data, and the data keys seal what
# comes next.
KEPT_BY_CLEAR = frozenset(
    {"audit_log", "audit_head", "oauth_clients", "data_keys", "sealing_state"}
)


async def clear(engine: AsyncEngine) -> None:
    """Deletes the business data, children first, in one transaction (`seed --replace`);
    the audit trail and the registered clients stay."""
    async with engine.begin() as connection:
        for table in reversed(tables.Base.metadata.sorted_tables):
            if table.name not in KEPT_BY_CLEAR:
                await connection.execute(delete(table))


# --- rows -----------------------------------------------------------------------------------


def _rows(network: DemoNetwork) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Every table's rows, parents before children."""
    return [
        (
            _table(tables.FacilityRow),
            [facility_row(f, *demo_route(f.id)) for f in network.facilities],
        ),
        (_table(tables.CostCenterRow), [row_of(c) for c in network.cost_centers]),
        (_table(tables.SupplierRow), _suppliers(network)),
        (_table(tables.PurchaseOrderRow), [row_of(o) for o in network.purchase_orders]),
        (
            _table(tables.PurchaseOrderLineRow),
            [row_of(line, purchase_order_id=po) for po, line in network.purchase_order_lines],
        ),
        (_table(tables.GoodsReceiptRow), [row_of(r) for r in network.goods_receipts]),
        (_table(tables.ContractPriceRow), [row_of(c) for c in network.contract_prices]),
        (_table(tables.InvoiceRow), [row_of(i) for i in network.invoices]),
        (
            _table(tables.InvoiceLineRow),
            [row_of(line, invoice_id=invoice) for invoice, line in network.invoice_lines],
        ),
        (
            _table(tables.InvoiceExceptionRow),
            [row_of(found, invoice_id=invoice) for invoice, found in network.invoice_exceptions],
        ),
        (_table(tables.InvoiceStatusChangeRow), [row_of(c) for c in network.status_changes]),
        (_table(tables.InvoiceApprovalRow), [row_of(a) for a in network.approvals]),
        (_table(tables.AttachmentRow), [row_of(a) for a in network.attachments]),
        (
            _table(tables.AttachmentContentRow),
            [{"attachment_id": a, "content": c} for a, c in network.attachment_contents],
        ),
        (_table(tables.PaymentRunRow), [row_of(r) for r in network.payment_runs]),
        (_table(tables.PaymentRow), [row_of(p) for p in network.payments]),
        (_table(tables.PaymentAllocationRow), [row_of(a) for a in network.payment_allocations]),
        (_table(tables.RemittanceDocumentRow), _remittance_documents(network)),
        (_table(tables.DeadLetterRow), _dead_letters(network)),
    ]


def _suppliers(network: DemoNetwork) -> list[dict[str, Any]]:
    changed = {c.supplier_id: c.changed_at for c in network.bank_changes}
    return [
        {**supplier_row(s), "bank_account_changed_at": changed.get(s.id)} for s in network.suppliers
    ]


def _remittance_documents(network: DemoNetwork) -> list[dict[str, Any]]:
    """The advice of every paid payment in each format, as its confirmation stored it
    (services/payment_release.py): the same lines, the same renderings, the same numbering."""
    invoices = {invoice.id: invoice for invoice in network.invoices}
    facilities: dict[str | None, str] = {f.id: f.name for f in network.facilities}
    payees = {supplier.id: supplier.legal_name for supplier in network.suppliers}
    allocations = defaultdict(list)
    for allocation in sorted(network.payment_allocations, key=lambda a: a.invoice_id):
        allocations[allocation.payment_id].append(allocation)
    stored: list[tuple[RemittanceDocument, datetime]] = []
    for payment in network.payments:
        if payment.status is not PaymentStatus.PAID or payment.paid_at is None:
            continue
        advice = RemittanceAdvice(
            payment=payment,
            payer_name=facilities.get(payment.facility_id, "apgraph"),
            payee_name=payees[payment.supplier_id],
            lines=tuple(
                remittance_line(invoices[a.invoice_id], a) for a in allocations[payment.id]
            ),
        )
        at = payment.paid_at
        pdf = render_pdf(advice, at=at)
        stored += [(document, at) for document in documents_of(advice, pdf=pdf, at=at)]
    return [
        document_row(number, document, at=at)
        for number, (document, at) in enumerate(stored, start=1)
    ]


def _dead_letters(network: DemoNetwork) -> list[dict[str, Any]]:
    """The seeded postings that failed wait in the dead-letter store, as live ones do."""
    failed_at: dict[str, datetime] = {}
    for change in network.status_changes:
        if change.to_status is InvoiceStatus.POSTING_FAILED:
            failed_at[change.invoice_id] = change.at
    letters = [
        (DeadLetterKind.POSTING, invoice.id, failed_at[invoice.id])
        for invoice in network.invoices
        if invoice.status is InvoiceStatus.POSTING_FAILED and invoice.id in failed_at
    ] + [
        (DeadLetterKind.PAYMENT_RELEASE, payment.id, payment.released_at)
        for payment in network.payments
        if payment.status is PaymentStatus.RELEASE_FAILED and payment.released_at is not None
    ]
    return [
        {
            "kind": kind.value,
            "subject": subject,
            "code": "ERP_UNAVAILABLE",
            "detail": None,
            "attempts": 1,
            "first_failed_at": at,
            "last_failed_at": at,
        }
        for kind, subject, at in letters
    ]


def _table(model: type[tables.Base]) -> Table:
    return tables.Base.metadata.tables[model.__tablename__]
