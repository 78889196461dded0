"""Subscription resolvers: what the caller asked for and may see → the live feed → changes.

Each checks its arguments and the `after` cursor before the first event (errors come back at
subscribe time), then filters every event through the caller's row scope: a supplier sees its
own invoices only, an approver their facilities' only, whatever the filter says.
"""

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, TypeVar

import strawberry

from apgraph.domain import feeds, ids
from apgraph.domain.invoices import InvoiceStatus
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput, Forbidden, parse_id
from apgraph.schema.live import (
    ExceptionQueueChangeType,
    InvoiceStatusChangeType,
    InvoiceStatusFilterInput,
    PaymentStatusChangeType,
    PaymentStatusFilterInput,
    QueueChangeKind,
)
from apgraph.services.ports.bus import CursorRejected, LiveEvent
from apgraph.services.ports.unit_of_work import OutboxRecord

MAX_IDS = 100
T = TypeVar("T")
After = Annotated[
    str | None,
    strawberry.argument(description="A cursor received before: resume right after that event."),
]


async def _opened(
    info: Info, after: str | None, admits: Callable[[OutboxRecord], bool]
) -> AsyncIterator[LiveEvent]:
    scope = info.context.principal.row_scope

    def visible(record: OutboxRecord) -> bool:
        return scope.admits(supplier_id=record.supplier_id, facility_id=record.facility_id) and (
            admits(record)
        )

    if info.context.live is None:
        raise BadUserInput("subscriptions are served over WebSocket and SSE only")
    try:
        return await info.context.live.open(after=after, admits=visible)
    except CursorRejected as rejected:
        raise BadUserInput(str(rejected), argument="after") from None


def _ids(parse: Callable[[str], str], raw: list[strawberry.ID] | None, argument: str) -> set[str]:
    if raw is None:
        return set()
    if len(raw) > MAX_IDS:
        raise BadUserInput(f"at most {MAX_IDS} ids", argument=argument)
    return {parse_id(parse, value, argument=argument) for value in raw}


async def invoice_status_changed(
    info: Info,
    filter: Annotated[
        InvoiceStatusFilterInput | None,
        strawberry.argument(description="Narrows the feed; you never see more than you may read."),
    ] = None,
    after: After = None,
) -> AsyncGenerator[InvoiceStatusChangeType, None]:
    wanted = filter or InvoiceStatusFilterInput()
    invoice_ids = _ids(ids.invoice, wanted.invoice_ids, "filter.invoiceIds")
    facility_ids = _ids(ids.facility, wanted.facility_ids, "filter.facilityIds")
    statuses = set(wanted.statuses or ())

    def admits(record: OutboxRecord) -> bool:
        status = feeds.status_after(record.type)
        return (
            feeds.is_invoice_event(record.type)
            and status is not None
            and (not invoice_ids or record.invoice_id in invoice_ids)
            and (not facility_ids or record.facility_id in facility_ids)
            and (not statuses or status in statuses)
        )

    stream = await _opened(info, after, admits)
    return _changes(stream, lambda live: InvoiceStatusChangeType.from_live(live, _status(live)))


async def payment_status_changed(
    info: Info,
    filter: Annotated[
        PaymentStatusFilterInput | None,
        strawberry.argument(description="Narrows the feed; you never see more than you may read."),
    ] = None,
    after: After = None,
) -> AsyncGenerator[PaymentStatusChangeType, None]:
    wanted = filter or PaymentStatusFilterInput()
    payment_ids = _ids(ids.payment, wanted.payment_ids, "filter.paymentIds")
    invoice_ids = _ids(ids.invoice, wanted.invoice_ids, "filter.invoiceIds")

    def admits(record: OutboxRecord) -> bool:
        return (
            feeds.is_payment_event(record.type)
            and (not payment_ids or record.payload.get("payment_id") in payment_ids)
            and (not invoice_ids or record.invoice_id in invoice_ids)
        )

    stream = await _opened(info, after, admits)
    return _changes(stream, lambda live: PaymentStatusChangeType.from_live(live, _status(live)))


async def exception_queue_changed(
    info: Info,
    facility_id: Annotated[
        strawberry.ID, strawberry.argument(description="The facility whose queue to follow.")
    ],
    after: After = None,
) -> AsyncGenerator[ExceptionQueueChangeType, None]:
    facility = parse_id(ids.facility, facility_id, argument="facilityId")
    if not info.context.principal.row_scope.admits(supplier_id=None, facility_id=facility):
        raise Forbidden(f"{facility} is not one of your facilities", argument="facilityId")

    def admits(record: OutboxRecord) -> bool:
        return record.facility_id == facility and (
            feeds.queue_change(record.type, record.payload) is not None
        )

    def change(live: LiveEvent) -> ExceptionQueueChangeType:
        kind = feeds.queue_change(live.record.type, live.record.payload)
        assert kind is not None  # `admits` let only queue changes through
        return ExceptionQueueChangeType.from_live(live, QueueChangeKind(kind.value), _status(live))

    stream = await _opened(info, after, admits)
    return _changes(stream, change)


def _status(live: LiveEvent) -> InvoiceStatus:
    status = feeds.status_after(live.record.type)
    assert status is not None  # the feeds admit known types only
    return status


async def _changes(
    stream: AsyncIterator[LiveEvent], shape: Callable[[LiveEvent], T]
) -> AsyncGenerator[T, None]:
    async for live in stream:
        yield shape(live)
