"""Supplier master lookups."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, CanonicalId, First
from apgraph.schema.context import Context, Info
from apgraph.schema.errors import parse_id
from apgraph.schema.pagination import page_request
from apgraph.schema.suppliers import SupplierConnection, SupplierFilterInput, SupplierType
from apgraph.services.ports.reads import SupplierFilter


async def supplier(info: Info, id: CanonicalId) -> SupplierType | None:
    return await supplier_by_id(info.context, id)


async def supplier_by_id(context: Context, id: str) -> SupplierType | None:
    found = await context.loaders.suppliers.load(parse_id(ids.supplier, id, argument="id"))
    return SupplierType.from_domain(found) if found else None


async def suppliers(
    info: Info,
    filter: Annotated[
        SupplierFilterInput | None,
        strawberry.argument(description="Which suppliers; omit for all."),
    ] = None,
    first: First = None,
    after: After = None,
) -> SupplierConnection | None:
    return await supplier_page(info.context, filter, first, after)


async def supplier_page(
    ctx: Context,
    filter: SupplierFilterInput | None = None,
    first: int | None = None,
    after: str | None = None,
) -> SupplierConnection:
    where = SupplierFilter(
        statuses=frozenset(filter.status) if filter and filter.status else None,
        name_contains=filter.name_contains if filter else None,
    )
    page = page_request(first, after, kind=EntityKind.SUPPLIER, limits=ctx.page_limits)
    found = await ctx.store.suppliers.page(where, page)
    return SupplierConnection.build(
        found,
        to_node=lambda s: SupplierType.from_domain(s),
        id_of=lambda s: s.id,
        count_all=lambda: ctx.store.suppliers.count(where),
    )
