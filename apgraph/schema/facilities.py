"""Facilities and cost centers."""

from typing import Self

import strawberry

from apgraph.domain.facilities import CostCenter, Facility
from apgraph.schema.context import Info
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.validation import ValidationReasonType


@strawberry.type(name="CostCenter", description="A facility's GL segment that spend is charged to.")
class CostCenterType(Node):
    id: strawberry.ID
    code: str
    name: str
    active: bool
    facility_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, cost_center: CostCenter) -> Self:
        return cls(
            id=strawberry.ID(cost_center.id),
            code=cost_center.code,
            name=cost_center.name,
            active=cost_center.active,
            facility_id=cost_center.facility_id,
        )

    @strawberry.field
    async def facility(self, info: Info) -> "FacilityType | None":
        found = await info.context.loaders.facilities.load(self.facility_id)
        return FacilityType.from_domain(found) if found else None


@strawberry.type(name="Facility", description="A hospital or clinic of the network.")
class FacilityType(Node):
    id: strawberry.ID
    name: str
    region: str
    timezone: str = strawberry.field(description="IANA time zone, used for due dates.")

    @classmethod
    def from_domain(cls, facility: Facility) -> Self:
        return cls(
            id=strawberry.ID(facility.id),
            name=facility.name,
            region=facility.region,
            timezone=facility.timezone,
        )

    @strawberry.field
    async def cost_centers(self, info: Info) -> list[CostCenterType]:
        found = await info.context.loaders.cost_centers_of_facility.load(str(self.id))
        return [CostCenterType.from_domain(c) for c in found]


@strawberry.type(name="FacilityConnection")
class FacilityConnection(Connection[FacilityType]):
    pass


@strawberry.type(name="CostCenterValidation")
class CostCenterValidationType:
    valid: bool
    reasons: list[ValidationReasonType]
    cost_center: CostCenterType | None = strawberry.field(
        description="The cost center when it exists at that facility, active or not."
    )
