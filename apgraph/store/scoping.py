"""Row-level scoping as WHERE clauses: hidden rows never reach a page, a count or a cursor."""

from typing import Any

from sqlalchemy import ColumnElement, Select, true

from apgraph.domain.principal import RowScope


def by_supplier_and_facility(
    statement: Select[Any],
    scope: RowScope,
    *,
    supplier: ColumnElement[str],
    facility: ColumnElement[str],
) -> Select[Any]:
    return statement.where(supplier_condition(scope, supplier), facility_condition(scope, facility))


def supplier_condition(scope: RowScope, supplier: ColumnElement[str]) -> ColumnElement[bool]:
    return true() if scope.supplier_id is None else supplier == scope.supplier_id


def facility_condition(scope: RowScope, facility: ColumnElement[str]) -> ColumnElement[bool]:
    return true() if scope.facility_ids is None else facility.in_(sorted(scope.facility_ids))
