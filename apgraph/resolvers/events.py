"""invoiceEvents: the history of one invoice as events, for support and integrators."""

from apgraph.domain import ids
from apgraph.schema.arguments import InvoiceIdArgument
from apgraph.schema.context import Info
from apgraph.schema.errors import parse_id
from apgraph.schema.events import InvoiceEventType


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
