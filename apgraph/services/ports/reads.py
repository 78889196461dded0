"""The read side: pages, filters and one reader Protocol per aggregate; the store implements them,
the schema layer builds pages and filters from arguments.
"""

from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

from apgraph.domain.aging import Waiting
from apgraph.domain.approvals import Assignment
from apgraph.domain.attachments import Attachment
from apgraph.domain.audit import AuditEntry
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import PaymentId
from apgraph.domain.invoices import (
    Approval,
    Invoice,
    InvoiceException,
    InvoiceLine,
    InvoiceStatus,
    StatusChange,
)
from apgraph.domain.payment_runs import PaymentRun, PaymentRunStatus
from apgraph.domain.payments import Payment, PaymentAllocation, PaymentStatus
from apgraph.domain.purchasing import (
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.remittance import RemittanceFormat
from apgraph.domain.suppliers import Supplier, SupplierStatus
from apgraph.services.ports.unit_of_work import OutboxRecord
from apgraph.services.ports.usage import UsageReader

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
    open_to_bill: bool | None = None  # True: some line ordered more than is billed; False: none


@dataclass(frozen=True, slots=True)
class BilledQuantity:
    """How much of one PO line the invoices on it bill in all (every one but REJECTED)."""

    purchase_order_id: str
    line_no: int
    quantity: Decimal


@dataclass(frozen=True, slots=True)
class PaymentFilter:
    statuses: frozenset[PaymentStatus] | None = None
    supplier_id: str | None = None
    scheduled_dates: DateRange = DateRange()
    run_id: str | None = None
    facility_id: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentRunFilter:
    statuses: frozenset[PaymentRunStatus] | None = None
    facility_id: str | None = None
    pay_dates: DateRange = DateRange()


@dataclass(frozen=True, slots=True)
class RemittanceDocumentInfo:
    """A stored remittance document, without its bytes."""

    id: str
    payment_id: PaymentId
    format: RemittanceFormat
    filename: str
    media_type: str
    size: int
    sha256: str
    created_at: datetime


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

    async def billed_of(self, order_ids: Sequence[str]) -> Sequence[BilledQuantity]:
        """Per billed line of these orders, what is billed on it; lines never billed are absent."""
        ...


@dataclass(frozen=True, slots=True)
class InvoicePageWithOrders:
    """A page of invoices with what their purchase-order and cost-center fields load, read
    in the page's own statement. Every id the page's invoices name is a key, its value None
    where the caller may not see that row (exactly what the by-id reads would answer)."""

    invoices: Page[Invoice]
    purchase_orders: Mapping[str, PurchaseOrder | None]
    cost_centers: Mapping[str, CostCenter | None]
    # each invoice's lines in line order, when they were asked for and read with the page
    # (PostgreSQL builds them in the page's statement); None: not read, ask `lines_of`
    lines: Mapping[str, list[InvoiceLine]] | None = None
    # each invoice's supplier (None where hidden from the caller), when asked for and joined
    # to the page; None: not read, ask the supplier reader
    suppliers: Mapping[str, Supplier | None] | None = None


# An opaque cursor is the URL-safe base64 of this and the row's ID: the schema encodes it
# (schema/pagination.py) and a reader that builds a page's JSON writes it the same way.
CURSOR_PREFIX = "apgraph:"


@dataclass(frozen=True, slots=True)
class Selected:
    """One key of a response the database may build as JSON (`InvoiceReader.page_as_json`),
    named by what it reads of the stored record at its level, not by GraphQL: `name` a stored
    field or relation of the record (`fields`: what is selected of the record or records it
    leads to), `names` the names a stored code is shown by (an enum's), `constant` a fixed
    value (a type name). The reader answers None for a selection it does not render."""

    key: str
    name: str | None = None
    fields: "Selection | None" = None
    names: tuple[tuple[str, str], ...] | None = None
    constant: str | None = None


Selection = tuple[Selected, ...]


class InvoiceReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[Invoice]: ...
    async def page(self, where: InvoiceFilter, page: PageRequest) -> Page[Invoice]: ...
    async def page_with_orders(
        self,
        where: InvoiceFilter,
        page: PageRequest,
        *,
        with_lines: bool = False,
        with_suppliers: bool = False,
    ) -> InvoicePageWithOrders:
        """`page`, with each invoice's purchase order and cost center as the purchase-order
        and cost-center readers of the same caller would answer them, in one statement;
        `with_lines`: its lines too, where the database can build them in that statement;
        `with_suppliers`: its suppliers too, as the supplier reader would answer them."""
        ...

    async def page_as_json(
        self, where: InvoiceFilter, page: PageRequest, selection: Selection
    ) -> str | None:
        """`page` as the JSON text of a connection of invoices (edges, pageInfo) with just
        `selection` of it, built by the database in one statement under the same row scoping
        as `page_with_orders`; None where it cannot (another database, a name it does not
        render): the caller then builds the answer itself."""
        ...

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

    async def remittance_documents(
        self, payment_ids: Sequence[str]
    ) -> Sequence[RemittanceDocumentInfo]: ...

    async def open_of_supplier(self, supplier_id: str) -> Sequence[Payment]:
        """The supplier's payments not paid yet and not failed, as the caller may see them."""
        ...

    async def remittance_content(
        self, document_id: str
    ) -> tuple[RemittanceDocumentInfo, bytes] | None:
        """None when unknown or not the caller's (the same answer)."""
        ...


class PaymentRunReader(Protocol):
    async def get_many(self, ids: Sequence[str]) -> Sequence[PaymentRun]: ...
    async def page(self, where: PaymentRunFilter, page: PageRequest) -> Page[PaymentRun]: ...
    async def count(self, where: PaymentRunFilter) -> int: ...


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

    async def history(
        self,
        *,
        after: int,
        first: int,
        types: Collection[str] = (),
        invoice_id: str | None = None,
        newest: bool = False,
    ) -> Sequence["OutboxRecord"]:
        """The caller's events (their rows only) after sequence `after`, oldest first: the
        first `first`, or with `newest` the last `first`."""
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
    def payment_runs(self) -> PaymentRunReader: ...
    @property
    def attachments(self) -> AttachmentReader: ...
    @property
    def audit(self) -> AuditReader: ...
    @property
    def exceptions(self) -> ExceptionQueueReader: ...
    @property
    def events(self) -> InvoiceEventReader: ...
    @property
    def usage(self) -> UsageReader: ...
    def sharing_one_connection(self) -> AbstractAsyncContextManager[None]:
        """Reads inside the block (and in the tasks it starts) share one database connection,
        one statement at a time, rather than a pool checkout each: for one operation's
        batched reads. Each statement still sees what was committed before it."""
        ...
