"""Scopes that read in turn, for the tests of kept by-id reads."""

from apgraph.domain.ids import SupplierId
from apgraph.domain.principal import RowScope


def two_suppliers_in_turn_and_again(one: str, other: str) -> list[RowScope]:
    """Each supplier's scope, then an unrestricted one, twice over: the second round reads
    through the statements the first kept, and no reader may see what the one before it
    bound."""
    return [
        RowScope(supplier_id=SupplierId(one)),
        RowScope(supplier_id=SupplierId(other)),
        RowScope(),
    ] * 2
