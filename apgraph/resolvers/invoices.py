"""Invoice lookups and lists."""

from typing import Annotated

import strawberry

from apgraph.domain import ids
from apgraph.domain.ids import EntityKind
from apgraph.schema.arguments import After, CanonicalId, First
from apgraph.schema.context import Context, Info
from apgraph.schema.dates import date_range
from apgraph.schema.errors import parse_id, parse_optional_id
from apgraph.schema.invoices import LINES, InvoiceConnection, InvoiceFilterInput, InvoiceType
from apgraph.schema.pagination import page_request
from apgraph.schema.relations import SUPPLIER
from apgraph.services.ports.reads import InvoiceFilter, PageRequest, Selection


async def invoice(info: Info, id: CanonicalId) -> InvoiceType | None:
    return await invoice_by_id(info.context, id)


async def invoice_by_id(context: Context, id: str) -> InvoiceType | None:
    found = await context.loaders.invoices.load(parse_id(ids.invoice, id, argument="id"))
    return InvoiceType.from_domain(found) if found else None


def invoice_filter(given: InvoiceFilterInput | None) -> InvoiceFilter:
    given = given or InvoiceFilterInput()
    return InvoiceFilter(
        statuses=frozenset(given.status) if given.status else None,
        supplier_id=parse_optional_id(
            ids.supplier, given.supplier_id, argument="filter.supplierId"
        ),
        facility_id=parse_optional_id(
            ids.facility, given.facility_id, argument="filter.facilityId"
        ),
        purchase_order_id=parse_optional_id(
            ids.purchase_order, given.purchase_order_id, argument="filter.purchaseOrderId"
        ),
        invoice_dates=date_range(given.invoice_date, argument="filter.invoiceDate"),
    )


async def invoices(
    info: Info,
    filter: Annotated[
        InvoiceFilterInput | None, strawberry.argument(description="Which invoices; omit for all.")
    ] = None,
    first: First = None,
    after: After = None,
) -> InvoiceConnection | None:
    return await invoice_page(info.context, filter, first, after)


async def invoice_page(
    ctx: Context,
    filter: InvoiceFilterInput | None = None,
    first: int | None = None,
    after: str | None = None,
) -> InvoiceConnection:
    where, page = _asked(ctx, filter, first, after)
    found = await ctx.store.invoices.page_with_orders(
        where, page, with_lines=LINES in ctx.selects, with_suppliers=SUPPLIER in ctx.selects
    )
    # What the page's purchaseOrder, costCenter (and lines and supplier, when selected) load,
    # read with the page: their loaders answer from these, no statement of their own (issue 19).
    ctx.loaders.purchase_orders.prime_many(found.purchase_orders)
    ctx.loaders.cost_centers.prime_many(found.cost_centers)
    if found.lines is not None:
        ctx.loaders.invoice_lines.prime_many(found.lines)
    if found.suppliers is not None:
        ctx.loaders.suppliers.prime_many(found.suppliers)
    return InvoiceConnection.build(
        found.invoices,
        to_node=InvoiceType.from_domain,
        id_of=lambda i: i.id,
        count_all=lambda: ctx.store.invoices.count(where),
    )


async def invoice_page_json(
    ctx: Context,
    selection: Selection,
    filter: InvoiceFilterInput | None = None,
    first: int | None = None,
    after: str | None = None,
) -> str | None:
    """`invoice_page`'s answer as JSON built by the database, or None where it cannot build
    it (the fast path of reads then answers through `invoice_page`)."""
    where, page = _asked(ctx, filter, first, after)
    return await ctx.store.invoices.page_as_json(where, page, selection)


def _asked(
    ctx: Context, filter: InvoiceFilterInput | None, first: int | None, after: str | None
) -> tuple[InvoiceFilter, PageRequest]:
    """The filter and page the arguments ask for (BAD_USER_INPUT for a bad one)."""
    where = invoice_filter(filter)
    return where, page_request(first, after, kind=EntityKind.INVOICE, limits=ctx.page_limits)
