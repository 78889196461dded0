"""`node(id)`: any major object by its canonical ID; the prefix says which loader to ask."""

from collections.abc import Callable
from typing import Any

from apgraph.domain.ids import EntityKind, kind_of
from apgraph.schema.arguments import CanonicalId
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.invoices import InvoiceType
from apgraph.schema.loaders import Loaders
from apgraph.schema.node import Node
from apgraph.schema.payments import PaymentType
from apgraph.schema.purchasing import PurchaseOrderType
from apgraph.schema.suppliers import SupplierType
from apgraph.schema.viewer import ViewerType

# kind → (the loader to ask, the GraphQL type it becomes)
NODES: dict[EntityKind, tuple[Callable[[Loaders], Any], Any]] = {
    EntityKind.FACILITY: (lambda loaders: loaders.facilities, FacilityType),
    EntityKind.COST_CENTER: (lambda loaders: loaders.cost_centers, CostCenterType),
    EntityKind.SUPPLIER: (lambda loaders: loaders.suppliers, SupplierType),
    EntityKind.PURCHASE_ORDER: (lambda loaders: loaders.purchase_orders, PurchaseOrderType),
    EntityKind.INVOICE: (lambda loaders: loaders.invoices, InvoiceType),
    EntityKind.PAYMENT: (lambda loaders: loaders.payments, PaymentType),
}


async def node(info: Info, id: CanonicalId) -> Node | None:
    """A type the caller may not read answers like an unknown ID: null."""
    kind = kind_of(id)
    if kind is None:
        raise BadUserInput(f"{id!r} is not a canonical apgraph id", argument="id")
    if kind not in NODES:
        return None  # receipts, contract prices and attachments are reached through parents
    loader_of, node_type = NODES[kind]
    if not info.context.may_read(node_type.__strawberry_definition__.name):
        return None
    found = await loader_of(info.context.loaders).load(id)
    return node_type.from_domain(found) if found else None  # type: ignore[no-any-return]


def viewer(info: Info) -> ViewerType:
    return ViewerType.from_principal(info.context.principal)
