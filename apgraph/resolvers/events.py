"""invoiceEvents and events: what happened, as the outbox recorded it, for support and
integrators; `events` also hands out the cursors subscriptions resume from."""

from typing import Annotated

import strawberry

from apgraph.domain import event_cursors as cursors
from apgraph.domain import ids
from apgraph.schema.arguments import InvoiceIdArgument
from apgraph.schema.context import Info
from apgraph.schema.errors import BadUserInput, parse_id, parse_optional_id
from apgraph.schema.events import EventConnection, EventEdge, EventFilterInput, InvoiceEventType
from apgraph.schema.pagination import PageInfo


async def invoice_events(
    info: Info, invoice_id: InvoiceIdArgument
) -> list[InvoiceEventType] | None:
    """Null when the invoice is unknown or not the caller's: the same answer for both."""
    wanted = parse_id(ids.invoice, invoice_id, argument="invoiceId")
    if await info.context.loaders.invoices.load(wanted) is None:
        return None
    return [
        InvoiceEventType.from_record(r) for r in await info.context.store.events.of_invoice(wanted)
    ]


async def events(
    info: Info,
    filter: Annotated[
        EventFilterInput | None, strawberry.argument(description="Narrows the list.")
    ] = None,
    first: Annotated[
        int | None, strawberry.argument(description="At most this many, oldest first.")
    ] = None,
    last: Annotated[
        int | None,
        strawberry.argument(
            description="Instead of `first`: the newest this many (oldest first). `last: 1` "
            "gives the cursor to subscribe from now on without missing anything."
        ),
    ] = None,
) -> EventConnection:
    """Your rows only: a supplier's invoices, an approver's facilities."""
    wanted = filter or EventFilterInput()
    limits = info.context.page_limits
    if first is not None and last is not None:
        raise BadUserInput("pass `first` or `last`, not both", argument="last")
    size = last if last is not None else (limits.default_size if first is None else first)
    if size < 1 or size > limits.max_size:
        raise BadUserInput(
            f"`first`/`last` must be between 1 and {limits.max_size}, got {size}",
            argument="last" if last is not None else "first",
        )
    after = 0
    if wanted.after is not None:
        try:
            after, _ = cursors.parse(wanted.after)
        except cursors.MalformedCursor as rejected:
            raise BadUserInput(str(rejected), argument="filter.after") from None
    subject = parse_optional_id(ids.invoice, wanted.subject, argument="filter.subject")
    records = await info.context.store.events.history(
        after=after,
        first=size + 1,
        types=(wanted.type,) if wanted.type else (),
        invoice_id=subject,
        newest=last is not None,
    )
    more = len(records) > size
    records = records[1:] if more and last is not None else records[:size]
    edges = [
        EventEdge(cursor=cursors.cursor_of(r.sequence, r.id), node=InvoiceEventType.from_record(r))
        for r in records
    ]
    return EventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=more and last is None,
            has_previous_page=(more and last is not None) or after > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
