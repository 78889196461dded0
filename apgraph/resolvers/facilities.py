"""Facility and cost-center lookups, and the cost-center check partners run."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, CanonicalId, FacilityIdArgument, First
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput, parse_id
from apgraph.schema.facilities import (
    CostCenterType,
    CostCenterValidationType,
    FacilityConnection,
    FacilityType,
)
from apgraph.schema.pagination import page_request
from apgraph.schema.validation import reasons_of
from apgraph.services import master_data


async def facility(info: Info, id: CanonicalId) -> FacilityType | None:
    found = await info.context.loaders.facilities.load(parse_id(ids.facility, id, argument="id"))
    return FacilityType.from_domain(found) if found else None


async def facilities(
    info: Info, first: First = None, after: After = None
) -> FacilityConnection | None:
    ctx = info.context
    page = page_request(first, after, kind=EntityKind.FACILITY, limits=ctx.page_limits)
    found = await ctx.store.facilities.page(page)
    return FacilityConnection.build(
        found,
        to_node=FacilityType.from_domain,
        id_of=lambda f: f.id,
        count_all=ctx.store.facilities.count,
    )


async def cost_center(info: Info, id: CanonicalId) -> CostCenterType | None:
    found = await info.context.loaders.cost_centers.load(
        parse_id(ids.cost_center, id, argument="id")
    )
    return CostCenterType.from_domain(found) if found else None


async def validate_cost_center(
    info: Info,
    facility_id: FacilityIdArgument,
    code: Annotated[str, strawberry.argument(description="The GL segment, e.g. 4410.")],
) -> CostCenterValidationType | None:
    if not code.isdigit() or len(code) != 4:
        raise BadUserInput(f"`code` must be a 4-digit GL segment, got {code!r}", argument="code")
    checked = await master_data.validate_cost_center(
        facility_id=parse_id(ids.facility, facility_id, argument="facilityId"),
        code=code,
        facilities=info.context.store.facilities,
    )
    return CostCenterValidationType(
        valid=checked.valid,
        reasons=reasons_of(checked.reasons),
        cost_center=CostCenterType.from_domain(checked.found) if checked.found else None,
    )
