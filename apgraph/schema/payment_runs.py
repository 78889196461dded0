"""Payment runs: a facility's payments due by a pay date, approved and released together."""

import datetime
from typing import Self

import strawberry

from apgraph.domain.payment_runs import PaymentRun
from apgraph.schema.context import Info
from apgraph.schema.dates import DateRangeInput
from apgraph.schema.enums import PaymentRunStatus
from apgraph.schema.facilities import FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.node import Node
from apgraph.schema.pagination import Connection


@strawberry.type(
    name="PaymentRun",
    description=(
        "A facility's scheduled payments due by a pay date, proposed by one person and "
        "approved (two distinct approvers above the policy total) and released by others. "
        "Its payments: `payments(filter: {runId})`."
    ),
)
class PaymentRunType(Node):
    id: strawberry.ID = strawberry.field(description="Canonical ID, RUN-00000001.")
    pay_date: datetime.date = strawberry.field(
        description="It pays the facility's scheduled payments due on or before this date."
    )
    status: PaymentRunStatus = strawberry.field(description="Where the run stands.")
    total: MoneyType = strawberry.field(description="Of the payments when it was proposed.")
    payment_count: int = strawberry.field(description="Payments in the run when proposed.")
    proposed_by: str = strawberry.field(description="Who proposed it (maker): never a checker.")
    proposed_at: datetime.datetime = strawberry.field(description="When it was proposed.")
    approvals_needed: int = strawberry.field(description="Distinct approvers it needs.")
    approvers: list[str] = strawberry.field(description="Who approved it, in order.")
    released_by: str | None = strawberry.field(description="Who released it; null until then.")
    released_at: datetime.datetime | None = strawberry.field(
        description="When it was released; null until then."
    )
    facility_id: strawberry.Private[str]

    @classmethod
    def from_domain(cls, run: PaymentRun) -> Self:
        return cls(
            id=strawberry.ID(run.id),
            pay_date=run.pay_date,
            status=run.status,
            total=MoneyType.of(run.total, run.currency),
            payment_count=run.payment_count,
            proposed_by=run.proposed_by,
            proposed_at=run.proposed_at,
            approvals_needed=run.approvals_needed,
            approvers=list(run.approvers),
            released_by=run.released_by,
            released_at=run.released_at,
            facility_id=run.facility_id,
        )

    @strawberry.field(description="The facility whose payments it releases.")
    async def facility(self, info: Info) -> FacilityType | None:
        found = await info.context.loaders.facilities.load(self.facility_id)
        return FacilityType.from_domain(found) if found else None


@strawberry.type(name="PaymentRunConnection", description="A page of payment runs.")
class PaymentRunConnection(Connection[PaymentRunType]):
    pass


@strawberry.input(name="PaymentRunFilter", description="Which payment runs; every field narrows.")
class PaymentRunFilterInput:
    status: list[PaymentRunStatus] | None = strawberry.field(
        default=None, description="Any of these statuses."
    )
    facility_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this facility's runs, FAC-…."
    )
    pay_date: DateRangeInput | None = strawberry.field(
        default=None, description="Inclusive on both ends."
    )
