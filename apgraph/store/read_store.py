"""Every repository, scoped to one caller: what a request reads through."""

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.principal import RowScope
from apgraph.store.attachments import AttachmentRepository
from apgraph.store.audit import AuditRepository
from apgraph.store.exceptions import ExceptionQueueRepository
from apgraph.store.facilities import FacilityRepository
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.keyring import Keyring
from apgraph.store.outbox import OutboxRepository
from apgraph.store.payments import PaymentRepository, PaymentRunRepository
from apgraph.store.purchasing import PurchaseOrderRepository
from apgraph.store.reading import sharing_one_connection
from apgraph.store.suppliers import SupplierRepository
from apgraph.store.usage import UsageRepository


@dataclass(frozen=True, slots=True)
class ReadStore:
    facilities: FacilityRepository
    suppliers: SupplierRepository
    purchase_orders: PurchaseOrderRepository
    invoices: InvoiceRepository
    payments: PaymentRepository
    payment_runs: PaymentRunRepository
    attachments: AttachmentRepository
    audit: AuditRepository
    exceptions: ExceptionQueueRepository
    events: OutboxRepository
    usage: UsageRepository
    engine: AsyncEngine

    def sharing_one_connection(self) -> AbstractAsyncContextManager[None]:
        """Reads inside the block that run at once take one pooled connection in turn
        (store/reading.py `sharing_one_connection`)."""
        return sharing_one_connection(self.engine)

    @classmethod
    def scoped(cls, engine: AsyncEngine, scope: RowScope, keyring: Keyring) -> "ReadStore":
        return cls(
            facilities=FacilityRepository(engine, scope),
            suppliers=SupplierRepository(engine, scope, keyring),
            purchase_orders=PurchaseOrderRepository(engine, scope),
            invoices=InvoiceRepository(engine, scope, keyring),
            payments=PaymentRepository(engine, scope),
            payment_runs=PaymentRunRepository(engine, scope),
            attachments=AttachmentRepository(engine, scope),
            audit=AuditRepository(engine),  # whole-trail reads are gated by audit:read
            exceptions=ExceptionQueueRepository(engine, scope),
            events=OutboxRepository(engine, scope),  # of_invoice: through a visible invoice
            usage=UsageRepository(engine),  # API product usage, for operators (admin)
            engine=engine,
        )
