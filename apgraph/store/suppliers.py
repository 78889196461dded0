"""The supplier master: rows ⇄ domain; a supplier caller sees only itself."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.domain.ids import SupplierId
from apgraph.domain.principal import RowScope
from apgraph.domain.suppliers import (
    BankAccount,
    Contact,
    PaymentTerms,
    Supplier,
    SupplierStatus,
    TaxTreatment,
)
from apgraph.services.ports.reads import Page, PageRequest, SupplierFilter
from apgraph.store.keyring import Keyring
from apgraph.store.reading import Values, among_parameter, count, fetch, fetch_page, fetch_values
from apgraph.store.rows import member_by_value
from apgraph.store.scoping import KeptScope, scope_parameters, supplier_condition
from apgraph.store.sealing import Sealing
from apgraph.store.tables import SupplierRow

_c = SupplierRow.__table__.c


_SUPPLIER_STATUS = member_by_value(SupplierStatus)  # a stored status as its member

# stored column → the domain field it holds, as Supplier.unreadable names it
_DOMAIN_FIELD = {
    "tax_id": "tax_id",
    "bank_routing_number": "remit_to.routing_number",
    "bank_account_number": "remit_to.account_number",
}


def supplier_from_row(row: Row[Any] | Values, sealing: Sealing) -> Supplier:
    """The supplier with its classified fields opened; a field that fails its integrity
    check is left empty and named in `unreadable` (the row still answers)."""
    values, failed = sealing.open_supplier(row._mapping if isinstance(row, Row) else row)
    return supplier_from_values(values, unreadable=frozenset(_DOMAIN_FIELD[c] for c in failed))


def supplier_unopened(row: Row[Any]) -> Supplier:
    """The supplier with its sealed fields left closed, for writes that check status and
    terms only (the unit of work holds no keys): those fields are empty and named
    `unreadable`, so nothing can show or use them by mistake."""
    values = dict(row._mapping)
    closed = {column for column in _DOMAIN_FIELD if values[column] is not None}
    for column in closed:
        values[column] = ""
    return supplier_from_values(values, unreadable=frozenset(_DOMAIN_FIELD[c] for c in closed))


def supplier_from_values(
    values: Mapping[str, Any], *, unreadable: frozenset[str] = frozenset()
) -> Supplier:
    remit_to = None
    if values["bank_account_number"] is not None:
        remit_to = BankAccount(
            bank_name=values["bank_name"],
            routing_number=values["bank_routing_number"],
            account_number=values["bank_account_number"],
        )
    return Supplier(
        id=SupplierId(values["id"]),
        legal_name=values["legal_name"],
        tax_id=values["tax_id"],
        status=_SUPPLIER_STATUS(values["status"]),
        payment_terms=PaymentTerms(values["payment_terms"]),
        tax_treatment=TaxTreatment(values["tax_treatment"]),
        tax_rate=values["tax_rate"],
        remit_to=remit_to,
        contacts=tuple(Contact(**contact) for contact in values["contacts"]),
        unreadable=unreadable,
    )


async def stored_supplier_ids(engine: AsyncEngine, ids: Sequence[str]) -> frozenset[str]:
    """Which of `ids` are stored: an existence check that needs no key."""
    rows = await fetch(engine, select(_c.id).where(_c.id.in_(ids)))
    return frozenset(row.id for row in rows)


async def open_suppliers(
    rows: Sequence[Row[Any]] | Sequence[Values], keyring: Keyring
) -> list[Supplier]:
    """Rows to suppliers, loading any data key another process made since we last looked."""
    sealing = await keyring.sealing(
        needs={(row._mapping if isinstance(row, Row) else row)["data_key_id"] for row in rows}
    )
    return [supplier_from_row(row, sealing) for row in rows]


def visible_suppliers(scope: RowScope | KeptScope) -> Select[Any]:
    """The suppliers `scope` may see (a page of invoices joins these, issue 19; a kept
    statement's scope: scoping.KeptScope)."""
    return select(SupplierRow.__table__).where(supplier_condition(scope, _c.id))


@lru_cache(maxsize=1024)
def _visible_among(dialect: str, kept: KeptScope) -> Select[Any]:
    """The suppliers a scope may see among the bound `ids`: built once per kind of scope and
    kept, so a by-id read (a page's supplier field) neither builds it nor compiles it again
    (issue 19); the supplier is bound at execution (scoping.KeptScope)."""
    return visible_suppliers(kept).where(among_parameter(dialect, _c.id, "ids"))


@dataclass(frozen=True, slots=True)
class SupplierRepository:
    engine: AsyncEngine
    scope: RowScope
    keyring: Keyring

    def _visible(self) -> Select[Any]:
        return visible_suppliers(self.scope)

    def _filtered(self, where: SupplierFilter) -> Select[Any]:
        statement = self._visible()
        if where.statuses is not None:
            statement = statement.where(_c.status.in_(sorted(s.value for s in where.statuses)))
        if where.name_contains:
            statement = statement.where(
                _c.legal_name.icontains(where.name_contains, autoescape=True)
            )
        return statement

    async def get_many(self, ids: Sequence[str]) -> Sequence[Supplier]:
        statement = _visible_among(self.engine.dialect.name, KeptScope.of(self.scope))
        parameters = {"ids": list(ids), **scope_parameters(self.scope)}
        rows = await fetch_values(self.engine, statement, parameters)
        return await open_suppliers(rows, self.keyring)

    async def page(self, where: SupplierFilter, page: PageRequest) -> Page[Supplier]:
        rows = await fetch_page(
            self.engine, self._filtered(where), key=_c.id, page=page, to_domain=lambda row: row
        )
        return Page(
            items=await open_suppliers(rows.items, self.keyring),
            has_next_page=rows.has_next_page,
            has_previous_page=rows.has_previous_page,
        )

    async def sharing_bank_accounts(self) -> list[list[SupplierId]]:
        """Groups of suppliers (each of two or more) paid into the same bank account, found
        by the keyed hash: no bank account number is read or compared in plain."""
        shared = (
            select(_c.bank_account_hash)
            .where(supplier_condition(self.scope, _c.id), _c.bank_account_hash.is_not(None))
            .group_by(_c.bank_account_hash)
            .having(func.count() > 1)
        )
        rows = await fetch(
            self.engine,
            select(_c.bank_account_hash, _c.id)
            .where(_c.bank_account_hash.in_(shared), supplier_condition(self.scope, _c.id))
            .order_by(_c.bank_account_hash, _c.id),
        )
        groups: dict[str, list[SupplierId]] = {}
        for row in rows:
            groups.setdefault(row.bank_account_hash, []).append(SupplierId(row.id))
        return sorted(groups.values())

    async def count(self, where: SupplierFilter) -> int:
        return await count(self.engine, self._filtered(where))
