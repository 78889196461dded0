"""The `matching` section of gateway.yaml: per item category, how strictly invoices are matched.

Unknown keys are errors: a typo must not loosen a tolerance. A category the file does not
list is matched strictly (no tolerance, a receipt required, blocked when sourcing is down),
never with a guessed default.
"""

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from apgraph.domain.invoice_numbers import NumberRules
from apgraph.domain.matching.rules import STRICT, CategoryRules, SourcingDown
from apgraph.domain.matching.tolerance import Tolerance
from apgraph.domain.purchasing import Category
from apgraph.domain.review import ReviewRules
from apgraph.policies.confusables import prototypes
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


class DuplicatePolicy(_Section):
    """When two invoice numbers of one supplier are one (domain/invoice_numbers.py), and how
    near a number must be to hold a same-total invoice as a POSSIBLE_DUPLICATE."""

    fold_unicode: bool = Field(default=True, description="NFKC, then case-folded")
    ignore_separators: bool = Field(
        default=True, description="spaces of every kind, zero-width characters, punctuation"
    )
    ignore_leading_zeros: bool = Field(default=True, description="of each run of digits")
    map_confusables: bool = Field(
        default=True, description="look-alike characters (Cyrillic І, Latin I) as one"
    )
    near_duplicate_edit_distance: int = Field(
        default=1, ge=0, le=3, description="edits between normalized numbers"
    )

    def numbers(self) -> NumberRules:
        """One NumberRules per distinct section: the gateway asks on every request, and
        making one fingerprints the confusables table (milliseconds)."""
        return _number_rules(self)


@cache
def _number_rules(policy: DuplicatePolicy) -> NumberRules:
    return NumberRules(
        fold_unicode=policy.fold_unicode,
        ignore_separators=policy.ignore_separators,
        ignore_leading_zeros=policy.ignore_leading_zeros,
        confusables=prototypes() if policy.map_confusables else {},
    )


class MatchingPolicy(_Section):
    duplicate_window_days: int = Field(
        ge=0, le=366, description="same currency and total this many days apart is a duplicate"
    )
    categories: dict[Category, CategoryPolicy]
    duplicates: DuplicatePolicy = DuplicatePolicy()
    stale_invoice_days: int = Field(
        default=365, ge=1, le=3660, description="dated longer before it arrived: STALE_INVOICE"
    )
    hold_zero_total: bool = Field(
        default=True, description="a 0.00 invoice waits for an approver (ZERO_TOTAL)"
    )

    def review(self) -> ReviewRules:
        """What the review checks take (domain/review.py)."""
        return ReviewRules(
            numbers=self.duplicates.numbers(),
            near_duplicate_distance=self.duplicates.near_duplicate_edit_distance,
            stale_after_days=self.stale_invoice_days,
            hold_zero_total=self.hold_zero_total,
        )

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
