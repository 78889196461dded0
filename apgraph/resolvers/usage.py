"""productUsage: who still calls which API product version (operators)."""

import datetime
from typing import Annotated

import strawberry

from apgraph.schema.context import Info
from apgraph.schema.usage import ProductUsageType


async def product_usage(
    info: Info,
    product: Annotated[
        str | None, strawberry.argument(description='e.g. "supplier-portal"; omit for all.')
    ] = None,
    version: Annotated[
        str | None, strawberry.argument(description='e.g. "v1"; omit for all.')
    ] = None,
    since: Annotated[
        datetime.datetime | None,
        strawberry.argument(description="Only usage from this moment on (UTC); omit for all."),
    ] = None,
) -> list[ProductUsageType] | None:
    totals = await info.context.store.usage.totals(product=product, version=version, since=since)
    return [ProductUsageType.from_domain(total) for total in totals]
