"""The `approvals` section of gateway.yaml: who approves exceptions, how many, and how soon.

Amounts are invoice totals in the invoice's currency; "above" means strictly above.
"""

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from apgraph.domain.approvals import ApprovalRules
from apgraph.policies.decimals import QuotedDecimal


class ApprovalPolicy(BaseModel):
    """Segregation of duties is not a knob: the submitter never approves, whatever this says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    two_approvers_above: QuotedDecimal = Field(ge=0, description="two distinct approvers above")
    escalate_above: QuotedDecimal = Field(
        ge=0, description="above it the cost center's approvers' authority ends"
    )
    escalate_after_hours: int = Field(
        ge=1, le=24 * 30, description="the SLA: an exception waiting this long goes up a level"
    )
    escalation_approvers: tuple[str, ...] = Field(
        min_length=2,
        description="the level above the cost centers' approvers; two for dual control",
    )

    @model_validator(mode="after")
    def _distinct_approvers(self) -> "ApprovalPolicy":
        names = [name.strip() for name in self.escalation_approvers]
        if not all(names):
            raise ValueError("escalation_approvers: a blank user id")
        if len(set(names)) != len(names):
            raise ValueError("escalation_approvers: each approver once")
        return self

    def rules(self) -> ApprovalRules:
        return ApprovalRules(
            two_approvers_above=self.two_approvers_above,
            escalate_above=self.escalate_above,
            escalate_after=timedelta(hours=self.escalate_after_hours),
            escalation_approvers=self.escalation_approvers,
        )
