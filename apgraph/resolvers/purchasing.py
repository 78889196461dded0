"""Purchase-order lookups and the PO check partners run before billing."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, CanonicalId, First
from apgraph.schema.context import Context, Info
from apgraph.schema.errors import parse_id, parse_optional_id
from apgraph.schema.pagination import page_request
from apgraph.schema.purchasing import (
    PurchaseOrderConnection,
    PurchaseOrderFilterInput,
    PurchaseOrderType,
    PurchaseOrderValidationType,
    ValidatePurchaseOrderInput,
)
from apgraph.schema.validation import reasons_of
from apgraph.services import master_data
from apgraph.services.ports.reads import PurchaseOrderFilter


async def purchase_order(info: Info, id: CanonicalId) -> PurchaseOrderType | None:
    return await purchase_order_by_id(info.context, id)


async def purchase_order_by_id(context: Context, id: str) -> PurchaseOrderType | None:
    found = await context.loaders.purchase_orders.load(
        parse_id(ids.purchase_order, id, argument="id")
    )
    return PurchaseOrderType.from_domain(found) if found else None


async def purchase_orders(
    info: Info,
    filter: Annotated[
        PurchaseOrderFilterInput | None,
        strawberry.argument(description="Which purchase orders; omit for all."),
    ] = None,
    first: First = None,
    after: After = None,
) -> PurchaseOrderConnection | None:
    return await purchase_order_page(info.context, filter, first, after)


async def purchase_order_page(
    ctx: Context,
    filter: PurchaseOrderFilterInput | None = None,
    first: int | None = None,
    after: str | None = None,
) -> PurchaseOrderConnection:
    given = filter or PurchaseOrderFilterInput()
    where = PurchaseOrderFilter(
        statuses=frozenset(given.status) if given.status else None,
        supplier_id=parse_optional_id(
            ids.supplier, given.supplier_id, argument="filter.supplierId"
        ),
        facility_id=parse_optional_id(
            ids.facility, given.facility_id, argument="filter.facilityId"
        ),
        open_to_bill=given.open_to_bill,
    )
    page = page_request(first, after, kind=EntityKind.PURCHASE_ORDER, limits=ctx.page_limits)
    found = await ctx.store.purchase_orders.page(where, page)
    return PurchaseOrderConnection.build(
        found,
        to_node=PurchaseOrderType.from_domain,
        id_of=lambda o: o.id,
        count_all=lambda: ctx.store.purchase_orders.count(where),
    )


async def validate_purchase_order(
    info: Info,
    input: Annotated[
        ValidatePurchaseOrderInput,
        strawberry.argument(description="The PO and what to check it for."),
    ],
) -> PurchaseOrderValidationType | None:
    checked = await master_data.validate_purchase_order(
        purchase_order_id=parse_id(
            ids.purchase_order, input.purchase_order_id, argument="input.purchaseOrderId"
        ),
        supplier_id=parse_optional_id(ids.supplier, input.supplier_id, argument="input.supplierId"),
        facility_id=parse_optional_id(ids.facility, input.facility_id, argument="input.facilityId"),
        orders=info.context.store.purchase_orders,
    )
    return PurchaseOrderValidationType(
        valid=checked.valid,
        reasons=reasons_of(checked.reasons),
        purchase_order=PurchaseOrderType.from_domain(checked.found) if checked.found else None,
    )
