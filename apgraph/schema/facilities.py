"""Facilities and cost centers."""

from typing import Self

import strawberry

from apgraph.domain.facilities import CostCenter, Facility
from apgraph.schema.batched import Loaded, batched, stored_field
from apgraph.schema.context import Info
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection
from apgraph.schema.validation import ValidationReasonType

FACILITY: Loaded["CostCenterType", Facility | None, "FacilityType | None"] = Loaded(
    key=lambda cost_center: cost_center.facility_id,
    loader=lambda loaders: loaders.facilities,
    build=lambda _, found: FacilityType.from_domain(found) if found else None,
    shared=True,
)
COST_CENTERS: Loaded["FacilityType", list[CostCenter], "list[CostCenterType]"] = Loaded(
    key=lambda facility: str(facility.id),
    loader=lambda loaders: loaders.cost_centers_of_facility,
    build=lambda _, found: [CostCenterType.from_domain(c) for c in found or ()],
    shared=True,
)


@strawberry.type(name="CostCenter", description="A facility's GL segment that spend is charged to.")
class CostCenterType(Node):
    id: strawberry.ID = stored_field(
        "Canonical ID, CC-<facility number>-<GL code>, e.g. CC-0001-4410."
    )
    code: str = stored_field("The GL segment, e.g. 4410.")
    name: str = stored_field("e.g. Medical-Surgical Nursing.")
    active: bool = stored_field("Inactive cost centers take no new invoices.")
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

    @strawberry.field(description="The facility it belongs to.", metadata=batched(FACILITY))
    async def facility(self, info: Info) -> "FacilityType | None":
        return await FACILITY.resolve(self, info.context)


@strawberry.type(name="Facility", description="A hospital or clinic of the network.")
class FacilityType(Node):
    id: strawberry.ID = stored_field("Canonical ID, FAC-0001.")
    name: str = stored_field("The hospital or clinic name.")
    region: str = stored_field("e.g. Northeast.")
    timezone: str = stored_field("IANA time zone, used for due dates.")

    @classmethod
    def from_domain(cls, facility: Facility) -> Self:
        return cls(
            id=strawberry.ID(facility.id),
            name=facility.name,
            region=facility.region,
            timezone=facility.timezone,
        )

    @strawberry.field(
        description="Its cost centers, active or not, by code.", metadata=batched(COST_CENTERS)
    )
    async def cost_centers(self, info: Info) -> list[CostCenterType]:
        return await COST_CENTERS.resolve(self, info.context)


@strawberry.type(name="FacilityConnection", description="A page of facilities.")
class FacilityConnection(Connection[FacilityType]):
    pass


@strawberry.type(name="CostCenterValidation", description="validateCostCenter's answer.")
class CostCenterValidationType:
    valid: bool = strawberry.field(
        description="True when the code is an active cost center of the facility."
    )
    reasons: list[ValidationReasonType] = strawberry.field(
        description="Every reason it is not valid; empty when valid."
    )
    cost_center: CostCenterType | None = strawberry.field(
        description="The cost center when it exists at that facility, active or not."
    )
