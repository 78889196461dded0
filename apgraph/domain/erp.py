"""What apgraph knows about the ERPs in canonical terms: routes, postings, payments, vendors.

Nothing here names a vendor field; each connector's mapping module turns its system's shapes
into these values. The document numbers are the ERPs' own (they identify a posting to
finance staff), but supplier and invoice references are always canonical IDs.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.domain.systems import ExternalSystem


class MigrationMode(Enum):
    LEGACY = "legacy"
    SHADOW = "shadow"  # post to legacy, replay to cloud, compare
    CLOUD = "cloud"


@dataclass(frozen=True, slots=True)
class ErpRoute:
    """Where one facility's postings go while it moves from the legacy to the cloud ERP."""

    mode: MigrationMode

    @property
    def system_of_record(self) -> ExternalSystem:
        """Legacy until the move is done: in shadow mode the cloud ERP's answer is never used."""
        return (
            ExternalSystem.CLOUD_ERP
            if self.mode is MigrationMode.CLOUD
            else ExternalSystem.LEGACY_ERP
        )

    @property
    def shadow(self) -> ExternalSystem | None:
        return ExternalSystem.CLOUD_ERP if self.mode is MigrationMode.SHADOW else None


_PREFIXES = {ExternalSystem.LEGACY_ERP: "LEG", ExternalSystem.CLOUD_ERP: "CLD"}


@dataclass(frozen=True, slots=True)
class ErpDocumentRef:
    """An invoice as an ERP booked it: what callers get back from a posting."""

    system: ExternalSystem
    document_number: str  # the ERP's own, shown to finance staff as it is
    invoice_id: InvoiceId
    supplier_invoice_number: str
    currency: str
    total: Decimal
    tax: Decimal
    due_date: date  # the ERP computes it from its vendor's payment terms
    posted_on: date

    @property
    def reference(self) -> str:
        """As an invoice's `erp_document_ref` carries it: LEG-5100001, CLD-9000001."""
        return f"{_PREFIXES[self.system]}-{self.document_number}"


# Fields whose disagreement between the two ERPs a migration must explain; the document
# number and posting date differ by nature and are left out.
COMPARED_FIELDS = ("invoice_id", "supplier_invoice_number", "currency", "total", "tax", "due_date")


@dataclass(frozen=True, slots=True)
class FieldDifference:
    field: str
    legacy: str | None  # None: that side has no value (e.g. the cloud posting failed)
    cloud: str | None


def compare_postings(legacy: ErpDocumentRef, cloud: ErpDocumentRef) -> tuple[FieldDifference, ...]:
    """Every compared field on which the two ERPs booked the same invoice differently.

    Amounts compare as numbers (10.5 equals 10.50), everything else as text.
    """
    return tuple(
        FieldDifference(name, str(getattr(legacy, name)), str(getattr(cloud, name)))
        for name in COMPARED_FIELDS
        if getattr(legacy, name) != getattr(cloud, name)
    )


@dataclass(frozen=True, slots=True)
class PaymentRelease:
    """Money an ERP released against one posted document."""

    system: ExternalSystem
    document_number: str
    invoice_id: InvoiceId
    payment_reference: str
    currency: str
    amount: Decimal
    released_on: date


@dataclass(frozen=True, slots=True)
class ErpVendor:
    """A vendor record of an ERP's master, in canonical terms plus the ERP's own key."""

    system: ExternalSystem
    vendor_key: str
    tax_id: str
    legal_name: str
    blocked: bool


def normalized_tax_id(raw: str) -> str:
    """Tax IDs match across systems on letters and digits alone: '12-3456789' = '123456789'."""
    return "".join(char for char in raw if char.isalnum()).upper()


@dataclass(frozen=True, slots=True)
class ForecastRecord:
    """One expected payment, as the analytics platform's cash forecast consumes it."""

    invoice_id: InvoiceId
    supplier_id: SupplierId
    facility_id: FacilityId
    currency: str
    amount: Decimal
    expected_on: date


@dataclass(frozen=True, slots=True)
class PaymentOrderLine:
    """One posted invoice a payment settles, by the ERP document that booked it."""

    invoice_id: InvoiceId
    document_ref: str  # the invoice's `erp_document_ref`, e.g. LEG-5100001
    amount: Decimal  # paid for it
    discount: Decimal  # taken off its total

    @property
    def document_number(self) -> str:
        """The ERP's own number: LEG-5100001 is document 5100001 of the legacy ERP."""
        return self.document_ref.split("-", 1)[1]


class ConfirmationState(Enum):
    PENDING = "PENDING"  # the ERP has the order; its bank run has not settled it yet
    PAID = "PAID"
    REJECTED = "REJECTED"  # refused or returned by the bank: see `reason`


@dataclass(frozen=True, slots=True)
class PaymentConfirmation:
    """Where an ERP's payment order stands: how a payment becomes PAID, or an exception."""

    reference: str  # as a payment's `erp_reference` carries it: LEG-70000001
    state: ConfirmationState
    reason: str | None  # the ERP's return reason when REJECTED, e.g. ACCOUNT_CLOSED
    paid_on: date | None


def payment_reference(system: ExternalSystem, order_number: str) -> str:
    """An ERP's payment order number as apgraph keeps it: LEG-70000001, CLD-70000001."""
    return f"{_PREFIXES[system]}-{order_number}"


def system_of_reference(reference: str) -> ExternalSystem:
    prefix = reference.split("-", 1)[0]
    return next(system for system, known in _PREFIXES.items() if known == prefix)
