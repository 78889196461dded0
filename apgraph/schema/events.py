"""An invoice's events as the outbox recorded them: DESIGN §5's envelope."""

import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from apgraph.services.ports.unit_of_work import OutboxRecord


@strawberry.type(name="InvoiceEvent", description="Something that happened to an invoice.")
class InvoiceEventType:
    id: strawberry.ID = strawberry.field(description="UUID; consumers dedupe by it.")
    type: str = strawberry.field(description='e.g. "invoice.posted".')
    sequence: int = strawberry.field(description="Global and gap-free in commit order.")
    occurred_at: datetime.datetime = strawberry.field(description="When it happened (UTC).")
    trace_id: str | None = strawberry.field(description="The request trace that caused it.")
    published: bool = strawberry.field(description="Delivered by the relay yet.")
    payload: JSON = strawberry.field(description="Canonical, versioned; amounts as strings.")

    @classmethod
    def from_record(cls, record: OutboxRecord) -> Self:
        return cls(
            id=strawberry.ID(record.id),
            type=record.type,
            sequence=record.sequence,
            occurred_at=record.occurred_at,
            trace_id=record.trace_id,
            published=record.published_at is not None,
            payload=dict(record.payload),  # type: ignore[arg-type]  # JSON is an alias of Any
        )
