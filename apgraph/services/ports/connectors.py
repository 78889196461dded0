"""The external systems' capabilities (DESIGN §6) and their error hierarchy: one Protocol per
capability, implemented by one adapter per system in `apgraph/connectors/`.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Protocol

from apgraph.domain.codes import ConnectorCode
from apgraph.domain.erp import (
    ErpDocumentRef,
    ErpVendor,
    FieldDifference,
    ForecastRecord,
    PaymentConfirmation,
    PaymentOrderLine,
    PaymentRelease,
)
from apgraph.domain.ids import FacilityId, InvoiceId, PurchaseOrderId, SupplierId
from apgraph.domain.invoices import (
    Invoice,
    InvoiceStatus,
)
from apgraph.domain.payments import Payment
from apgraph.domain.purchasing import (
    ContractPrice,
    GoodsReceipt,
)
from apgraph.domain.systems import ExternalSystem


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


class ErpPayments(Protocol):
    """Releases payments through the facility's ERP and reports their confirmation (polled).

    Idempotent on `idempotency_key`: a retry (or a replay after the ERP was down) returns
    the first order, so a payment is ordered once. Raises ConnectorUnavailable (worth
    retrying), ConnectorRejected (the ERP said no) or ConnectorMappingError.
    """

    async def release_payment(
        self, payment: Payment, lines: Sequence[PaymentOrderLine], *, idempotency_key: str
    ) -> PaymentConfirmation: ...

    async def payment_confirmation(self, reference: str) -> PaymentConfirmation:
        """Where the order with this `erp_reference` stands now."""
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
    def system(self) -> ExternalSystem: ...

    async def vendors(self) -> Sequence[ErpVendor]: ...


class AnalyticsSink(Protocol):
    """The analytics platform's payment-forecast webhook."""

    async def send_forecasts(self, records: Sequence[ForecastRecord]) -> int:
        """Sends in batches, each under an idempotency key of its own; returns the batch count."""
        ...


class CrossReferences(Protocol):
    """ERP vendor keys ⇄ canonical supplier IDs: the only place an ERP's keys are kept."""

    async def vendor_key(self, system: ExternalSystem, supplier_id: SupplierId) -> str | None: ...

    async def link_vendors(
        self, system: ExternalSystem, links: Mapping[SupplierId, str], *, at: datetime
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
        self, *, system: ExternalSystem, idempotency_key: str, invoice: Invoice, at: datetime
    ) -> PostingState | None:
        """Marks the posting SENT and returns its state before (None: never tried)."""
        ...

    async def settle(
        self,
        *,
        system: ExternalSystem,
        idempotency_key: str,
        state: PostingState,
        document_number: str | None,
        error: str | None,
        at: datetime,
    ) -> None: ...

    async def unsettled(
        self, *, status: InvoiceStatus, sent_before: datetime, limit: int
    ) -> Sequence[InvoiceId]:
        """Invoices now in `status` with a posting SENT before `sent_before` and never settled
        (its process died, or its answer never came), oldest first: their outcome is unknown."""
        ...


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
    """A circuit breaker's state, per external system."""

    CLOSED = "CLOSED"
    """Calls go through."""
    OPEN = "OPEN"
    """Calls fail fast until the cool-down is over."""
    HALF_OPEN = "HALF_OPEN"
    """One trial call decides whether it closes again."""


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

    def reset_breaker(self) -> None:
        """Close its breaker now: the next call goes out instead of waiting the cooldown."""
        ...


class ConnectorViews(Protocol):
    """What operators' queries read of the connectors."""

    @property
    def probes(self) -> Sequence[ConnectorProbe]: ...

    @property
    def migration_differences(self) -> MigrationDifferenceLog: ...
