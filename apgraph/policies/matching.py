"""The `matching` section of gateway.yaml: per item category, how strictly invoices are matched.

Unknown keys are errors: a typo must not loosen a tolerance. A category the file does not
list is matched strictly (no tolerance, a receipt required, blocked when sourcing is down),
never with a guessed default.
"""

from pydantic import BaseModel, ConfigDict, Field

from apgraph.domain.matching.rules import STRICT, CategoryRules, SourcingDown
from apgraph.domain.matching.tolerance import Tolerance
from apgraph.domain.purchasing import Category
from apgraph.policies.decimals import QuotedDecimal


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CategoryPolicy(_Section):
    """Both limits of each tolerance are stated; the stricter one applies."""

    quantity_percent: QuotedDecimal = Field(ge=0, le=100, description="of the received quantity")
    quantity_absolute: QuotedDecimal = Field(ge=0, description="in the line's unit of measure")
    price_percent: QuotedDecimal = Field(ge=0, le=100, description="of the PO or contract price")
    price_absolute: QuotedDecimal = Field(ge=0, description="per unit, in the invoice currency")
    receipt_required: bool = Field(
        description="false: a line without any receipt is matched two-way"
    )
    contract_price_unavailable: SourcingDown = Field(
        description="sourcing down: flag (post on the PO price) or block (an approver decides)"
    )


class MatchingPolicy(_Section):
    duplicate_window_days: int = Field(
        ge=0, le=366, description="same currency and total this many days apart is a duplicate"
    )
    categories: dict[Category, CategoryPolicy]

    def quantity_tolerance(self, category: Category) -> Tolerance:
        return self.category_rules(category).quantity

    def price_tolerance(self, category: Category) -> Tolerance:
        return self.category_rules(category).price

    def category_rules(self, category: Category) -> CategoryRules:
        """A category the file does not list gets no tolerance, never a guessed default."""
        entry = self.categories.get(category)
        if entry is None:
            return STRICT
        return CategoryRules(
            quantity=Tolerance(percent=entry.quantity_percent, absolute=entry.quantity_absolute),
            price=Tolerance(percent=entry.price_percent, absolute=entry.price_absolute),
            receipt_required=entry.receipt_required,
            sourcing_down=entry.contract_price_unavailable,
        )

    def rules(self) -> dict[Category, CategoryRules]:
        """What `match_invoice` takes: every category, listed or not."""
        return {category: self.category_rules(category) for category in Category}
