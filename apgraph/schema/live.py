"""What subscriptions push: one change per committed event, with the cursor to resume after."""

import datetime
from enum import Enum
from typing import Self

import strawberry

from apgraph.schema.enums import InvoiceStatus
from apgraph.schema.events import InvoiceEventType
from apgraph.services.ports.bus import LiveEvent


@strawberry.type(
    name="InvoiceStatusChange",
    description="An invoice's status changed (or, for approvals and escalations, its queue).",
)
class InvoiceStatusChangeType:
    cursor: str = strawberry.field(
        description="Pass as `after` when resubscribing to receive what came next, and only that."
    )
    invoice_id: strawberry.ID = strawberry.field(description="The invoice the event is about.")
    status: InvoiceStatus = strawberry.field(description="The invoice's status after the event.")
    occurred_at: datetime.datetime = strawberry.field(description="When it happened (UTC).")
    event: InvoiceEventType = strawberry.field(description="The event itself, in its envelope.")

    @classmethod
    def from_live(cls, live: LiveEvent, status: InvoiceStatus) -> Self:
        record = live.record
        return cls(
            cursor=live.cursor,
            invoice_id=strawberry.ID(record.invoice_id),
            status=status,
            occurred_at=record.occurred_at,
            event=InvoiceEventType.from_record(record),
        )


@strawberry.type(
    name="PaymentStatusChange",
    description="A payment was scheduled or released, or its remittance advice was sent.",
)
class PaymentStatusChangeType:
    cursor: str = strawberry.field(
        description="Pass as `after` when resubscribing to receive what came next, and only that."
    )
    payment_id: strawberry.ID | None = strawberry.field(
        description="The payment, when the event names one."
    )
    invoice_id: strawberry.ID = strawberry.field(description="The invoice the payment pays.")
    invoice_status: InvoiceStatus = strawberry.field(
        description="The invoice's status after the event (SCHEDULED, PAID, REMITTED)."
    )
    occurred_at: datetime.datetime = strawberry.field(description="When it happened (UTC).")
    event: InvoiceEventType = strawberry.field(description="The event itself, in its envelope.")

    @classmethod
    def from_live(cls, live: LiveEvent, status: InvoiceStatus) -> Self:
        record = live.record
        payment_id = record.payload.get("payment_id")
        return cls(
            cursor=live.cursor,
            payment_id=strawberry.ID(str(payment_id)) if payment_id else None,
            invoice_id=strawberry.ID(record.invoice_id),
            invoice_status=status,
            occurred_at=record.occurred_at,
            event=InvoiceEventType.from_record(record),
        )


@strawberry.enum(name="QueueChangeKind", description="How an exception queue changed.")
class QueueChangeKind(Enum):
    ENTERED = strawberry.enum_value(
        "ENTERED", description="The invoice now waits for an approver (a match failed, a release)."
    )
    LEFT = strawberry.enum_value(
        "LEFT",
        description="No approver decision is pending any more (held, rejected, fully approved).",
    )
    UPDATED = strawberry.enum_value(
        "UPDATED", description="Still waiting, with more approvers allowed (escalated)."
    )


@strawberry.type(
    name="ExceptionQueueChange", description="An invoice entered, left or changed in a queue."
)
class ExceptionQueueChangeType:
    cursor: str = strawberry.field(
        description="Pass as `after` when resubscribing to receive what came next, and only that."
    )
    kind: QueueChangeKind = strawberry.field(description="What happened to the queue.")
    invoice_id: strawberry.ID = strawberry.field(description="The invoice concerned.")
    facility_id: strawberry.ID = strawberry.field(description="The facility whose queue it is.")
    status: InvoiceStatus = strawberry.field(description="The invoice's status after the event.")
    occurred_at: datetime.datetime = strawberry.field(description="When it happened (UTC).")
    event: InvoiceEventType = strawberry.field(description="The event itself, in its envelope.")

    @classmethod
    def from_live(cls, live: LiveEvent, kind: QueueChangeKind, status: InvoiceStatus) -> Self:
        record = live.record
        return cls(
            cursor=live.cursor,
            kind=kind,
            invoice_id=strawberry.ID(record.invoice_id),
            facility_id=strawberry.ID(record.facility_id),
            status=status,
            occurred_at=record.occurred_at,
            event=InvoiceEventType.from_record(record),
        )


@strawberry.input(name="InvoiceStatusFilter", description="Which invoices' changes to receive.")
class InvoiceStatusFilterInput:
    invoice_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these invoices (at most 100)."
    )
    facility_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only invoices of these facilities."
    )
    statuses: list[InvoiceStatus] | None = strawberry.field(
        default=None, description="Only changes into these statuses."
    )


@strawberry.input(name="PaymentStatusFilter", description="Which payments' changes to receive.")
class PaymentStatusFilterInput:
    payment_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only these payments (at most 100)."
    )
    invoice_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only payments of these invoices (at most 100)."
    )
