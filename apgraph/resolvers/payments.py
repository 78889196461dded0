"""Payment and payment-run lookups and lists, and the supplier's payment forecast."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind
from apgraph.domain.payments import forecast
from apgraph.schema.arguments import After, CanonicalId, First
from apgraph.schema.context import Info
from apgraph.schema.dates import date_range
from apgraph.schema.errors import parse_id, parse_optional_id
from apgraph.schema.money import MoneyType
from apgraph.schema.pagination import page_request
from apgraph.schema.payment_runs import (
    PaymentRunConnection,
    PaymentRunFilterInput,
    PaymentRunType,
)
from apgraph.schema.payments import (
    PaymentConnection,
    PaymentFilterInput,
    PaymentForecastEntryType,
    PaymentType,
)
from apgraph.services.ports.reads import PaymentFilter, PaymentRunFilter


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
        run_id=parse_optional_id(ids.payment_run, given.run_id, argument="filter.runId"),
        facility_id=parse_optional_id(
            ids.facility, given.facility_id, argument="filter.facilityId"
        ),
    )
    page = page_request(first, after, kind=EntityKind.PAYMENT, limits=ctx.page_limits)
    found = await ctx.store.payments.page(where, page)
    return PaymentConnection.build(
        found,
        to_node=PaymentType.from_domain,
        id_of=lambda p: p.id,
        count_all=lambda: ctx.store.payments.count(where),
    )


async def payment_run(info: Info, id: CanonicalId) -> PaymentRunType | None:
    """Null when unknown or not one of the caller's facilities (the same answer)."""
    found = await info.context.loaders.payment_runs.load(
        parse_id(ids.payment_run, id, argument="id")
    )
    return PaymentRunType.from_domain(found) if found else None


async def payment_runs(
    info: Info,
    filter: Annotated[
        PaymentRunFilterInput | None,
        strawberry.argument(description="Which payment runs; omit for all you may see."),
    ] = None,
    first: First = None,
    after: After = None,
) -> PaymentRunConnection | None:
    ctx = info.context
    given = filter or PaymentRunFilterInput()
    where = PaymentRunFilter(
        statuses=frozenset(given.status) if given.status else None,
        facility_id=parse_optional_id(
            ids.facility, given.facility_id, argument="filter.facilityId"
        ),
        pay_dates=date_range(given.pay_date, argument="filter.payDate"),
    )
    page = page_request(first, after, kind=EntityKind.PAYMENT_RUN, limits=ctx.page_limits)
    found = await ctx.store.payment_runs.page(where, page)
    return PaymentRunConnection.build(
        found,
        to_node=PaymentRunType.from_domain,
        id_of=lambda r: r.id,
        count_all=lambda: ctx.store.payment_runs.count(where),
    )


async def payment_forecast(
    info: Info,
    supplier_id: Annotated[
        strawberry.ID, strawberry.argument(description="The supplier, SUP-…; a supplier's own.")
    ],
) -> list[PaymentForecastEntryType]:
    """Empty for a supplier the caller may not see, as for one with nothing open."""
    chosen = parse_id(ids.supplier, supplier_id, argument="supplierId")
    found = await info.context.store.payments.open_of_supplier(chosen)
    return [
        PaymentForecastEntryType(
            pay_date=line.pay_date,
            amount=MoneyType.of(line.amount, line.currency),
            payments=line.payments,
            held=line.held,
        )
        for line in forecast(found)
    ]
