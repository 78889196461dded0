"""Payment lookups and lists."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, CanonicalId, First
from apgraph.schema.context import Info
from apgraph.schema.dates import date_range
from apgraph.schema.errors import parse_id, parse_optional_id
from apgraph.schema.pagination import page_request
from apgraph.schema.payments import PaymentConnection, PaymentFilterInput, PaymentType
from apgraph.services.ports.reads import PaymentFilter


async def payment(info: Info, id: CanonicalId) -> PaymentType | None:
    found = await info.context.loaders.payments.load(parse_id(ids.payment, id, argument="id"))
    return PaymentType.from_domain(found) if found else None


async def payments(
    info: Info,
    filter: Annotated[
        PaymentFilterInput | None, strawberry.argument(description="Which payments; omit for all.")
    ] = None,
    first: First = None,
    after: After = None,
) -> PaymentConnection | None:
    ctx = info.context
    given = filter or PaymentFilterInput()
    where = PaymentFilter(
        statuses=frozenset(given.status) if given.status else None,
        supplier_id=parse_optional_id(
            ids.supplier, given.supplier_id, argument="filter.supplierId"
        ),
        scheduled_dates=date_range(given.scheduled, argument="filter.scheduled"),
    )
    page = page_request(first, after, kind=EntityKind.PAYMENT, limits=ctx.page_limits)
    found = await ctx.store.payments.page(where, page)
    return PaymentConnection.build(
        found,
        to_node=PaymentType.from_domain,
        id_of=lambda p: p.id,
        count_all=lambda: ctx.store.payments.count(where),
    )
