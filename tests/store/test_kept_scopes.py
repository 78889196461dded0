"""Kept by-id reads are built and compiled once per kind of scope, not once per supplier
(store/scoping.py KeptScope, issue 19): the supplier is bound when the read runs, so
suppliers share one statement and each still reads only its own rows; a read that does not
bind it fails instead of seeing more."""

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.domain.ids import FacilityId, SupplierId
from apgraph.domain.principal import RowScope
from apgraph.store import facilities, purchasing, suppliers
from apgraph.store.purchasing import PurchaseOrderRepository
from apgraph.store.reading import fetch_values
from apgraph.store.scoping import KeptScope
from tests.store.scopes import two_suppliers_in_turn_and_again


def test_suppliers_share_each_kept_statement_and_facility_scopes_keep_their_own() -> None:
    # given two suppliers' scopes and a facility-scoped one
    one = RowScope(supplier_id=SupplierId("SUP-1"))
    other = RowScope(supplier_id=SupplierId("SUP-2"))
    ward = RowScope(facility_ids=frozenset({FacilityId("FAC-1")}))
    kept = [
        lambda scope: suppliers._visible_among("postgresql", KeptScope.of(scope)),
        lambda scope: purchasing._orders_among("postgresql", KeptScope.of(scope)),
        lambda scope: facilities._facilities_among(
            "postgresql", facilities._facilities_only(scope)
        ),
    ]

    for statement_for in kept:
        # then both suppliers read through the very same statement, the facility scope not
        assert statement_for(one) is statement_for(other)
        assert statement_for(ward) is not statement_for(one)


async def test_each_supplier_reads_only_its_own_purchase_orders_by_id(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # given two suppliers' purchase orders, asked for by id all together
    owner = {order.id: order.supplier_id for order in tiny_network.purchase_orders}
    one, other = tiny_network.suppliers[0].id, tiny_network.suppliers[1].id
    wanted = [id_ for id_, supplier in owner.items() if supplier in (one, other)]
    assert {owner[id_] for id_ in wanted} == {one, other}

    # when each supplier, in turn and again, and an unrestricted reader ask
    answers = []
    for scope in two_suppliers_in_turn_and_again(one, other):
        found = await PurchaseOrderRepository(seeded, scope).get_many(wanted)
        answers.append({order.supplier_id for order in found})

    # then each supplier gets its own orders only, the unrestricted reader both's
    assert answers == [{one}, {other}, {one, other}] * 2


async def test_a_kept_read_that_does_not_bind_the_supplier_fails_rather_than_see_more(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # given the statement kept for suppliers' scopes
    statement = suppliers._visible_among(
        seeded.dialect.name, KeptScope(one_supplier=True, facility_ids=None)
    )
    every_supplier = [supplier.id for supplier in tiny_network.suppliers]

    # when it is read without the supplier's parameter, then it is refused, naming it
    with pytest.raises(Exception, match="scope_supplier_id"):
        await fetch_values(seeded, statement, {"ids": every_supplier})
