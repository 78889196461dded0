"""The `payments` section of gateway.yaml: which discounts are worth taking, when a changed
bank account holds payments, and how many approvers a payment run needs.

Amounts are run totals in the run's currency; "above" means strictly above.
"""

from pydantic import BaseModel, ConfigDict, Field

from apgraph.domain.scheduling import SchedulingRules
from apgraph.policies.decimals import QuotedDecimal


class PaymentPolicy(BaseModel):
    """Maker–checker is not a knob: the proposer of a run never approves nor releases it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    take_discounts: bool = Field(description="take early-payment discounts when worth it")
    discount_min_annual_percent: QuotedDecimal = Field(
        ge=0, description="a discount is worth it when paying early earns at least this a year"
    )
    bank_change_review_days: int = Field(
        ge=0, le=365, description="a remit-to change this close to a pay date holds payments"
    )
    two_approvers_above: QuotedDecimal = Field(
        ge=0, description="a run total above it needs two distinct approvers"
    )

    def rules(self) -> SchedulingRules:
        return SchedulingRules(
            discount_min_annual_percent=(
                self.discount_min_annual_percent if self.take_discounts else None
            ),
            bank_change_review_days=self.bank_change_review_days,
            two_approvers_above=self.two_approvers_above,
        )
