"""The supplier master's by-id read (SupplierRepository.get_many) keeps one statement per
scope (issue 19): each caller still gets exactly the suppliers its own scope shows."""

from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.store.suppliers import SupplierRepository
from tests.keys import keyring_for
from tests.store.scopes import two_suppliers_in_turn_and_again


async def test_each_scope_reads_only_the_suppliers_it_may_see_by_id(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # given two suppliers and a reader for each, and one for everyone
    one, other = (supplier.id for supplier in tiny_network.suppliers[:2])
    keyring = await keyring_for(seeded)
    wanted = [other, "SUP-NOT-THERE", one]

    # when each asks for both by id, in turn and again (the kept statements are reused)
    answers = []
    for scope in two_suppliers_in_turn_and_again(one, other):
        found = await SupplierRepository(seeded, scope, keyring).get_many(wanted)
        answers.append(sorted(supplier.id for supplier in found))

    # then a supplier sees itself only, and the unrestricted reader both
    assert answers == [[one], [other], sorted([one, other])] * 2
