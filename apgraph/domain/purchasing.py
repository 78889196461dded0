"""What was ordered (POs), what arrived (goods receipts), and at what price it was agreed."""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from apgraph.domain.ids import (
    ContractPriceId,
    CostCenterId,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    SupplierId,
)


class PurchaseOrderStatus(Enum):
    """Where a purchase order stands."""

    OPEN = "OPEN"
    """Ordered; nothing received yet."""
    PARTIALLY_RECEIVED = "PARTIALLY_RECEIVED"
    """Some lines or quantities received."""
    RECEIVED = "RECEIVED"
    """Everything ordered was received."""
    CLOSED = "CLOSED"
    """Closed by purchasing: no further invoices (PO_CLOSED)."""
    CANCELLED = "CANCELLED"
    """Cancelled: no invoices (PO_CLOSED)."""

    @property
    def accepts_invoices(self) -> bool:
        """CLOSED and CANCELLED orders can no longer be billed (PO_CLOSED covers both)."""
        return self not in (PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED)


class Category(Enum):
    """Item categories; matching tolerances are policy per category."""

    MEDICAL_SUPPLIES = "MEDICAL_SUPPLIES"
    """Med-surg supplies: gloves, sutures, catheters, implants."""
    PHARMACY = "PHARMACY"
    """Drugs; contract pricing mandatory and no quantity tolerance by default."""
    BIOMED_SERVICE = "BIOMED_SERVICE"
    """Biomedical equipment service and repair."""
    CLINICAL_SERVICE = "CLINICAL_SERVICE"
    """Contracted clinical services, e.g. staffing, lab."""
    FACILITY_OPS = "FACILITY_OPS"
    """Facility operations: cleaning, maintenance, utilities."""


@dataclass(frozen=True, slots=True)
class PurchaseOrderLine:
    line_no: int
    item_id: str
    description: str
    category: Category
    quantity: Decimal
    unit_of_measure: str
    unit_price: Decimal  # in the order's currency


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: PurchaseOrderId
    supplier_id: SupplierId
    facility_id: FacilityId
    cost_center_id: CostCenterId
    status: PurchaseOrderStatus
    currency: str
    ordered_on: date


@dataclass(frozen=True, slots=True)
class GoodsReceipt:
    id: GoodsReceiptId
    purchase_order_id: PurchaseOrderId
    line_no: int
    quantity: Decimal
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ContractPrice:
    id: ContractPriceId
    supplier_id: SupplierId
    item_id: str
    unit_price: Decimal
    currency: str
    valid_from: date
    valid_to: date  # inclusive

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day <= self.valid_to


def open_quantity(*, ordered: Decimal, billed: Decimal) -> Decimal:
    """What a PO line has left to bill; over-billing (OVER_BILLED) leaves nothing, not less."""
    return max(ordered - billed, Decimal(0))
