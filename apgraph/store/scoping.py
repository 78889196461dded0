"""Row-level scoping as WHERE clauses: hidden rows never reach a page, a count or a cursor."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, String, bindparam, true

from apgraph.domain.ids import FacilityId
from apgraph.domain.principal import RowScope

SCOPE_SUPPLIER = "scope_supplier_id"  # the parameter a kept statement's supplier condition binds


def by_supplier_and_facility(
    statement: Select[Any],
    scope: "RowScope | KeptScope",
    *,
    supplier: ColumnElement[str],
    facility: ColumnElement[str],
) -> Select[Any]:
    return statement.where(supplier_condition(scope, supplier), facility_condition(scope, facility))


def supplier_condition(
    scope: "RowScope | KeptScope", supplier: ColumnElement[str]
) -> ColumnElement[bool]:
    """A scope's supplier as a value of the statement; a kept statement's (KeptScope) as the
    required parameter SCOPE_SUPPLIER, which a read passes with `scope_parameters`: one that
    does not pass it fails (no value for it), it never sees more."""
    if isinstance(scope, KeptScope):
        bound = bindparam(SCOPE_SUPPLIER, type_=String())
        return supplier == bound if scope.one_supplier else true()
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
    `facility_condition` renders them. The conditions above take either kind of scope."""

    one_supplier: bool
    facility_ids: frozenset[FacilityId] | None

    @classmethod
    def of(cls, scope: RowScope) -> "KeptScope":
        return cls(one_supplier=scope.supplier_id is not None, facility_ids=scope.facility_ids)


def scope_parameters(scope: RowScope) -> dict[str, Any]:
    """The parameters a statement kept for `KeptScope.of(scope)` reads the scope from."""
    return {} if scope.supplier_id is None else {SCOPE_SUPPLIER: scope.supplier_id}
