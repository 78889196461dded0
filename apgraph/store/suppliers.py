"""The supplier master: rows ⇄ domain; a supplier caller sees only itself."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, select
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
from apgraph.store.reading import count, fetch, fetch_page
from apgraph.store.scoping import supplier_condition
from apgraph.store.tables import SupplierRow

_c = SupplierRow.__table__.c


def supplier_from_row(row: Row[Any]) -> Supplier:
    remit_to = None
    if row.bank_account_number is not None:
        remit_to = BankAccount(
            bank_name=row.bank_name,
            routing_number=row.bank_routing_number,
            account_number=row.bank_account_number,
        )
    return Supplier(
        id=SupplierId(row.id),
        legal_name=row.legal_name,
        tax_id=row.tax_id,
        status=SupplierStatus(row.status),
        payment_terms=PaymentTerms(row.payment_terms),
        tax_treatment=TaxTreatment(row.tax_treatment),
        tax_rate=row.tax_rate,
        remit_to=remit_to,
        contacts=tuple(Contact(**contact) for contact in row.contacts),
    )


@dataclass(frozen=True, slots=True)
class SupplierRepository:
    engine: AsyncEngine
    scope: RowScope

    def _visible(self) -> Select[Any]:
        return select(SupplierRow.__table__).where(supplier_condition(self.scope, _c.id))

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
        rows = await fetch(self.engine, self._visible().where(_c.id.in_(ids)))
        return [supplier_from_row(row) for row in rows]

    async def page(self, where: SupplierFilter, page: PageRequest) -> Page[Supplier]:
        return await fetch_page(
            self.engine, self._filtered(where), key=_c.id, page=page, to_domain=supplier_from_row
        )

    async def count(self, where: SupplierFilter) -> int:
        return await count(self.engine, self._filtered(where))
