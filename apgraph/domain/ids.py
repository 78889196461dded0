"""Canonical, prefixed IDs: parsed once at the edge, plain strings everywhere inside.

The prefix names the entity (DESIGN §3), so a GraphQL `ID` is the canonical ID unchanged and
an ERP's own keys never appear here (they live in the connectors' cross-reference tables).
"""

import re
from enum import Enum
from typing import NewType

FacilityId = NewType("FacilityId", str)
CostCenterId = NewType("CostCenterId", str)
SupplierId = NewType("SupplierId", str)
PurchaseOrderId = NewType("PurchaseOrderId", str)
GoodsReceiptId = NewType("GoodsReceiptId", str)
ContractPriceId = NewType("ContractPriceId", str)
InvoiceId = NewType("InvoiceId", str)
PaymentId = NewType("PaymentId", str)
PaymentRunId = NewType("PaymentRunId", str)
AttachmentId = NewType("AttachmentId", str)


class EntityKind(Enum):
    """Each kind with the exact shape of its canonical ID."""

    FACILITY = ("FAC", r"FAC-\d{4}", "FAC-0001")
    COST_CENTER = ("CC", r"CC-\d{4}-\d{4}", "CC-0001-4410")
    SUPPLIER = ("SUP", r"SUP-\d{6}", "SUP-000123")
    PURCHASE_ORDER = ("PO", r"PO-\d{4}-\d{6}", "PO-2026-000456")
    GOODS_RECEIPT = ("GR", r"GR-\d{8}", "GR-00000001")
    CONTRACT_PRICE = ("CT", r"CT-\d{6}", "CT-000001")
    INVOICE = ("INV", r"INV-\d{8}", "INV-00000001")
    PAYMENT = ("PAY", r"PAY-\d{8}", "PAY-00000001")
    PAYMENT_RUN = ("RUN", r"RUN-\d{8}", "RUN-00000001")
    ATTACHMENT = ("DOC", r"DOC-\d{8}", "DOC-00000001")
    DEAD_LETTER = ("DL", r"DL-\d{6,18}", "DL-000001")

    def __init__(self, prefix: str, pattern: str, example: str) -> None:
        self.prefix = prefix
        self.regex = re.compile(pattern)
        self.example = example

    def matches(self, raw: str) -> bool:
        return self.regex.fullmatch(raw) is not None


class InvalidId(ValueError):
    """A string that is not a well-formed canonical ID of the expected kind."""

    def __init__(self, kind: EntityKind, raw: str) -> None:
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        super().__init__(
            f"{shown!r} is not a valid {kind.name.lower().replace('_', ' ')} id "
            f"(expected the form {kind.example})"
        )
        self.kind = kind
        self.raw = raw


def _parse(kind: EntityKind, raw: str) -> str:
    if not kind.matches(raw):
        raise InvalidId(kind, raw)
    return raw


def facility(raw: str) -> FacilityId:
    return FacilityId(_parse(EntityKind.FACILITY, raw))


def cost_center(raw: str) -> CostCenterId:
    return CostCenterId(_parse(EntityKind.COST_CENTER, raw))


def supplier(raw: str) -> SupplierId:
    return SupplierId(_parse(EntityKind.SUPPLIER, raw))


def purchase_order(raw: str) -> PurchaseOrderId:
    return PurchaseOrderId(_parse(EntityKind.PURCHASE_ORDER, raw))


def invoice(raw: str) -> InvoiceId:
    return InvoiceId(_parse(EntityKind.INVOICE, raw))


def payment(raw: str) -> PaymentId:
    return PaymentId(_parse(EntityKind.PAYMENT, raw))


def payment_run(raw: str) -> PaymentRunId:
    return PaymentRunId(_parse(EntityKind.PAYMENT_RUN, raw))


def attachment(raw: str) -> AttachmentId:
    return AttachmentId(_parse(EntityKind.ATTACHMENT, raw))


def kind_of(raw: str) -> EntityKind | None:
    """The kind whose shape `raw` has, or None; used by the `node(id)` lookup."""
    return next((kind for kind in EntityKind if kind.matches(raw)), None)


def cost_center_for(facility_id: FacilityId, code: str) -> CostCenterId:
    """`CC-0001-4410` is facility 0001's GL segment 4410 (DESIGN §3)."""
    return cost_center(f"CC-{facility_id.removeprefix('FAC-')}-{code}")


def numbered(kind: EntityKind, number: int, *, year: int | None = None) -> str:
    """The canonical ID for a sequence number, e.g. numbered(INVOICE, 7) == 'INV-00000007'."""
    digits = len(kind.example.rsplit("-", 1)[1])
    if kind is EntityKind.PURCHASE_ORDER and year is None:
        raise ValueError("a purchase order id needs its year")
    middle = f"{year:04d}-" if kind is EntityKind.PURCHASE_ORDER else ""
    return _parse(kind, f"{kind.prefix}-{middle}{number:0{digits}d}")
