"""The exception queue's dashboard figures: aging buckets and reason counts."""

from typing import Self

import strawberry

from apgraph.domain.aging import AgingBucket, BucketTotal
from apgraph.domain.codes import MatchCode
from apgraph.schema.batched import batched
from apgraph.schema.enums import register_enum
from apgraph.schema.facilities import FacilityType
from apgraph.schema.money import MoneyType
from apgraph.schema.relations import FACILITY, facility_of
from apgraph.services.ports.reads import ReasonCount

register_enum(AgingBucket, name="AgingBucket")
register_enum(MatchCode, name="MatchCode")


@strawberry.type(name="AgingBucketTotal", description="Open exceptions that have waited this long.")
class AgingBucketTotalType:
    bucket: AgingBucket = strawberry.field(description="The age bucket.")
    first_day: int = strawberry.field(description="Days since the invoice was received, from.")
    last_day: int | None = strawberry.field(description="To, inclusive; null for the last bucket.")
    count: int = strawberry.field(description="Open exceptions in the bucket.")
    total: MoneyType = strawberry.field(description="What they bill in all, per currency.")

    @classmethod
    def from_domain(cls, bucket: BucketTotal) -> Self:
        return cls(
            bucket=bucket.bucket,
            first_day=bucket.bucket.first_day,
            last_day=bucket.bucket.last_day,
            count=bucket.count,
            total=MoneyType.of(bucket.total, bucket.currency),
        )


@strawberry.type(
    name="ExceptionReasonCount", description="Open exceptions of a facility with a reason."
)
class ExceptionReasonCountType:
    code: str = strawberry.field(description="A match reason code, e.g. QTY_VARIANCE.")
    count: int = strawberry.field(description="Open exceptions with that code.")
    facility_id: strawberry.Private[str]
    facility: FacilityType | None = strawberry.field(
        resolver=facility_of, metadata=batched(FACILITY), description="The facility they belong to."
    )

    @classmethod
    def from_domain(cls, counted: ReasonCount) -> Self:
        return cls(code=counted.code, count=counted.count, facility_id=counted.facility_id)
