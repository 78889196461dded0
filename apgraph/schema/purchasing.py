"""Purchase orders, their lines, and what materials management received against them."""

import datetime
from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.money import plain
from apgraph.domain.purchasing import (
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    open_quantity,
)
from apgraph.schema.batched import Loaded, batched, stored_field
from apgraph.schema.context import Info
from apgraph.schema.enums import Category, PurchaseOrderStatus
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.relations import (
    COST_CENTER,
    FACILITY,
    SUPPLIER,
    cost_center_of,
    facility_of,
    supplier_of,
)
from apgraph.schema.suppliers import SupplierType
from apgraph.schema.validation import ValidationReasonType


@strawberry.type(name="GoodsReceipt", description="Goods or services confirmed as received.")
class GoodsReceiptType:
    id: strawberry.ID = strawberry.field(description="Canonical ID, GR-….")
    line_no: int = strawberry.field(description="The PO line received against.")
    quantity: Decimal = strawberry.field(description="Received, in the PO line unit of measure.")
    received_at: datetime.datetime = strawberry.field(
        description="When materials management recorded it (UTC)."
    )

    @classmethod
    def from_domain(cls, receipt: GoodsReceipt) -> Self:
        return cls(
            id=strawberry.ID(receipt.id),
            line_no=receipt.line_no,
            quantity=plain(receipt.quantity),
            received_at=receipt.received_at,
        )


@strawberry.type(name="PurchaseOrderLine", description="One ordered item of a PO.")
class PurchaseOrderLineType:
    line_no: int = strawberry.field(description="1, 2, … within the PO.")
    item_id: str = strawberry.field(description="The catalog item ordered.")
    description: str = strawberry.field(description="The item text.")
    category: Category = strawberry.field(description="Decides the matching tolerances.")
    quantity: Decimal = strawberry.field(description="Ordered, in unitOfMeasure.")
    unit_of_measure: str = strawberry.field(description="e.g. EA, BX, CS, HR.")
    unit_price: MoneyType = strawberry.field(description="The agreed price per unit.")
    purchase_order_id: strawberry.Private[str]
    ordered: strawberry.Private[Decimal]

    @strawberry.field(
        description="Received in all so far (goods receipts from materials management), in "
        "unitOfMeasure."
    )
    async def received_quantity(self, info: Info) -> Decimal:
        receipts = await info.context.loaders.goods_receipts.load(self.purchase_order_id)
        return plain(sum((r.quantity for r in receipts if r.line_no == self.line_no), Decimal(0)))

    @strawberry.field(
        description="Billed in all so far: every invoice on this line but rejected ones (the "
        "cumulative quantity the match checks), in unitOfMeasure."
    )
    async def billed_quantity(self, info: Info) -> Decimal:
        return plain(await self._billed(info))

    @strawberry.field(
        description="Still to bill: ordered minus billed, never below 0. A PO with any line "
        "open is found with purchaseOrders(filter: {openToBill: true})."
    )
    async def open_quantity(self, info: Info) -> Decimal:
        return plain(open_quantity(ordered=self.ordered, billed=await self._billed(info)))

    async def _billed(self, info: Info) -> Decimal:
        billed = await info.context.loaders.billed_quantities.load(self.purchase_order_id)
        return next((b.quantity for b in billed if b.line_no == self.line_no), Decimal(0))

    @classmethod
    def from_domain(cls, line: PurchaseOrderLine, currency: str, purchase_order_id: str) -> Self:
        return cls(
            line_no=line.line_no,
            item_id=line.item_id,
            description=line.description,
            category=line.category,
            quantity=plain(line.quantity),
            unit_of_measure=line.unit_of_measure,
            unit_price=MoneyType.of(line.unit_price, currency),
            purchase_order_id=purchase_order_id,
            ordered=line.quantity,
        )


ORDER_LINES: Loaded["PurchaseOrderType", list[PurchaseOrderLine], list[PurchaseOrderLineType]] = (
    Loaded(
        key=lambda order: str(order.id),
        loader=lambda loaders: loaders.purchase_order_lines,
        build=lambda order, found: [
            PurchaseOrderLineType.from_domain(line, order.currency, str(order.id))
            for line in found or ()
        ],
    )
)


@strawberry.type(name="PurchaseOrder", description="What a facility ordered from a supplier.")
class PurchaseOrderType(Node):
    id: strawberry.ID = stored_field("Canonical ID, PO-2026-000456.")
    status: PurchaseOrderStatus = stored_field("Where the order stands.")
    currency: str = stored_field("ISO 4217 code its invoices must use.")
    ordered_on: datetime.date = stored_field("The order date.")
    supplier_id: strawberry.Private[str]
    facility_id: strawberry.Private[str]
    cost_center_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, order: PurchaseOrder) -> Self:
        return cls(
            id=strawberry.ID(order.id),
            status=order.status,
            currency=order.currency,
            ordered_on=order.ordered_on,
            supplier_id=order.supplier_id,
            facility_id=order.facility_id,
            cost_center_id=order.cost_center_id,
        )

    supplier: SupplierType | None = strawberry.field(
        resolver=supplier_of,
        metadata=batched(SUPPLIER),
        description="The supplier it was placed with.",
    )

    facility: FacilityType | None = strawberry.field(
        resolver=facility_of, metadata=batched(FACILITY), description="The ordering facility."
    )

    cost_center: CostCenterType | None = strawberry.field(
        resolver=cost_center_of,
        metadata=batched(COST_CENTER),
        description="The cost center it is charged to.",
    )

    @strawberry.field(description="Its lines, in line order.", metadata=batched(ORDER_LINES))
    async def lines(self, info: Info) -> list[PurchaseOrderLineType]:
        return await ORDER_LINES.resolve(self, info.context)

    @strawberry.field(description="Receipts from materials management, oldest first.")
    async def goods_receipts(self, info: Info) -> list[GoodsReceiptType]:
        found = await info.context.loaders.goods_receipts.load(str(self.id))
        return [GoodsReceiptType.from_domain(receipt) for receipt in found]


@strawberry.type(name="PurchaseOrderConnection", description="A page of purchase orders.")
class PurchaseOrderConnection(Connection[PurchaseOrderType]):
    pass


@strawberry.input(name="PurchaseOrderFilter", description="Every given criterion must hold.")
class PurchaseOrderFilterInput:
    status: list[PurchaseOrderStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    supplier_id: strawberry.ID | None = strawberry.field(default=None, description="SUP-… ID.")
    facility_id: strawberry.ID | None = strawberry.field(default=None, description="FAC-… ID.")
    open_to_bill: bool | None = strawberry.field(
        default=None,
        description="True: only POs that take invoices and have a line with something left to "
        "bill (ordered > billed); false: only those with nothing left; omit for both.",
    )


@strawberry.input(name="ValidatePurchaseOrderInput", description="The PO to check, and for whom.")
class ValidatePurchaseOrderInput:
    purchase_order_id: strawberry.ID = strawberry.field(description="The PO, PO-2026-000456.")
    supplier_id: strawberry.ID | None = strawberry.field(
        default=None, description="Checked against the PO's supplier when given."
    )
    facility_id: strawberry.ID | None = strawberry.field(
        default=None, description="Checked against the PO's facility when given."
    )


@strawberry.type(name="PurchaseOrderValidation", description="validatePurchaseOrder's answer.")
class PurchaseOrderValidationType:
    valid: bool = strawberry.field(
        description="True when the supplier may bill this PO at this facility."
    )
    reasons: list[ValidationReasonType] = strawberry.field(
        description="Every reason it may not; empty when valid."
    )
    purchase_order: PurchaseOrderType | None = strawberry.field(
        description="The PO when it exists and the caller may see it."
    )
