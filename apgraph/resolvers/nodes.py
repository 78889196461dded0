"""`node(id)`: any major object by its canonical ID; the prefix says which loader to ask."""

import strawberry

from apgraph.domain.ids import EntityKind, kind_of
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.invoices import InvoiceType
from apgraph.schema.node import Node
from apgraph.schema.payments import PaymentType
from apgraph.schema.purchasing import PurchaseOrderType
from apgraph.schema.suppliers import SupplierType
from apgraph.schema.viewer import ViewerType


async def node(info: Info, id: strawberry.ID) -> Node | None:
    kind = kind_of(id)
    if kind is None:
        raise BadUserInput(f"{id!r} is not a canonical apgraph id", argument="id")
    loaders = info.context.loaders
    match kind:
        case EntityKind.FACILITY:
            facility = await loaders.facilities.load(id)
            return FacilityType.from_domain(facility) if facility else None
        case EntityKind.COST_CENTER:
            cost_center = await loaders.cost_centers.load(id)
            return CostCenterType.from_domain(cost_center) if cost_center else None
        case EntityKind.SUPPLIER:
            supplier = await loaders.suppliers.load(id)
            return (
                SupplierType.for_principal(supplier, info.context.principal) if supplier else None
            )
        case EntityKind.PURCHASE_ORDER:
            order = await loaders.purchase_orders.load(id)
            return PurchaseOrderType.from_domain(order) if order else None
        case EntityKind.INVOICE:
            invoice = await loaders.invoices.load(id)
            return InvoiceType.from_domain(invoice) if invoice else None
        case EntityKind.PAYMENT:
            payment = await loaders.payments.load(id)
            return PaymentType.from_domain(payment) if payment else None
    return None  # receipts, contract prices and attachments are reached through their parents


def viewer(info: Info) -> ViewerType:
    return ViewerType.from_principal(info.context.principal)
