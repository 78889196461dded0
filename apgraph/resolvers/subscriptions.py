"""Subscription resolvers: what the caller asked for and may see → the live feed → changes.

Each checks its arguments and the `after` cursor before the first event (errors come back at
subscribe time), then filters every event through the caller's row scope: a supplier sees its
own invoices only, an approver their facilities' only, whatever the filter says.

What a subscriber admits is a value (`Visible`: row scope and filter), not a closure: the hub
decides each event once for every subscriber with an equal one (all of one supplier's portal
tabs, every approver of the same facilities), and still decides it on every event.
"""

from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated, Protocol, TypeVar

import strawberry

from apgraph.domain import feeds, ids
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import RowScope
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


class Wanted(Protocol):
    """A subscription's filter: hashable, equal when it lets the same events through."""

    def __call__(self, record: OutboxRecord) -> bool: ...


@dataclass(frozen=True, slots=True)
class InvoiceChanges:
    invoice_ids: frozenset[str]
    facility_ids: frozenset[str]
    statuses: frozenset[InvoiceStatus]

    def __call__(self, record: OutboxRecord) -> bool:
        status = feeds.status_after(record.type)
        return (
            feeds.is_invoice_event(record.type)
            and status is not None
            and (not self.invoice_ids or record.invoice_id in self.invoice_ids)
            and (not self.facility_ids or record.facility_id in self.facility_ids)
            and (not self.statuses or status in self.statuses)
        )


@dataclass(frozen=True, slots=True)
class PaymentChanges:
    payment_ids: frozenset[str]
    invoice_ids: frozenset[str]

    def __call__(self, record: OutboxRecord) -> bool:
        return (
            feeds.is_payment_event(record.type)
            and (not self.payment_ids or record.payload.get("payment_id") in self.payment_ids)
            and (not self.invoice_ids or record.invoice_id in self.invoice_ids)
        )


@dataclass(frozen=True, slots=True)
class QueueChanges:
    facility_id: str

    def __call__(self, record: OutboxRecord) -> bool:
        return record.facility_id == self.facility_id and (
            feeds.queue_change(record.type, record.payload) is not None
        )


@dataclass(frozen=True, slots=True)
class Visible:
    """One subscriber's admission: its caller's row scope first, then its filter."""

    scope: RowScope
    wanted: Wanted

    def __call__(self, record: OutboxRecord) -> bool:
        return self.scope.admits(
            supplier_id=record.supplier_id, facility_id=record.facility_id
        ) and self.wanted(record)


async def _opened(info: Info, after: str | None, wanted: Wanted) -> AsyncIterator[LiveEvent]:
    visible = Visible(info.context.principal.row_scope, wanted)
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
    statuses = frozenset(wanted.statuses or ())
    admits = InvoiceChanges(frozenset(invoice_ids), frozenset(facility_ids), statuses)
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
    admits = PaymentChanges(frozenset(payment_ids), frozenset(invoice_ids))
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

    def change(live: LiveEvent) -> ExceptionQueueChangeType:
        kind = feeds.queue_change(live.record.type, live.record.payload)
        assert kind is not None  # `admits` let only queue changes through
        return ExceptionQueueChangeType.from_live(live, QueueChangeKind(kind.value), _status(live))

    stream = await _opened(info, after, QueueChanges(facility))
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
