"""The canonical model of DESIGN §3 as typed SQLAlchemy tables.

Enums are stored as their string values (portable, readable in SQL). Only canonical IDs
live here; ERP keys belong to the connectors' cross-reference tables.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from apgraph.store.types import ExactDecimal, UtcDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(32)
CODE = String(32)
SEALABLE = String(255)  # a classified value sealed at rest: enc1.<key>.<base64>, ~100 chars


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {Decimal: ExactDecimal(), datetime: UtcDateTime(), date: Date()}


class FacilityRow(Base):
    __tablename__ = "facilities"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64))
    # The facility's route (DESIGN §6); gateway.yaml's `facilities` section overrides it.
    erp_system: Mapped[str] = mapped_column(CODE, server_default="legacy_erp")
    migration_mode: Mapped[str] = mapped_column(CODE, server_default="legacy")


class CostCenterRow(Base):
    __tablename__ = "cost_centers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    facility_id: Mapped[str] = mapped_column(ID, ForeignKey("facilities.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    approvers: Mapped[list[str]] = mapped_column(JSON)


class SupplierRow(Base):
    __tablename__ = "suppliers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str] = mapped_column(SEALABLE)  # sealed at rest (store/sealing.py)
    status: Mapped[str] = mapped_column(CODE, index=True)
    payment_terms: Mapped[str] = mapped_column(CODE)
    tax_treatment: Mapped[str] = mapped_column(CODE)
    tax_rate: Mapped[Decimal]
    bank_name: Mapped[str | None] = mapped_column(String(200))
    bank_routing_number: Mapped[str | None] = mapped_column(SEALABLE)
    bank_account_number: Mapped[str | None] = mapped_column(SEALABLE)
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # when the remit-to account last changed: a change close to a pay date holds payments
    bank_account_changed_at: Mapped[datetime | None]
    data_key_id: Mapped[str | None] = mapped_column(String(40), index=True)  # sealed under
    bank_account_hash: Mapped[str | None] = mapped_column(String(64), index=True)  # HMAC


class DataKeyRow(Base):
    """Data keys, each wrapped by the key-encryption key; the newest `data` key seals."""

    __tablename__ = "data_keys"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    purpose: Mapped[str] = mapped_column(CODE)  # "data" seals values, "index" keys the hashes
    wrapped: Mapped[str] = mapped_column(Text)  # base64 of the KEK's wrapping
    created_at: Mapped[datetime]
    retired_at: Mapped[datetime | None]


class LegalHoldRow(Base):
    """An invoice or supplier under legal hold: retention never purges its records."""

    __tablename__ = "legal_holds"
    entity_id: Mapped[str] = mapped_column(ID, primary_key=True)  # INV-… or SUP-…
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(128))
    placed_at: Mapped[datetime]


class ConfigStartRow(Base):
    """The effective configuration of each server start (secrets redacted), newest last."""

    __tablename__ = "config_starts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(index=True)
    started_by: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class SealingStateRow(Base):
    """Per table, the columns the last full pass sealed: a change in gateway.yaml's
    `at_rest` settings makes the next start convert every row, once."""

    __tablename__ = "sealing_state"
    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    columns: Mapped[list[str]] = mapped_column(JSON)


class PurchaseOrderRow(Base):
    __tablename__ = "purchase_orders"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("suppliers.id"), index=True)
    facility_id: Mapped[str] = mapped_column(ID, ForeignKey("facilities.id"), index=True)
    cost_center_id: Mapped[str] = mapped_column(ID, ForeignKey("cost_centers.id"))
    status: Mapped[str] = mapped_column(CODE)
    currency: Mapped[str] = mapped_column(String(3))
    ordered_on: Mapped[date]


class PurchaseOrderLineRow(Base):
    __tablename__ = "purchase_order_lines"
    purchase_order_id: Mapped[str] = mapped_column(
        ID, ForeignKey("purchase_orders.id"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(CODE)
    quantity: Mapped[Decimal]
    unit_of_measure: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal]


class GoodsReceiptRow(Base):
    __tablename__ = "goods_receipts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["purchase_order_id", "line_no"],
            ["purchase_order_lines.purchase_order_id", "purchase_order_lines.line_no"],
        ),
        Index("ix_goods_receipts_po_line", "purchase_order_id", "line_no"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    purchase_order_id: Mapped[str] = mapped_column(ID)
    line_no: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal]
    received_at: Mapped[datetime]


class ContractPriceRow(Base):
    __tablename__ = "contract_prices"
    __table_args__ = (Index("ix_contract_prices_supplier_item", "supplier_id", "item_id"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("suppliers.id"))
    item_id: Mapped[str] = mapped_column(String(64))
    unit_price: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    valid_from: Mapped[date]
    valid_to: Mapped[date]


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        # a supplier's page in ID order (migration 0016); serves every lookup by supplier
        Index("ix_invoices_supplier_page", "supplier_id", "id"),
        Index("ix_invoices_supplier_number", "supplier_id", "supplier_invoice_number"),
        # the duplicate rules' candidates (store/invoice_writes.py `duplicate_candidates`)
        Index("ix_invoices_supplier_number_key", "supplier_id", "number_key_rules", "number_key"),
        Index("ix_invoices_supplier_total", "supplier_id", "currency", "total"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("suppliers.id"))
    supplier_invoice_number: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str] = mapped_column(ID, ForeignKey("facilities.id"), index=True)
    cost_center_id: Mapped[str] = mapped_column(ID, ForeignKey("cost_centers.id"))
    purchase_order_id: Mapped[str | None] = mapped_column(
        ID, ForeignKey("purchase_orders.id"), index=True
    )
    invoice_date: Mapped[date] = mapped_column(index=True)
    due_date: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[Decimal]
    tax: Mapped[Decimal]
    total: Mapped[Decimal]
    status: Mapped[str] = mapped_column(CODE, index=True)
    submitted_by: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime]
    erp_document_ref: Mapped[str | None] = mapped_column(String(64))
    # a digest of NumberRules.key(supplier_invoice_number), and the fingerprint of the rules
    # that made it; both NULL until made (store/number_keys.py)
    number_key: Mapped[str | None] = mapped_column(String(32))
    number_key_rules: Mapped[str | None] = mapped_column(String(32))


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"
    invoice_id: Mapped[str] = mapped_column(ID, ForeignKey("invoices.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    po_line_no: Mapped[int | None] = mapped_column(Integer)
    item_id: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal]
    unit_of_measure: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal]
    amount: Mapped[Decimal]


class InvoiceExceptionRow(Base):
    __tablename__ = "invoice_exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ID, ForeignKey("invoices.id"), index=True)
    code: Mapped[str] = mapped_column(CODE)
    line_no: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)


class InvoiceStatusChangeRow(Base):
    __tablename__ = "invoice_status_changes"
    invoice_id: Mapped[str] = mapped_column(ID, ForeignKey("invoices.id"), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(CODE)
    to_status: Mapped[str] = mapped_column(CODE)
    actor: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)


class InvoiceApprovalRow(Base):
    __tablename__ = "invoice_approvals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ID, ForeignKey("invoices.id"), index=True)
    approver: Mapped[str] = mapped_column(String(128))
    decision: Mapped[str] = mapped_column(CODE)
    at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


class AttachmentRow(Base):
    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ID, ForeignKey("invoices.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]


class AttachmentContentRow(Base):
    """Content apart from metadata, so listing attachments never reads the blobs."""

    __tablename__ = "attachment_contents"
    attachment_id: Mapped[str] = mapped_column(ID, ForeignKey("attachments.id"), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class PaymentRunRow(Base):
    """A facility's payments due by a pay date, proposed, approved and released together."""

    __tablename__ = "payment_runs"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    facility_id: Mapped[str] = mapped_column(ID, ForeignKey("facilities.id"), index=True)
    pay_date: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(CODE, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal]
    payment_count: Mapped[int] = mapped_column(Integer)
    proposed_by: Mapped[str] = mapped_column(String(128))
    proposed_at: Mapped[datetime]
    approvals_needed: Mapped[int] = mapped_column(Integer)
    approvers: Mapped[list[str]] = mapped_column(JSON)
    released_by: Mapped[str | None] = mapped_column(String(128))
    released_at: Mapped[datetime | None]


class PaymentRow(Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_grouping", "supplier_id", "facility_id", "status"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    supplier_id: Mapped[str] = mapped_column(ID, ForeignKey("suppliers.id"), index=True)
    amount: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(CODE)
    scheduled_date: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(CODE, index=True)
    remittance_ref: Mapped[str | None] = mapped_column(String(64))
    facility_id: Mapped[str | None] = mapped_column(ID, ForeignKey("facilities.id"))
    run_id: Mapped[str | None] = mapped_column(ID, ForeignKey("payment_runs.id"), index=True)
    discount: Mapped[Decimal]
    hold_code: Mapped[str | None] = mapped_column(CODE)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    erp_reference: Mapped[str | None] = mapped_column(String(64))
    exception_code: Mapped[str | None] = mapped_column(CODE)
    released_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    bank_fingerprint: Mapped[str | None] = mapped_column(String(128))


class PaymentAllocationRow(Base):
    __tablename__ = "payment_allocations"
    payment_id: Mapped[str] = mapped_column(ID, ForeignKey("payments.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(
        ID, ForeignKey("invoices.id"), primary_key=True, index=True
    )
    amount: Mapped[Decimal]
    discount: Mapped[Decimal]


class RemittanceDocumentRow(Base):
    """A remittance advice of one paid payment, in one format (PDF, CSV, X12 820)."""

    __tablename__ = "remittance_documents"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    payment_id: Mapped[str] = mapped_column(ID, ForeignKey("payments.id"), index=True)
    format: Mapped[str] = mapped_column(CODE)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ErpCrossReferenceRow(Base):
    """An external system's own key for a canonical entity: the one home of ERP keys.

    Owned by the connectors (supplier-master sync writes it, adapters read it); `system` is
    the connector's name, `entity` the canonical kind ("supplier").
    """

    __tablename__ = "erp_cross_references"
    __table_args__ = (UniqueConstraint("system", "entity", "vendor_key"),)
    system: Mapped[str] = mapped_column(CODE, primary_key=True)
    entity: Mapped[str] = mapped_column(CODE, primary_key=True)
    canonical_id: Mapped[str] = mapped_column(ID, primary_key=True)
    vendor_key: Mapped[str] = mapped_column(String(64))
    synced_at: Mapped[datetime]


class ErpPostingRow(Base):
    """Every posting attempt by idempotency key, so an unanswered one is looked up, never lost.

    `state` SENT means a request left and no answer came back yet (or it was lost): the next
    attempt asks the ERP by key before it posts again.
    """

    __tablename__ = "erp_postings"
    system: Mapped[str] = mapped_column(CODE, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ID, index=True)
    facility_id: Mapped[str] = mapped_column(ID)
    state: Mapped[str] = mapped_column(CODE)
    document_ref: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class MigrationDifferenceRow(Base):
    """One field on which the cloud ERP's shadow posting disagreed with the legacy ERP's."""

    __tablename__ = "migration_differences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    facility_id: Mapped[str] = mapped_column(ID, ForeignKey("facilities.id"), index=True)
    invoice_id: Mapped[str] = mapped_column(ID, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(128))
    field: Mapped[str] = mapped_column(String(64))
    legacy_value: Mapped[str | None] = mapped_column(Text)
    cloud_value: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]


class OAuthClientRow(Base):
    """A partner system registered for the client-credentials grant. Secrets only hashed."""

    __tablename__ = "oauth_clients"
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(256))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    product: Mapped[str] = mapped_column(String(64))
    facility_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class AuditEntryRow(Base):
    """Append-only; each row carries the hash of the one before (see domain/audit.py)."""

    __tablename__ = "audit_log"
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(index=True)
    subject: Mapped[str] = mapped_column(String(128), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    entity_ids: Mapped[list[str]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32))
    trace_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHeadRow(Base):
    """One row: the chain's last sequence and hash. Updating it serialises appends."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class CounterRow(Base):
    """A named counter (`invoice`, `outbox`): `UPDATE … RETURNING` claims the next values.

    The claim locks the row until the transaction ends, so values are consecutive in commit
    order and never handed out twice. A missing row starts from the data (store/counters.py).
    """

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(CODE, primary_key=True)
    last_value: Mapped[int] = mapped_column(BigInteger)


class OutboxRow(Base):
    """Events in their DESIGN §5 envelope, written in the transaction of their change."""

    __tablename__ = "outbox"
    sequence: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime]
    invoice_id: Mapped[str] = mapped_column(ID, index=True)
    supplier_id: Mapped[str] = mapped_column(ID)
    facility_id: Mapped[str] = mapped_column(ID)
    trace_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[datetime | None]
    __table_args__ = (
        # The relay's next batch, in sequence order (migration 0017): only the events still
        # owed, whatever the outbox holds of history.
        Index(
            "ix_outbox_pending",
            "sequence",
            postgresql_where=text("published_at IS NULL"),
            sqlite_where=text("published_at IS NULL"),
        ),
    )


class IdempotencyKeyRow(Base):
    """The first request under each (scope, key), and what it produced."""

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(128), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result_ref: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class ExceptionAssignmentRow(Base):
    """Whose queue an exception is in, one row per (re)assignment; the latest row is current.

    Append-only, so the history of who moved an exception to whom stays; no row means the
    exception is in the queues of its cost center's approvers (the route of DESIGN §4).
    """

    __tablename__ = "exception_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ID, ForeignKey("invoices.id"), index=True)
    assignee: Mapped[str] = mapped_column(String(128), index=True)
    assigned_by: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime]
    reason: Mapped[str | None] = mapped_column(Text)


class ProductUsageRow(Base):
    """Requests per minute, product version, client and operation: summed by every instance
    (the gateway flushes its counts every few seconds), read by operators."""

    __tablename__ = "product_usage"
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    product: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(16), primary_key=True)
    client: Mapped[str] = mapped_column(String(128), primary_key=True)
    operation: Mapped[str] = mapped_column(String(128), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger)
    errors: Mapped[int] = mapped_column(BigInteger)
    latency_ms_total: Mapped[float]
    latency_ms_max: Mapped[float]


class DeadLetterRow(Base):
    """Work that failed past every retry (services/ports/dead_letters.py): one open row per
    (kind, subject) at most; a resolved row keeps the outcome it ended with."""

    __tablename__ = "dead_letters"
    __table_args__ = (
        Index(
            "uq_dead_letters_open_subject",
            "kind",
            "subject",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(CODE, index=True)
    subject: Mapped[str] = mapped_column(String(128))
    code: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(Text)


class WebhookRow(Base):
    """A partner client's webhook. The signing secret is sealed (it must be read to sign, so
    it cannot be hashed); `removed_at` keeps the row for the deliveries that name it."""

    __tablename__ = "webhooks"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(SEALABLE)
    data_key_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]


class WebhookDeliveryRow(Base):
    """One event for one webhook: planned once (unique per event and webhook), attempted until
    the receiver accepts it or the attempts run out (DEAD)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "webhook_id", name="uq_webhook_deliveries_event_webhook"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[str] = mapped_column(String(96), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(64))
    webhook_id: Mapped[str] = mapped_column(ID, ForeignKey("webhooks.id"), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]  # delivered or dead
