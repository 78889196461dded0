"""Domain objects from bundle records, one builder per entity, with the rules of one record.

Rules that need more than one record (duplicates, references) are `consistency`'s job.
Lengths follow the store's columns, so a bundle that passes here also fits the tables.
"""

from dataclasses import dataclass

from apgraph.domain.bundle import BundleCode, FacilityEntry, VendorLink
from apgraph.domain.classified import is_masked
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    ContractPriceId,
    CostCenterId,
    EntityKind,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    SupplierId,
)
from apgraph.domain.purchasing import (
    Category,
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.suppliers import (
    BankAccount,
    Contact,
    PaymentTerms,
    Supplier,
    SupplierStatus,
    TaxTreatment,
)
from apgraph.services.bundles.fields import RATE_PLACES, Fields
from apgraph.services.bundles.layout import REMIT_TO

NAME = 200
ITEM_ID = 64
KEY = 32


def facility_entry(fields: Fields) -> FacilityEntry:
    """`erp` is the system of record: legacy until the migration reaches cloud (as gateway.yaml)."""
    entry = FacilityEntry(
        facility=Facility(
            id=FacilityId(fields.id("id", EntityKind.FACILITY)),
            name=fields.text("name", max_length=NAME),
            region=fields.text("region", max_length=100),
            timezone=fields.text("timezone", max_length=64),
        ),
        erp=fields.erp("erp"),
        migration=fields.enum("migration", MigrationMode),
    )
    expected = ErpRoute(entry.migration).system_of_record
    if fields.ok("erp", "migration") and entry.erp is not expected:
        fields.fail(
            "erp",
            BundleCode.INVALID_VALUE,
            f"migration {entry.migration.value} posts to the {expected.value} ERP, "
            f"so erp must be {expected.value}",
        )
    return entry


def cost_center(fields: Fields) -> CostCenter:
    """The ID spells the facility and the GL segment: CC-0001-4410 is FAC-0001's 4410."""
    center = CostCenter(
        id=CostCenterId(fields.id("id", EntityKind.COST_CENTER)),
        facility_id=FacilityId(fields.id("facility_id", EntityKind.FACILITY)),
        code=fields.text("code", max_length=16),
        name=fields.text("name", max_length=NAME),
        active=fields.boolean("active"),
        approvers=fields.names("approvers"),
    )
    expected = f"CC-{center.facility_id.removeprefix('FAC-')}-{center.code}"
    if fields.ok("id", "facility_id", "code") and center.id != expected:
        fields.fail(
            "id",
            BundleCode.INVALID_VALUE,
            f"{center.facility_id}'s segment {center.code} has the id {expected}",
        )
    return center


def supplier(fields: Fields) -> Supplier:
    """The bare supplier: contacts and vendor links come from their own records."""
    found = Supplier(
        id=SupplierId(fields.id("id", EntityKind.SUPPLIER)),
        legal_name=fields.text("legal_name", max_length=300),
        tax_id=fields.text("tax_id", max_length=KEY),
        status=fields.enum("status", SupplierStatus),
        payment_terms=fields.enum("payment_terms", PaymentTerms),
        tax_treatment=fields.enum("tax_treatment", TaxTreatment),
        tax_rate=fields.decimal("tax_rate", places=RATE_PLACES),
        remit_to=_bank_account(fields),
        contacts=(),
    )
    bank = found.remit_to
    given = {"tax_id": found.tax_id}
    if bank is not None:
        given |= {REMIT_TO[1]: bank.routing_number, REMIT_TO[2]: bank.account_number}
    for column, value in given.items():
        if is_masked(value):
            fields.fail(
                column,
                BundleCode.INVALID_VALUE,
                "a masked value (from an export without --include-classified) cannot be "
                "imported: it would replace the real one",
            )
    if not fields.ok("tax_rate"):
        return found
    if not 0 <= found.tax_rate <= 1:
        fields.fail(
            "tax_rate",
            BundleCode.INVALID_AMOUNT,
            f"{found.tax_rate} is not a fraction from 0 to 1 (8.25 % is written 0.0825)",
        )
    elif fields.ok("tax_treatment") and (
        found.tax_treatment is TaxTreatment.EXEMPT and found.tax_rate != 0
    ):
        fields.fail("tax_rate", BundleCode.INVALID_VALUE, "an EXEMPT supplier's tax_rate is 0")
    return found


def _bank_account(fields: Fields) -> BankAccount | None:
    """All three parts or none: a half-given account would pay nobody."""
    if not any(fields.has(column) for column in REMIT_TO):
        return None
    bank_name, routing, account = REMIT_TO
    return BankAccount(
        bank_name=fields.text(bank_name, max_length=NAME),
        routing_number=fields.text(routing, max_length=KEY),
        account_number=fields.text(account, max_length=64),
    )


def contact(fields: Fields) -> tuple[SupplierId, Contact]:
    email = fields.text("email", max_length=320)
    if email and "@" not in email:
        fields.fail("email", BundleCode.INVALID_VALUE, f"{email!r} is not an email address")
    return SupplierId(fields.id("supplier_id", EntityKind.SUPPLIER)), Contact(
        name=fields.text("name", max_length=NAME),
        email=email,
        phone=fields.optional_text("phone", max_length=64),
        role=fields.text("role", max_length=100),
    )


def vendor_link(fields: Fields) -> tuple[SupplierId, VendorLink]:
    return SupplierId(fields.id("supplier_id", EntityKind.SUPPLIER)), VendorLink(
        system=fields.erp("system"),
        vendor_key=fields.text("vendor_key", max_length=64),
    )


def purchase_order(fields: Fields) -> PurchaseOrder:
    order = PurchaseOrder(
        id=PurchaseOrderId(fields.id("id", EntityKind.PURCHASE_ORDER)),
        supplier_id=SupplierId(fields.id("supplier_id", EntityKind.SUPPLIER)),
        facility_id=FacilityId(fields.id("facility_id", EntityKind.FACILITY)),
        cost_center_id=CostCenterId(fields.id("cost_center_id", EntityKind.COST_CENTER)),
        status=fields.enum("status", PurchaseOrderStatus),
        currency=fields.currency("currency"),
        ordered_on=fields.date("ordered_on"),
    )
    facility_digits = order.facility_id.removeprefix("FAC-")
    if fields.ok("facility_id", "cost_center_id") and not order.cost_center_id.startswith(
        f"CC-{facility_digits}-"
    ):
        fields.fail(
            "cost_center_id",
            BundleCode.INVALID_VALUE,
            f"{order.cost_center_id} is not a cost center of {order.facility_id}",
        )
    return order


@dataclass(frozen=True, slots=True)
class LineRecord:
    """A PO line with the keys that place it; `currency` is None when the row leaves it out."""

    purchase_order_id: PurchaseOrderId
    line: PurchaseOrderLine
    currency: str | None


def purchase_order_line(fields: Fields) -> LineRecord:
    line = PurchaseOrderLine(
        line_no=fields.line_no("line_no"),
        item_id=fields.text("item_id", max_length=ITEM_ID),
        description=fields.text("description", max_length=300),
        category=fields.enum("category", Category),
        quantity=fields.quantity("quantity"),
        unit_of_measure=fields.text("unit_of_measure", max_length=16),
        unit_price=fields.amount("unit_price"),
    )
    currency = fields.currency("currency") if fields.has("currency") else None
    order_id = PurchaseOrderId(fields.id("purchase_order_id", EntityKind.PURCHASE_ORDER))
    return LineRecord(order_id, line, currency)


def goods_receipt(fields: Fields) -> GoodsReceipt:
    return GoodsReceipt(
        id=GoodsReceiptId(fields.id("id", EntityKind.GOODS_RECEIPT)),
        purchase_order_id=PurchaseOrderId(
            fields.id("purchase_order_id", EntityKind.PURCHASE_ORDER)
        ),
        line_no=fields.line_no("line_no"),
        quantity=fields.quantity("quantity"),
        received_at=fields.timestamp("received_at"),
    )


def contract_price(fields: Fields) -> ContractPrice:
    """Valid from and to, both inclusive: a one-day contract has valid_to = valid_from."""
    contract = ContractPrice(
        id=ContractPriceId(fields.id("id", EntityKind.CONTRACT_PRICE)),
        supplier_id=SupplierId(fields.id("supplier_id", EntityKind.SUPPLIER)),
        item_id=fields.text("item_id", max_length=ITEM_ID),
        unit_price=fields.amount("unit_price"),
        currency=fields.currency("currency"),
        valid_from=fields.date("valid_from"),
        valid_to=fields.date("valid_to"),
    )
    if fields.ok("valid_from", "valid_to") and contract.valid_to < contract.valid_from:
        fields.fail(
            "valid_to",
            BundleCode.DATE_RANGE,
            f"valid_to {contract.valid_to} precedes valid_from {contract.valid_from}",
        )
    return contract
