"""Resolvers for relations many types share: whatever carries a `supplier_id` has a supplier,
and so on. One loader call each, so a page of N parents costs one query per relation.
"""

from typing import Protocol

from apgraph.schema.context import Info
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.suppliers import SupplierType


class _HasSupplier(Protocol):
    supplier_id: str


class _HasFacility(Protocol):
    facility_id: str


class _HasCostCenter(Protocol):
    cost_center_id: str


async def supplier_of(root: _HasSupplier, info: Info) -> SupplierType | None:
    found = await info.context.loaders.suppliers.load(root.supplier_id)
    return SupplierType.from_domain(found) if found else None


async def facility_of(root: _HasFacility, info: Info) -> FacilityType | None:
    found = await info.context.loaders.facilities.load(root.facility_id)
    return FacilityType.from_domain(found) if found else None


async def cost_center_of(root: _HasCostCenter, info: Info) -> CostCenterType | None:
    found = await info.context.loaders.cost_centers.load(root.cost_center_id)
    return CostCenterType.from_domain(found) if found else None
