"""The knobs matching takes per item category, as plain values (policies/matching.py fills them)."""

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from apgraph.domain.matching.tolerance import NO_TOLERANCE, Tolerance
from apgraph.domain.purchasing import Category


class SourcingDown(Enum):
    """What CONTRACT_PRICE_UNAVAILABLE does to an invoice when contract prices cannot be read."""

    FLAG = "flag"  # match on the PO price, mark the lines, post anyway
    BLOCK = "block"  # an approver must look: contract pricing is mandatory here (e.g. pharmacy)


@dataclass(frozen=True, slots=True)
class CategoryRules:
    quantity: Tolerance  # of the received quantity; absolute in the line's unit of measure
    price: Tolerance  # of the PO or contract unit price; absolute per unit
    receipt_required: bool
    sourcing_down: SourcingDown


STRICT = CategoryRules(
    quantity=NO_TOLERANCE,
    price=NO_TOLERANCE,
    receipt_required=True,
    sourcing_down=SourcingDown.BLOCK,
)
"""For a category the policy does not list: no tolerance, a receipt, and no posting blind."""

MatchRules = Mapping[Category, CategoryRules]


def rules_for(rules: MatchRules, category: Category) -> CategoryRules:
    """A category without rules is matched strictly, never with a guessed allowance."""
    return rules.get(category, STRICT)
