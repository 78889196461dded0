"""Resolvers for relations many types share: whatever carries a `supplier_id` has a supplier,
and so on. One loader call each, so a page of N parents costs one query per relation. Each
is declared once (`Loaded`) and answers one parent for strawberry and a whole level of
parents for the fast path of reads (`metadata=batched(...)`).
"""

from typing import Any, Protocol

from apgraph.schema.batched import Loaded
from apgraph.schema.context import Info
from apgraph.schema.facilities import CostCenterType, FacilityType
from apgraph.schema.suppliers import SupplierType


class _HasSupplier(Protocol):
    supplier_id: str


class _HasFacility(Protocol):
    facility_id: str


class _HasCostCenter(Protocol):
    cost_center_id: str


SUPPLIER: Loaded[Any, Any, SupplierType | None] = Loaded(
    key=lambda root: root.supplier_id,
    loader=lambda loaders: loaders.suppliers,
    build=lambda _, found: SupplierType.from_domain(found) if found else None,
    shared=True,
)
FACILITY: Loaded[Any, Any, FacilityType | None] = Loaded(
    key=lambda root: root.facility_id,
    loader=lambda loaders: loaders.facilities,
    build=lambda _, found: FacilityType.from_domain(found) if found else None,
    shared=True,
)
COST_CENTER: Loaded[Any, Any, CostCenterType | None] = Loaded(
    key=lambda root: root.cost_center_id,
    loader=lambda loaders: loaders.cost_centers,
    build=lambda _, found: CostCenterType.from_domain(found) if found else None,
    shared=True,
)


async def supplier_of(root: _HasSupplier, info: Info) -> SupplierType | None:
    return await SUPPLIER.resolve(root, info.context)


async def facility_of(root: _HasFacility, info: Info) -> FacilityType | None:
    return await FACILITY.resolve(root, info.context)


async def cost_center_of(root: _HasCostCenter, info: Info) -> CostCenterType | None:
    return await COST_CENTER.resolve(root, info.context)
