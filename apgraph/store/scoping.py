"""Row-level scoping as WHERE clauses: hidden rows never reach a page, a count or a cursor."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, true

from apgraph.domain.ids import FacilityId
from apgraph.domain.principal import RowScope

SCOPE_SUPPLIER = "scope_supplier_id"  # the parameter a kept statement's supplier condition binds


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


def facility_condition(
    scope: "RowScope | KeptScope", facility: ColumnElement[str]
) -> ColumnElement[bool]:
    return true() if scope.facility_ids is None else facility.in_(sorted(scope.facility_ids))


@dataclass(frozen=True, slots=True)
class KeptScope:
    """What a statement kept for many callers knows of their scope: whether its rows are one
    supplier's, and which facilities'. The supplier itself is bound at execution
    (`scope_parameters`), so every supplier's reads share one statement, compiled once:
    compiling one per supplier was ~10 % of a submission's server CPU when suppliers take
    turns (issue 19: 98 suppliers in 290 submissions). Facilities stay in the SQL, as
    `facility_condition` renders them."""

    one_supplier: bool
    facility_ids: frozenset[FacilityId] | None

    @classmethod
    def of(cls, scope: RowScope) -> "KeptScope":
        return cls(one_supplier=scope.supplier_id is not None, facility_ids=scope.facility_ids)


def kept_supplier_condition(kept: KeptScope, supplier: ColumnElement[str]) -> ColumnElement[bool]:
    """`supplier_condition` with the supplier as the required parameter SCOPE_SUPPLIER: a read
    that does not pass `scope_parameters` fails (no value for it), it never sees more."""
    return supplier == bindparam(SCOPE_SUPPLIER, type_=String()) if kept.one_supplier else true()


def kept_by_supplier_and_facility(
    statement: Select[Any],
    kept: KeptScope,
    *,
    supplier: ColumnElement[str],
    facility: ColumnElement[str],
) -> Select[Any]:
    return statement.where(
        kept_supplier_condition(kept, supplier), facility_condition(kept, facility)
    )


def scope_parameters(scope: RowScope) -> dict[str, Any]:
    """The parameters a statement kept for `KeptScope.of(scope)` reads the scope from."""
    return {} if scope.supplier_id is None else {SCOPE_SUPPLIER: scope.supplier_id}
