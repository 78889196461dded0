"""What services need from the outside world, as Protocols, plus the value types they pass.

The store implements the readers; the schema layer builds pages and filters from arguments.
The connector capabilities (`ErpPosting`, `GoodsReceipts`, `ContractPrices`, `SupplierMaster`,
`AnalyticsSink`) and their error hierarchy live here too: these are the "interfaces" of
DESIGN §6, and `apgraph/connectors/` holds one adapter per system implementing them.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from types import TracebackType
from typing import Generic, Protocol, TypeVar

from apgraph.domain.aging import Waiting
from apgraph.domain.approvals import ApprovalRules, Assignment
from apgraph.domain.attachments import Attachment
from apgraph.domain.audit import AuditEntry, AuditEvent
from apgraph.domain.bundle import KnownIds, MasterDataBundle
from apgraph.domain.codes import ConnectorCode
from apgraph.domain.erp import (
    ErpDocumentRef,
    ErpSystem,
    ErpVendor,
    FieldDifference,
    ForecastRecord,
    PaymentRelease,
)
from apgraph.domain.events import Event
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import FacilityId, InvoiceId, PurchaseOrderId, SupplierId
from apgraph.domain.invoices import (
    Approval,
    Invoice,
    InvoiceException,
    InvoiceLine,
    InvoiceStatus,
    StatusChange,
)
from apgraph.domain.matching.match import BilledInvoice
from apgraph.domain.matching.rules import MatchRules
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentStatus
from apgraph.domain.purchasing import (
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.suppliers import Supplier, SupplierStatus

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Keyset pagination: `first` rows with an ID after `after` (None: from the start)."""

    first: int
    after: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next_page: bool
    has_previous_page: bool


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive on both ends; None leaves that end open."""

    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class SupplierFilter:
    statuses: frozenset[SupplierStatus] | None = None
    name_contains: str | None = None


@dataclass(frozen=True, slots=True)
class InvoiceFilter:
    statuses: frozenset[InvoiceStatus] | None = None
    supplier_id: str | None = None
    facility_id: str | None = None
    purchase_order_id: str | None = None
    invoice_dates: DateRange = DateRange()


@dataclass(frozen=True, slots=True)
class PurchaseOrderFilter:
    statuses: frozenset[PurchaseOrderStatus] | None = None
    supplier_id: str | None = None
    facility_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    statuses: frozenset[PaymentStatus] | None = None
    supplier_id: str | None = None
    scheduled_dates: DateRange = DateRange()


@dataclass(frozen=True, slots=True)
class AuditFilter:
    subject: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExceptionFilter:
    """The exception queue: open exceptions, narrowed by facility, reason, or the cost centers
    an approver answers for (None: not narrowed)."""

    facility_id: str | None = None
    reason: str | None = None
    cost_center_ids: frozenset[str] | None = None
    # set: the queue of this approver, i.e. the exceptions currently assigned to them, plus
    # those never assigned at `cost_center_ids` (the cost centers they approve for)
    assignee: str | None = None


@dataclass(frozen=True, slots=True)
class ReasonCount:
    facility_id: str
    code: str
    count: int


@dataclass(frozen=True, slots=True)
class PageLimits:
    default_size: int
    max_size: int


class FacilityReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[Facility]: ...
    async def page(self, page: PageRequest) -> Page[Facility]: ...
    async def count(self) -> int: ...
    async def cost_centers(self, ids: Sequence[str]) -> Sequence[CostCenter]: ...
    async def cost_centers_of(self, facility_ids: Sequence[str]) -> Sequence[CostCenter]: ...

    async def cost_centers_with_code(self, code: str) -> Sequence[CostCenter]:
        """Every cost center with this GL code the caller may see, at any facility."""
        ...

    async def cost_centers_approved_by(self, user_id: str) -> Sequence[CostCenter]: ...


class SupplierReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[Supplier]: ...
    async def page(self, where: SupplierFilter, page: PageRequest) -> Page[Supplier]: ...
    async def count(self, where: SupplierFilter) -> int: ...


class PurchaseOrderReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[PurchaseOrder]: ...
    async def page(self, where: PurchaseOrderFilter, page: PageRequest) -> Page[PurchaseOrder]: ...
    async def count(self, where: PurchaseOrderFilter) -> int: ...

    async def lines_of(self, order_ids: Sequence[str]) -> Sequence[tuple[str, PurchaseOrderLine]]:
        """(order id, line) pairs in line order."""
        ...

    async def receipts_of(self, order_ids: Sequence[str]) -> Sequence[GoodsReceipt]: ...


class InvoiceReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[Invoice]: ...
    async def page(self, where: InvoiceFilter, page: PageRequest) -> Page[Invoice]: ...
    async def count(self, where: InvoiceFilter) -> int: ...
    async def lines_of(self, invoice_ids: Sequence[str]) -> Sequence[tuple[str, InvoiceLine]]: ...

    async def exceptions_of(
        self, invoice_ids: Sequence[str]
    ) -> Sequence[tuple[str, InvoiceException]]: ...

    async def history_of(self, invoice_ids: Sequence[str]) -> Sequence[StatusChange]: ...
    async def approvals_of(self, invoice_ids: Sequence[str]) -> Sequence[Approval]: ...
    async def assignments_of(self, invoice_ids: Sequence[str]) -> Sequence[Assignment]: ...


class PaymentReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[Payment]: ...
    async def page(self, where: PaymentFilter, page: PageRequest) -> Page[Payment]: ...
    async def count(self, where: PaymentFilter) -> int: ...
    async def allocations_to(self, invoice_ids: Sequence[str]) -> Sequence[PaymentAllocation]: ...
    async def allocations_of(self, payment_ids: Sequence[str]) -> Sequence[PaymentAllocation]: ...


class AttachmentReader(Protocol):
    async def of_invoices(self, invoice_ids: Sequence[str]) -> Sequence[Attachment]: ...

    async def with_content(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        """Metadata and bytes; None when unknown or not the caller's (the same answer)."""
        ...


class AuditReader(Protocol):
    async def page(self, where: AuditFilter, *, first: int, after: int | None) -> Page[AuditEntry]:
        """Newest first; `after` is the sequence of the last entry already seen."""
        ...

    async def count(self, where: AuditFilter) -> int: ...


class ExceptionQueueReader(Protocol):
    async def page(self, where: ExceptionFilter, page: PageRequest) -> Page[Invoice]: ...
    async def count(self, where: ExceptionFilter) -> int: ...
    async def waiting(self, where: ExceptionFilter) -> Sequence[Waiting]: ...
    async def reason_counts(self, where: ExceptionFilter) -> Sequence[ReasonCount]: ...


class InvoiceEventReader(Protocol):
    async def of_invoice(self, invoice_id: str) -> Sequence["OutboxRecord"]:
        """One invoice's events, oldest first; callers check the invoice is theirs to see."""
        ...


class Reads(Protocol):
    """Every reader of one request, each already scoped to the caller's rows."""

    @property
    def facilities(self) -> FacilityReader: ...
    @property
    def suppliers(self) -> SupplierReader: ...
    @property
    def purchase_orders(self) -> PurchaseOrderReader: ...
    @property
    def invoices(self) -> InvoiceReader: ...
    @property
    def payments(self) -> PaymentReader: ...
    @property
    def attachments(self) -> AttachmentReader: ...
    @property
    def audit(self) -> AuditReader: ...
    @property
    def exceptions(self) -> ExceptionQueueReader: ...
    @property
    def events(self) -> InvoiceEventReader: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC."""
        ...


# --- connectors (DESIGN §6) -------------------------------------------------------------


class ExternalSystem(Enum):
    """The systems apgraph calls; the value names the system in config, metrics and the API."""

    LEGACY_ERP = "legacy_erp"
    CLOUD_ERP = "cloud_erp"
    MATERIALS = "materials"
    SOURCING = "sourcing"
    ANALYTICS = "analytics"

    @classmethod
    def of_erp(cls, system: ErpSystem) -> "ExternalSystem":
        return cls.LEGACY_ERP if system is ErpSystem.LEGACY else cls.CLOUD_ERP

    @property
    def family(self) -> str:
        """The prefix of this system's error codes: both ERPs answer as ERP_*."""
        return "ERP" if self in (ExternalSystem.LEGACY_ERP, ExternalSystem.CLOUD_ERP) else self.name


class ConnectorError(Exception):
    """A call to an external system failed. `code` is stable; the message is for operators."""

    kind = "UNAVAILABLE"

    def __init__(self, system: ExternalSystem, message: str) -> None:
        super().__init__(f"{system.value}: {message}")
        self.system = system

    @property
    def code(self) -> ConnectorCode:
        return ConnectorCode(f"{self.system.family}_{self.kind}")


class ConnectorUnavailable(ConnectorError):
    """No usable answer (timeout, connection, 5xx, 429, open breaker): retrying later may help."""


class ConnectorRejected(ConnectorError):
    """The system refused the request (a SOAP fault, a 4xx): the same request will fail again."""

    kind = "REJECTED"

    def __init__(
        self, system: ExternalSystem, message: str, *, code: ConnectorCode | None = None
    ) -> None:
        super().__init__(system, message)
        self._code = code

    @property
    def code(self) -> ConnectorCode:
        return self._code or super().code


class ConnectorMappingError(ConnectorError):
    """The system answered with a payload that does not map; nothing half-mapped is returned.

    `field` names the vendor's field that failed, or "(body)" when nothing could be parsed.
    """

    def __init__(self, system: ExternalSystem, field: str, problem: str) -> None:
        super().__init__(system, f"field {field!r}: {problem}")
        self.field = field

    @property
    def code(self) -> ConnectorCode:
        return ConnectorCode.CONNECTOR_MAPPING_ERROR


class ErpPosting(Protocol):
    """Posts approved invoices to the facility's ERP and reports what it paid.

    Idempotent on `idempotency_key`: a retry returns the first document, and an attempt whose
    answer was lost is looked up by its key before anything is posted again. Raises
    ConnectorUnavailable (worth retrying), ConnectorRejected (the ERP said no) or
    ConnectorMappingError (the ERP's answer does not map).
    """

    async def post_invoice(self, invoice: Invoice, *, idempotency_key: str) -> ErpDocumentRef: ...

    async def find_posting(
        self, invoice: Invoice, *, idempotency_key: str
    ) -> ErpDocumentRef | None:
        """The document an earlier post with this key created; None when there is none."""
        ...

    async def payment_of(self, document: ErpDocumentRef) -> PaymentRelease | None:
        """None while the ERP has released no payment for the document."""
        ...

    async def payment_releases(self, *, since: date) -> Sequence[PaymentRelease]:
        """Every release on or after `since`, oldest first."""
        ...


class GoodsReceipts(Protocol):
    """What materials management received against a PO; raises ConnectorError subclasses."""

    async def receipts_for(self, purchase_order_id: PurchaseOrderId) -> Sequence[GoodsReceipt]:
        """In receipt order; empty when nothing was received (or the PO is unknown there)."""
        ...


class ContractPrices(Protocol):
    """The sourcing system's contracted prices; raises ConnectorError subclasses."""

    async def price_for(
        self, *, supplier_id: SupplierId, item_id: str, on: date
    ) -> ContractPrice | None:
        """The contract valid on `on` (from and to inclusive); None when none is."""
        ...


class SupplierMaster(Protocol):
    """One ERP's vendor master, read whole for the cross-reference sync."""

    @property
    def system(self) -> ErpSystem: ...

    async def vendors(self) -> Sequence[ErpVendor]: ...


class AnalyticsSink(Protocol):
    """The analytics platform's payment-forecast webhook."""

    async def send_forecasts(self, records: Sequence[ForecastRecord]) -> int:
        """Sends in batches, each under an idempotency key of its own; returns the batch count."""
        ...


class CrossReferences(Protocol):
    """ERP vendor keys ⇄ canonical supplier IDs: the only place an ERP's keys are kept."""

    async def vendor_key(self, system: ErpSystem, supplier_id: SupplierId) -> str | None: ...

    async def link_vendors(
        self, system: ErpSystem, links: Mapping[SupplierId, str], *, at: datetime
    ) -> None:
        """Inserts or replaces the given links; others stay as they are."""
        ...


class PostingState(Enum):
    SENT = "SENT"  # a request left; its outcome is not known (yet)
    POSTED = "POSTED"
    REJECTED = "REJECTED"
    NOT_POSTED = "NOT_POSTED"  # the ERP never took the request (refused connection, 429, breaker)


class PostingLedger(Protocol):
    """Each posting by (system, idempotency key), so an unanswered one is never forgotten."""

    async def begin(
        self, *, system: ErpSystem, idempotency_key: str, invoice: Invoice, at: datetime
    ) -> PostingState | None:
        """Marks the posting SENT and returns its state before (None: never tried)."""
        ...

    async def settle(
        self,
        *,
        system: ErpSystem,
        idempotency_key: str,
        state: PostingState,
        document_number: str | None,
        error: str | None,
        at: datetime,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class MigrationDifference:
    """A field the cloud ERP's shadow posting booked otherwise than the legacy ERP."""

    facility_id: FacilityId
    invoice_id: InvoiceId
    idempotency_key: str
    difference: FieldDifference
    recorded_at: datetime


class MigrationDifferenceLog(Protocol):
    async def record(self, differences: Sequence[MigrationDifference]) -> None: ...

    async def of_facility(
        self, facility_id: FacilityId, *, limit: int
    ) -> Sequence[MigrationDifference]:
        """The newest `limit` differences of the facility, newest first."""
        ...


class BreakerState(Enum):
    CLOSED = "CLOSED"  # calls go through
    OPEN = "OPEN"  # calls fail fast until the cool-down is over
    HALF_OPEN = "HALF_OPEN"  # one trial call decides


@dataclass(frozen=True, slots=True)
class ConnectorStats:
    """Counters of one system since the server started."""

    system: ExternalSystem
    endpoint: str  # the base URL, or "in-process" for embedded simulators
    breaker: BreakerState
    calls: int  # operations asked for, however many attempts each took
    attempts: int
    failures: int  # operations that ended in a ConnectorError
    last_error: str | None
    last_error_at: datetime | None


@dataclass(frozen=True, slots=True)
class ConnectorHealth:
    stats: ConnectorStats
    reachable: bool
    problem: str | None  # why the ping failed; None when reachable


class ConnectorProbe(Protocol):
    """An operator's view of one system: its counters, and a ping that bypasses the breaker."""

    @property
    def system(self) -> ExternalSystem: ...

    def stats(self) -> ConnectorStats: ...

    async def ping(self) -> str | None:
        """None when the system answered; else why not, in one line."""
        ...


class ConnectorViews(Protocol):
    """What operators' queries read of the connectors."""

    @property
    def probes(self) -> Sequence[ConnectorProbe]: ...

    @property
    def migration_differences(self) -> MigrationDifferenceLog: ...


# --- the write side: one unit of work per use case (STYLE §3.4) ---------------------------


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An event in its DESIGN §5 envelope, as the outbox stores it and a relay publishes it.

    `sequence` is global and gap-free in commit order, so a subscriber resumes after the last
    one it saw. `payload` is canonical JSON (amounts as strings) with its schema `version`.
    """

    id: str  # a UUID: consumers dedupe by it
    type: str  # e.g. "invoice.posted"
    sequence: int
    occurred_at: datetime
    invoice_id: InvoiceId
    supplier_id: SupplierId
    facility_id: FacilityId
    trace_id: str | None
    payload: Mapping[str, object]
    published_at: datetime | None  # None until a relay marks it published


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """The first request made under (scope, key): what it asked for and what it produced."""

    scope: str  # whose key it is: a principal's subject or a client id
    key: str
    fingerprint: str  # of the request; a reused key with another fingerprint is refused
    result_ref: str  # what the first request produced, e.g. an invoice ID
    created_at: datetime


class InvoiceWriter(Protocol):
    """Invoices as a unit of work changes them; every call joins its transaction."""

    async def next_id(self) -> InvoiceId:
        """The next free invoice ID. The counter stays locked until the unit of work ends, so
        IDs are consecutive and never collide; a rolled-back unit of work gives its ID back."""
        ...

    async def add(self, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None: ...

    async def get_for_update(self, invoice_id: InvoiceId) -> Invoice | None:
        """None when there is no such invoice. On PostgreSQL the row stays locked until the
        unit of work ends, so a concurrent change waits instead of being overwritten."""
        ...

    async def save(self, invoice: Invoice) -> None:
        """Writes the invoice's current fields over the stored row, which must exist."""
        ...

    async def add_history(self, changes: Sequence[StatusChange]) -> None: ...
    async def add_approval(self, approval: Approval) -> None: ...
    async def add_assignment(self, assignment: Assignment) -> None:
        """Puts the exception in `assignment.assignee`'s queue (the latest one counts)."""
        ...

    async def history(self, invoice_id: InvoiceId) -> Sequence[StatusChange]:
        """The invoice's status changes, oldest first, as this transaction sees them."""
        ...

    async def approvals(self, invoice_id: InvoiceId) -> Sequence[Approval]:
        """The invoice's decisions, oldest first, as this transaction sees them."""
        ...

    async def replace_exceptions(
        self, invoice_id: InvoiceId, exceptions: Sequence[InvoiceException]
    ) -> None:
        """The invoice's reasons become exactly `exceptions` (empty clears them)."""
        ...

    async def earlier_of_supplier(
        self, supplier_id: SupplierId, *, excluding: InvoiceId | None = None
    ) -> Sequence[Invoice]:
        """Every stored invoice of the supplier but `excluding`: `ValidationFacts.invoices_on_file`.

        Rejected ones included (the duplicate rule skips them itself). On PostgreSQL the
        supplier's row stays locked until the unit of work ends, so two submissions of one
        supplier are checked for duplicates one after the other, never side by side.
        """
        ...

    async def billed_per_po_line(
        self, purchase_order_id: PurchaseOrderId, *, excluding: InvoiceId | None = None
    ) -> Sequence[BilledInvoice]:
        """Every stored invoice on the PO but `excluding`, with its lines: `billed_before`.

        `match_invoice` itself keeps those received earlier and not rejected. On PostgreSQL the
        PO's row stays locked until the unit of work ends, so cumulative quantities on its
        lines are computed by one submission at a time.
        """
        ...


class OutboxWriter(Protocol):
    async def add(self, events: Sequence[Event]) -> None:
        """Queued for the outbox; written with their sequences when the unit of work commits."""
        ...


class AuditWriter(Protocol):
    async def add(self, events: Sequence[AuditEvent], *, at: datetime) -> None:
        """Chained into the audit trail when the unit of work commits, with its change."""
        ...


class IdempotencyKeys(Protocol):
    async def get(self, scope: str, key: str) -> IdempotencyRecord | None: ...

    async def put(
        self, scope: str, key: str, *, fingerprint: str, result_ref: str, at: datetime
    ) -> IdempotencyRecord:
        """Stores the key unless (scope, key) is on file; returns the record on file.

        The first request wins: when the answer is not the record just offered, another
        request holds the key (a concurrent one waits here for the first to end). Refusing a
        reused key with another fingerprint (IDEMPOTENCY_KEY_REUSED) is the caller's business.
        """
        ...


class UnitOfWork(Protocol):
    """One transaction: `async with uow:` ... `await uow.commit()`.

    Leaving the block without `commit()` (a refusal returned early, an exception) rolls back
    everything, outbox events and audit entries included. Single use: one block per instance.
    """

    @property
    def invoices(self) -> InvoiceWriter: ...
    @property
    def outbox(self) -> OutboxWriter: ...
    @property
    def audit(self) -> AuditWriter: ...
    @property
    def idempotency(self) -> IdempotencyKeys: ...

    async def __aenter__(self) -> "UnitOfWork": ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


class Outbox(Protocol):
    """What a relay and a resuming subscriber read of the outbox."""

    async def pending(self, limit: int) -> Sequence[OutboxRecord]:
        """Unpublished records, lowest sequence first."""
        ...

    async def mark_published(self, ids: Sequence[str], *, at: datetime) -> None:
        """Idempotent: a record already marked keeps its first `published_at`."""
        ...

    async def after(self, sequence: int, limit: int) -> Sequence[OutboxRecord]:
        """Records with a higher sequence, published or not, lowest first: replay a cursor."""
        ...


# --- the invoice workflow's dependencies (what the composition root hands its services) ----


class WorkflowConnectors(Protocol):
    """The systems the invoice workflow calls: the ERP router, materials and sourcing."""

    @property
    def erp(self) -> ErpPosting: ...
    @property
    def goods_receipts(self) -> GoodsReceipts: ...
    @property
    def contract_prices(self) -> ContractPrices: ...


@dataclass(frozen=True, slots=True)
class WorkflowPolicy:
    """gateway.yaml's `matching` and `approvals` sections as the domain takes them."""

    match_rules: MatchRules
    duplicate_window_days: int
    approvals: ApprovalRules


@dataclass(frozen=True, slots=True)
class Workflow:
    """What a mutation resolver hands its service; one per request, built by the gateway.

    `unit_of_work` makes a fresh, single-use unit of work carrying the request's trace id.
    """

    unit_of_work: Callable[[], UnitOfWork]
    connectors: WorkflowConnectors
    policy: WorkflowPolicy
    trace_id: str | None


# --- master-data import and export (services/onboarding.py) --------------------------------


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """Rows per entity (the keys of `MasterDataBundle.counts()`) an upsert wrote or left."""

    created: Mapping[str, int]
    updated: Mapping[str, int]
    unchanged: Mapping[str, int]


class MasterDataStore(Protocol):
    async def stored_ids(self, bundle: MasterDataBundle) -> KnownIds: ...

    async def upsert(
        self,
        bundle: MasterDataBundle,
        *,
        actor: str,
        at: datetime,
        progress: Callable[[int], None] | None = None,
    ) -> UpsertCounts:
        """Everything in one transaction, by canonical ID: new rows inserted, changed ones
        updated, equal ones untouched. Every change is audited in the same transaction; a
        bundle equal to what is stored writes nothing at all. `progress` hears the number of
        rows compared so far."""
        ...


class MasterDataSink(Protocol):
    """Something outside the database that must know imported master data (the simulated
    systems' books, the ERP routes of a running server); told only after the commit."""

    async def load(self, bundle: MasterDataBundle) -> None: ...


@dataclass(frozen=True, slots=True)
class Onboarding:
    """What `importMasterData` hands the onboarding service: where bundles are stored, who
    must hear of them after the commit, and the largest upload it reads."""

    store: MasterDataStore
    sinks: Sequence[MasterDataSink]
    max_upload_bytes: int
