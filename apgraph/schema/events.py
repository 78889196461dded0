"""An invoice's events as the outbox recorded them: DESIGN §5's envelope."""

import datetime
from typing import Self

import strawberry
from strawberry.scalars import JSON

from apgraph.schema.pagination import PageInfo
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


@strawberry.type(name="EventEdge", description="One event of a page and its cursor.")
class EventEdge:
    cursor: str = strawberry.field(
        description="Pass as `after` here, or to a subscription, to continue after this event."
    )
    node: InvoiceEventType = strawberry.field(description="The event.")


@strawberry.type(name="EventConnection", description="A page of events, oldest first.")
class EventConnection:
    edges: list[EventEdge] = strawberry.field(description="The events with their cursors.")
    page_info: PageInfo = strawberry.field(description="How to ask for the next page.")


@strawberry.input(name="EventFilter", description="Which of your events to list.")
class EventFilterInput:
    type: str | None = strawberry.field(
        default=None, description='Only events of this type, e.g. "invoice.posted".'
    )
    subject: strawberry.ID | None = strawberry.field(
        default=None, description="Only events about this invoice."
    )
    after: str | None = strawberry.field(
        default=None,
        description="Only events after this cursor (from this list or from a subscription).",
    )
