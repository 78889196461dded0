"""Facilities and cost centers: rows ⇄ domain, scoped to the caller's facilities."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, RowMapping, Select, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import CostCenterId, FacilityId
from apgraph.domain.principal import RowScope
from apgraph.services.ports.reads import Page, PageRequest
from apgraph.store.reading import among, among_parameter, count, fetch, fetch_page, fetch_values
from apgraph.store.scoping import KeptScope, facility_condition
from apgraph.store.tables import CostCenterRow, FacilityRow

_facilities = FacilityRow.__table__.c
_cost_centers = CostCenterRow.__table__.c


def facility_from_row(row: Row[Any]) -> Facility:
    return facility_from_values(row._mapping)  # by name: attributes cost ten times more


def facility_from_values(values: Mapping[str, Any] | RowMapping) -> Facility:
    return Facility(
        id=FacilityId(values["id"]),
        name=values["name"],
        region=values["region"],
        timezone=values["timezone"],
    )


def cost_center_from_row(row: Row[Any]) -> CostCenter:
    return cost_center_from_values(row._mapping)


def cost_center_from_values(values: Mapping[str, Any] | RowMapping) -> CostCenter:
    return CostCenter(
        id=CostCenterId(values["id"]),
        facility_id=FacilityId(values["facility_id"]),
        code=values["code"],
        name=values["name"],
        active=values["active"],
        approvers=tuple(values["approvers"]),
    )


def visible_cost_centers(scope: RowScope | KeptScope) -> Select[Any]:
    """The cost centers `scope` may see (those of its facilities): every read starts here.
    They depend on no supplier, so a kept statement's scope (scoping.KeptScope) does too."""
    return select(CostCenterRow.__table__).where(
        facility_condition(scope, _cost_centers.facility_id)
    )


def visible_facilities(scope: RowScope | KeptScope) -> Select[Any]:
    """The facilities `scope` may see: as `_facilities_among` reads them, by ID."""
    return select(FacilityRow.__table__).where(facility_condition(scope, _facilities.id))


@lru_cache(maxsize=1024)
def _facilities_among(dialect: str, kept: KeptScope) -> Select[Any]:
    """The facilities a scope may see among the bound `ids`, kept per kind of scope (as
    suppliers._visible_among; facilities do not depend on the supplier, so every supplier
    shares one): a submission's by-id read runs on the driver (issue 19)."""
    return visible_facilities(kept).where(among_parameter(dialect, _facilities.id, "ids"))


@lru_cache(maxsize=1024)
def _cost_centers_among(dialect: str, kept: KeptScope) -> Select[Any]:
    return visible_cost_centers(kept).where(among_parameter(dialect, _cost_centers.id, "ids"))


def _facilities_only(scope: RowScope) -> KeptScope:
    """The part of a scope that limits facilities and cost centers: none of the supplier's."""
    return KeptScope(one_supplier=False, facility_ids=scope.facility_ids)


@dataclass(frozen=True, slots=True)
class FacilityRepository:
    engine: AsyncEngine
    scope: RowScope

    def _facilities(self) -> Any:
        return select(FacilityRow.__table__).where(facility_condition(self.scope, _facilities.id))

    def _cost_centers(self) -> Any:
        return visible_cost_centers(self.scope)

    async def get_many(self, ids: Sequence[str]) -> Sequence[Facility]:
        statement = _facilities_among(self.engine.dialect.name, _facilities_only(self.scope))
        rows = await fetch_values(self.engine, statement, {"ids": list(ids)})
        return [facility_from_values(row) for row in rows]

    async def page(self, page: PageRequest) -> Page[Facility]:
        return await fetch_page(
            self.engine,
            self._facilities(),
            key=_facilities.id,
            page=page,
            to_domain=facility_from_row,
        )

    async def count(self) -> int:
        return await count(self.engine, self._facilities())

    async def cost_centers(self, ids: Sequence[str]) -> Sequence[CostCenter]:
        statement = _cost_centers_among(self.engine.dialect.name, _facilities_only(self.scope))
        rows = await fetch_values(self.engine, statement, {"ids": list(ids)})
        return [cost_center_from_values(row) for row in rows]

    async def cost_centers_of(self, facility_ids: Sequence[str]) -> Sequence[CostCenter]:
        statement = self._cost_centers().where(
            among(self.engine, _cost_centers.facility_id, facility_ids)
        )
        rows = await fetch(self.engine, statement.order_by(_cost_centers.id))
        return [cost_center_from_row(row) for row in rows]

    async def cost_centers_approved_by(self, user_id: str) -> Sequence[CostCenter]:
        """The visible cost centers whose approvers include `user_id` (approvers is a JSON list,
        read the same on both databases by filtering here rather than in SQL)."""
        rows = await fetch(self.engine, self._cost_centers())
        return [c for c in map(cost_center_from_row, rows) if user_id in c.approvers]

    async def cost_centers_with_code(self, code: str) -> Sequence[CostCenter]:
        rows = await fetch(self.engine, self._cost_centers().where(_cost_centers.code == code))
        return [cost_center_from_row(row) for row in rows]
