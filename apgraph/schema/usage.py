"""API product usage as operators read it: who calls which product version, how often."""

import datetime
from typing import Self

import strawberry

from apgraph.services.ports.usage import UsageTotal


@strawberry.type(
    name="ProductUsage",
    description="Requests of one client's one operation on one API product version, summed.",
)
class ProductUsageType:
    product: str = strawberry.field(description='The API product, e.g. "supplier-portal".')
    version: str = strawberry.field(description='Its version, e.g. "v1".')
    client: str = strawberry.field(description="The partner client id, or the user's subject.")
    operation: str = strawberry.field(
        description='The operation name; "(anonymous)" without one, "(not parsed)" when '
        "refused before GraphQL read it."
    )
    requests: int = strawberry.field(description="Requests answered, refusals included.")
    errors: int = strawberry.field(description="Refused, or answered with errors.")
    mean_latency_ms: float = strawberry.field(description="Mean time to answer, in ms.")
    max_latency_ms: float = strawberry.field(description="Longest time to answer, in ms.")
    last_seen: datetime.datetime = strawberry.field(
        description="The start of the last minute it was called in (UTC)."
    )

    @classmethod
    def from_domain(cls, total: UsageTotal) -> Self:
        return cls(
            product=total.product,
            version=total.version,
            client=total.client,
            operation=total.operation,
            requests=total.requests,
            errors=total.errors,
            mean_latency_ms=round(total.mean_latency_ms, 3),
            max_latency_ms=round(total.max_latency_ms, 3),
            last_seen=total.last_seen,
        )
