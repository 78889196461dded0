"""Example facts the domain tests build on: one hospital, one supplier, one PO, and variations.

Every builder takes keyword overrides, so a test states only what its rule is about.
"""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

from apgraph.domain.facilities import CostCenter
from apgraph.domain.ids import (
    ContractPriceId,
    CostCenterId,
    FacilityId,
    GoodsReceiptId,
    InvoiceId,
    PurchaseOrderId,
    SupplierId,
)
from apgraph.domain.invoices import Invoice, InvoiceLine, InvoiceStatus
from apgraph.domain.money import round_half_up
from apgraph.domain.purchasing import (
    Category,
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.submission import SubmittedInvoice, SubmittedLine
from apgraph.domain.suppliers import PaymentTerms, Supplier, SupplierStatus, TaxTreatment

FACILITY = FacilityId("FAC-0001")
COST_CENTER = CostCenterId("CC-0001-4410")
SUPPLIER = SupplierId("SUP-000001")
PO = PurchaseOrderId("PO-2026-000001")
SUBMITTER = "portal.sup-000001"
INVOICE_DATE = date(2026, 10, 20)
NOW = datetime(2026, 10, 21, 15, 0, tzinfo=UTC)


def d(value: str | int) -> Decimal:
    return Decimal(str(value))


def supplier(**changes: object) -> Supplier:
    base = Supplier(
        id=SUPPLIER,
        legal_name="Apex Medical Supply Inc.",
        tax_id="12-3456789",
        status=SupplierStatus.ACTIVE,
        payment_terms=PaymentTerms.NET30,
        tax_treatment=TaxTreatment.STANDARD,
        tax_rate=d("0.0825"),
        remit_to=None,
        contacts=(),
    )
    return replace(base, **changes)


def cost_center(**changes: object) -> CostCenter:
    base = CostCenter(
        id=COST_CENTER,
        facility_id=FACILITY,
        code="4410",
        name="Surgical Services",
        active=True,
        approvers=("approver.fac-0001", "approver2.fac-0001"),
    )
    return replace(base, **changes)


def order(**changes: object) -> PurchaseOrder:
    base = PurchaseOrder(
        id=PO,
        supplier_id=SUPPLIER,
        facility_id=FACILITY,
        cost_center_id=COST_CENTER,
        status=PurchaseOrderStatus.OPEN,
        currency="USD",
        ordered_on=date(2026, 9, 1),
    )
    return replace(base, **changes)


def order_line(line_no: int = 1, **changes: object) -> PurchaseOrderLine:
    base = PurchaseOrderLine(
        line_no=line_no,
        item_id=f"ITM-MS-1000{line_no}",
        description="Nitrile exam gloves, powder-free, medium",
        category=Category.MEDICAL_SUPPLIES,
        quantity=d(100),
        unit_of_measure="BX",
        unit_price=d("10.00"),
    )
    return replace(base, **changes)


def receipt(line_no: int = 1, quantity: str | int = 100, number: int = 1) -> GoodsReceipt:
    return GoodsReceipt(
        id=GoodsReceiptId(f"GR-{number:08d}"),
        purchase_order_id=PO,
        line_no=line_no,
        quantity=d(quantity),
        received_at=datetime(2026, 9, 10, 14, 0, tzinfo=UTC),
    )


def contract(
    price: str = "9.50",
    *,
    item_id: str = "ITM-MS-10001",
    valid_from: date = date(2026, 1, 1),
    valid_to: date = date(2026, 12, 31),
    number: int = 1,
    **changes: object,
) -> ContractPrice:
    base = ContractPrice(
        id=ContractPriceId(f"CT-{number:06d}"),
        supplier_id=SUPPLIER,
        item_id=item_id,
        unit_price=d(price),
        currency="USD",
        valid_from=valid_from,
        valid_to=valid_to,
    )
    return replace(base, **changes)


def invoice(number: int = 1, **changes: object) -> Invoice:
    base = Invoice(
        id=InvoiceId(f"INV-{number:08d}"),
        supplier_id=SUPPLIER,
        supplier_invoice_number=f"A-{1000 + number}",
        facility_id=FACILITY,
        cost_center_id=COST_CENTER,
        purchase_order_id=PO,
        invoice_date=INVOICE_DATE,
        due_date=date(2026, 11, 19),
        currency="USD",
        subtotal=d("1000.00"),
        tax=d("82.50"),
        total=d("1082.50"),
        status=InvoiceStatus.VALIDATED,
        submitted_by=SUBMITTER,
        received_at=datetime(2026, 10, 20, 12, number % 60, tzinfo=UTC),
        erp_document_ref=None,
    )
    return replace(base, **changes)


def line(
    line_no: int = 1,
    quantity: str | int = 100,
    unit_price: str = "10.00",
    *,
    po_line_no: int | None = None,
) -> InvoiceLine:
    qty, price = d(quantity), d(unit_price)
    return InvoiceLine(
        line_no=line_no,
        po_line_no=line_no if po_line_no is None else po_line_no,
        item_id=None,
        description="Nitrile exam gloves, powder-free, medium",
        quantity=qty,
        unit_of_measure="BX",
        unit_price=price,
        amount=round_half_up(qty * price, 2),
    )


def submitted_line(
    quantity: str | int = 100, unit_price: str = "10.00", *, po_line_no: int | None = 1, **changes
) -> SubmittedLine:
    qty, price = d(quantity), d(unit_price)
    base = SubmittedLine(
        po_line_no=po_line_no,
        description="Nitrile exam gloves, powder-free, medium",
        quantity=qty,
        unit_of_measure="BX",
        unit_price=price,
        amount=round_half_up(qty * price, 2),
    )
    return replace(base, **changes)


def submitted(*lines: SubmittedLine, tax: str | None = None, **changes: object) -> SubmittedInvoice:
    """Lines that add up, and tax at the example supplier's 8.25 %, unless told otherwise."""
    lines = lines or (submitted_line(),)
    subtotal = sum((item.amount for item in lines), Decimal("0.00"))
    billed_tax = d(tax) if tax is not None else round_half_up(subtotal * d("0.0825"), 2)
    base = SubmittedInvoice(
        supplier_id=SUPPLIER,
        supplier_invoice_number="A-2001",
        facility_id=FACILITY,
        cost_center_id=COST_CENTER,
        purchase_order_id=PO,
        invoice_date=INVOICE_DATE,
        currency="USD",
        subtotal=subtotal,
        tax=billed_tax,
        total=subtotal + billed_tax,
        lines=tuple(lines),
    )
    return replace(base, **changes)
