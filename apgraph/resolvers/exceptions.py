"""The exception queue: what waits for an approver, how long it has waited, and why."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.aging import aging
from apgraph.domain.codes import MatchCode
from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, FacilityScope, First
from apgraph.schema.context import Info
from apgraph.schema.errors import parse_optional_id
from apgraph.schema.exceptions import AgingBucketTotalType, ExceptionReasonCountType
from apgraph.schema.invoices import InvoiceConnection, InvoiceType
from apgraph.schema.pagination import page_request
from apgraph.services.ports.reads import ExceptionFilter


async def _filter(
    info: Info, facility_id: strawberry.ID | None, reason: MatchCode | None, assigned_to: str | None
) -> ExceptionFilter:
    """`assigned_to`: an approver's user id; their queue is what is currently assigned to them
    (reassignException), plus what was never assigned at the cost centers they approve for."""
    cost_center_ids = None
    if assigned_to is not None:
        approved = await info.context.store.facilities.cost_centers_approved_by(assigned_to)
        cost_center_ids = frozenset(c.id for c in approved)
    return ExceptionFilter(
        facility_id=parse_optional_id(ids.facility, facility_id, argument="facilityId"),
        reason=reason.value if reason else None,
        cost_center_ids=cost_center_ids,
        assignee=assigned_to,
    )


async def exception_queue(
    info: Info,
    facility_id: FacilityScope = None,
    reason: Annotated[
        MatchCode | None, strawberry.argument(description="Only exceptions with this reason code.")
    ] = None,
    assigned_to: Annotated[
        str | None,
        strawberry.argument(
            description="An approver's user name: the exceptions in their queue (assigned to them, "
            "or waiting for every approver of their cost centers)."
        ),
    ] = None,
    first: First = None,
    after: After = None,
) -> InvoiceConnection | None:
    ctx = info.context
    where = await _filter(info, facility_id, reason, assigned_to)
    page = page_request(first, after, kind=EntityKind.INVOICE, limits=ctx.page_limits)
    found = await ctx.store.exceptions.page(where, page)
    return InvoiceConnection.build(
        found,
        to_node=InvoiceType.from_domain,
        id_of=lambda i: i.id,
        count_all=lambda: ctx.store.exceptions.count(where),
    )


async def invoice_aging(
    info: Info, facility_id: FacilityScope = None
) -> list[AgingBucketTotalType] | None:
    where = await _filter(info, facility_id, None, None)
    waiting = await info.context.store.exceptions.waiting(where)
    return [
        AgingBucketTotalType.from_domain(b) for b in aging(waiting, now=info.context.clock.now())
    ]


async def exception_reason_counts(
    info: Info, facility_id: FacilityScope = None
) -> list[ExceptionReasonCountType] | None:
    where = await _filter(info, facility_id, None, None)
    counted = await info.context.store.exceptions.reason_counts(where)
    return [ExceptionReasonCountType.from_domain(c) for c in counted]
