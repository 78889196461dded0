"""Purchase orders, their lines, and what materials management received against them."""

import datetime
from decimal import Decimal
from typing import Self

import strawberry

from apgraph.domain.money import plain
from apgraph.domain.purchasing import GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from apgraph.schema.context import Info
from apgraph.schema.enums import Category, PurchaseOrderStatus
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.relations import cost_center_of, facility_of, supplier_of
from apgraph.schema.suppliers import SupplierType
from apgraph.schema.validation import ValidationReasonType


@strawberry.type(name="GoodsReceipt", description="Goods or services confirmed as received.")
class GoodsReceiptType:
    id: strawberry.ID
    line_no: int
    quantity: Decimal
    received_at: datetime.datetime

    @classmethod
    def from_domain(cls, receipt: GoodsReceipt) -> Self:
        return cls(
            id=strawberry.ID(receipt.id),
            line_no=receipt.line_no,
            quantity=plain(receipt.quantity),
            received_at=receipt.received_at,
        )


@strawberry.type(name="PurchaseOrderLine")
class PurchaseOrderLineType:
    line_no: int
    item_id: str
    description: str
    category: Category
    quantity: Decimal
    unit_of_measure: str
    unit_price: MoneyType

    @classmethod
    def from_domain(cls, line: PurchaseOrderLine, currency: str) -> Self:
        return cls(
            line_no=line.line_no,
            item_id=line.item_id,
            description=line.description,
            category=line.category,
            quantity=plain(line.quantity),
            unit_of_measure=line.unit_of_measure,
            unit_price=MoneyType.of(line.unit_price, currency),
        )


@strawberry.type(name="PurchaseOrder", description="What a facility ordered from a supplier.")
class PurchaseOrderType(Node):
    id: strawberry.ID
    status: PurchaseOrderStatus
    currency: str
    ordered_on: datetime.date
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

    supplier: SupplierType | None = strawberry.field(resolver=supplier_of)

    facility: FacilityType | None = strawberry.field(resolver=facility_of)

    cost_center: CostCenterType | None = strawberry.field(resolver=cost_center_of)

    @strawberry.field
    async def lines(self, info: Info) -> list[PurchaseOrderLineType]:
        found = await info.context.loaders.purchase_order_lines.load(str(self.id))
        return [PurchaseOrderLineType.from_domain(line, self.currency) for line in found]

    @strawberry.field(description="Receipts from materials management, oldest first.")
    async def goods_receipts(self, info: Info) -> list[GoodsReceiptType]:
        found = await info.context.loaders.goods_receipts.load(str(self.id))
        return [GoodsReceiptType.from_domain(receipt) for receipt in found]


@strawberry.type(name="PurchaseOrderConnection")
class PurchaseOrderConnection(Connection[PurchaseOrderType]):
    pass


@strawberry.input(name="PurchaseOrderFilter")
class PurchaseOrderFilterInput:
    status: list[PurchaseOrderStatus] | None = None
    supplier_id: strawberry.ID | None = None
    facility_id: strawberry.ID | None = None


@strawberry.input(name="ValidatePurchaseOrderInput")
class ValidatePurchaseOrderInput:
    purchase_order_id: strawberry.ID
    supplier_id: strawberry.ID | None = strawberry.field(
        default=None, description="Checked against the PO's supplier when given."
    )
    facility_id: strawberry.ID | None = strawberry.field(
        default=None, description="Checked against the PO's facility when given."
    )


@strawberry.type(name="PurchaseOrderValidation")
class PurchaseOrderValidationType:
    valid: bool
    reasons: list[ValidationReasonType]
    purchase_order: PurchaseOrderType | None
