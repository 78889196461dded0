"""A page of invoices read with its purchase orders and cost centers in one statement
(InvoiceRepository.page_with_orders, issue 19) answers exactly what the page and the by-id
reads of the same caller answer: a row the caller may not see is None, never another
supplier's or another facility's."""

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from sqlalchemy import Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.domain.ids import FacilityId, SupplierId
from apgraph.domain.principal import RowScope
from apgraph.services.ports.reads import (
    DateRange,
    InvoiceFilter,
    InvoicePageWithOrders,
    PageRequest,
)
from apgraph.store.database import counting_statements
from apgraph.store.facilities import FacilityRepository
from apgraph.store.invoices import (
    InvoiceRepository,
    _FilterShape,
    _page_with_orders,
    lines_of_statement,
)
from apgraph.store.purchasing import PurchaseOrderRepository
from apgraph.store.reading import fetch, fetch_values
from apgraph.store.scoping import KeptScope, scope_parameters
from apgraph.store.suppliers import SupplierRepository, _visible_among
from apgraph.store.tables import CostCenterRow, FacilityRow, InvoiceRow, PurchaseOrderRow
from tests.keys import keyring_for

_invoices = InvoiceRow.__table__.c


async def by_id_reads(
    engine: AsyncEngine, scope: RowScope, order_ids: Sequence[str], center_ids: Sequence[str]
) -> tuple[dict[str, object], dict[str, object]]:
    """What the loaders' own reads answer for these ids: the found row or None per id."""
    orders = {o.id: o for o in await PurchaseOrderRepository(engine, scope).get_many(order_ids)}
    centers = {c.id: c for c in await FacilityRepository(engine, scope).cost_centers(center_ids)}
    return (
        {key: orders.get(key) for key in order_ids},  # type: ignore[call-overload]
        {key: centers.get(key) for key in center_ids},  # type: ignore[call-overload]
    )


def scopes(network: generator.DemoNetwork) -> list[RowScope]:
    supplier = network.invoices[0].supplier_id
    facility = network.invoices[0].facility_id
    return [
        RowScope(),
        RowScope(supplier_id=SupplierId(supplier)),
        RowScope(facility_ids=frozenset({FacilityId(facility)})),
        RowScope(facility_ids=frozenset({FacilityId("FAC-NOWHERE")})),
    ]


async def every_page(
    repository: InvoiceRepository, *, with_lines: bool = False, with_suppliers: bool = False
) -> AsyncIterator[tuple[PageRequest, InvoicePageWithOrders]]:
    """Each of the caller's pages of invoices, 7 at a time, as `page_with_orders` reads it."""
    after = None
    while True:
        page = PageRequest(first=7, after=after)
        read = await repository.page_with_orders(
            InvoiceFilter(), page, with_lines=with_lines, with_suppliers=with_suppliers
        )
        yield page, read
        if not read.invoices.has_next_page:
            return
        after = read.invoices.items[-1].id


async def test_each_scope_gets_the_page_and_the_rows_its_by_id_reads_answer(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    for scope in scopes(tiny_network):
        # given a caller's scope and its pages of invoices, 7 at a time
        repository = InvoiceRepository(seeded, scope)
        # when each page is read with its orders and cost centers
        async for page, read in every_page(repository):
            # then the invoices are the plain page's, and the orders and cost centers are
            # what the by-id reads answer for every id the page names
            assert read.invoices == await repository.page(InvoiceFilter(), page)
            invoices = read.invoices.items
            order_ids = list(
                dict.fromkeys(i.purchase_order_id for i in invoices if i.purchase_order_id)
            )
            center_ids = list(dict.fromkeys(i.cost_center_id for i in invoices))
            assert (dict(read.purchase_orders), dict(read.cost_centers)) == await by_id_reads(
                seeded, scope, order_ids, center_ids
            )


async def test_another_suppliers_order_and_another_facilitys_cost_center_never_appear(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # given an invoice of one supplier that names another supplier's PO, and a cost center
    # moved to a facility outside an approver's scope (rows no write path makes: the read
    # must hide them all the same)
    invoice = next(i for i in tiny_network.invoices if i.purchase_order_id)
    foreign = next(o for o in tiny_network.purchase_orders if o.supplier_id != invoice.supplier_id)
    async with seeded.begin() as connection:
        await connection.execute(
            update(InvoiceRow.__table__)
            .where(_invoices.id == invoice.id)
            .values(purchase_order_id=foreign.id)
        )
        facility = (
            (
                await connection.execute(
                    select(FacilityRow.__table__).where(FacilityRow.id == invoice.facility_id)
                )
            )
            .one()
            ._asdict()
        )
        await connection.execute(
            insert(FacilityRow.__table__).values({**facility, "id": "FAC-ELSEWHERE"})
        )
        await connection.execute(
            update(CostCenterRow.__table__)
            .where(CostCenterRow.id == invoice.cost_center_id)
            .values(facility_id="FAC-ELSEWHERE")
        )
    supplier = RowScope(supplier_id=SupplierId(invoice.supplier_id))
    approver = RowScope(facility_ids=frozenset({FacilityId(invoice.facility_id)}))
    mine = InvoiceFilter(supplier_id=invoice.supplier_id)

    # when the supplier and the approver read pages holding that invoice
    as_supplier = await InvoiceRepository(seeded, supplier).page_with_orders(
        mine, PageRequest(first=100)
    )
    as_approver = await InvoiceRepository(seeded, approver).page_with_orders(
        mine, PageRequest(first=100)
    )

    # then the invoice is there for both, but the other supplier's PO is None for the
    # supplier, and the cost center outside the facility is None for the approver
    assert invoice.id in {i.id for i in as_supplier.invoices.items}
    assert invoice.id in {i.id for i in as_approver.invoices.items}
    assert as_supplier.purchase_orders[foreign.id] is None
    assert as_approver.cost_centers[invoice.cost_center_id] is None
    assert all(
        o is None or o.supplier_id == invoice.supplier_id
        for o in as_supplier.purchase_orders.values()
    )
    # (the unrestricted reader still sees both: the rows are there, only hidden)
    everyone = await InvoiceRepository(seeded, RowScope()).page_with_orders(
        mine, PageRequest(first=100)
    )
    assert everyone.purchase_orders[foreign.id] is not None
    assert everyone.cost_centers[invoice.cost_center_id] is not None


async def test_a_page_read_with_its_lines_answers_what_lines_of_answers(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    for scope in scopes(tiny_network):
        # given a caller's scope and its pages of invoices, 7 at a time
        repository = InvoiceRepository(seeded, scope)
        # when each page is read with its lines, and without
        async for page, with_lines in every_page(repository, with_lines=True):
            without = await repository.page_with_orders(InvoiceFilter(), page)

            # then the page is the same, and on PostgreSQL each of its invoices has exactly
            # the lines `lines_of` answers, in line order (an invoice without any, none);
            # elsewhere, and when not asked, the lines are not read
            assert with_lines.invoices == without.invoices
            assert without.lines is None
            ids = [invoice.id for invoice in with_lines.invoices.items]
            if seeded.dialect.name != "postgresql":
                assert with_lines.lines is None
            else:
                expected: dict[str, list[object]] = {invoice_id: [] for invoice_id in ids}
                for invoice_id, line in await repository.lines_of(ids):
                    expected[invoice_id].append(line)
                assert with_lines.lines == expected
                assert any(with_lines.lines.values()) or not ids


async def test_a_page_read_with_its_suppliers_answers_what_the_supplier_reader_answers(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    keyring = await keyring_for(seeded)
    for scope in scopes(tiny_network):
        # given a caller's scope, its invoice pages and its supplier reader (same keyring)
        repository = InvoiceRepository(seeded, scope, keyring)
        suppliers = SupplierRepository(seeded, scope, keyring)
        # when each page is read with its suppliers
        async for page, read in every_page(repository, with_suppliers=True):
            # then the page is the plain page, and its suppliers, sealed fields opened, are
            # exactly what the supplier reader answers for every supplier the page names
            assert read.invoices == await repository.page(InvoiceFilter(), page)
            ids = list(dict.fromkeys(i.supplier_id for i in read.invoices.items))
            found = {s.id: s for s in await suppliers.get_many(ids)}
            assert read.suppliers == {key: found.get(key) for key in ids}  # type: ignore[call-overload]
            assert all(s is None or s.tax_id for s in read.suppliers.values())


async def test_a_repository_without_a_keyring_joins_no_supplier(seeded: AsyncEngine) -> None:
    # given an invoice repository that holds no keys (the operators' unscoped reads)
    repository = InvoiceRepository(seeded, RowScope())

    # when a page is read asking for its suppliers
    read = await repository.page_with_orders(
        InvoiceFilter(), PageRequest(first=5), with_suppliers=True
    )

    # then none are read (nothing could open their sealed fields): the loader reads them
    assert read.suppliers is None
    assert len(read.invoices.items) == 5


@pytest.mark.parametrize("first", [1, 10, 50])
async def test_a_page_with_its_lines_is_one_statement_on_postgresql(
    seeded_postgres: AsyncEngine, first: int
) -> None:
    # given pages of any size
    # when one is read with its orders, cost centers and lines
    with counting_statements() as counted:
        read = await InvoiceRepository(seeded_postgres, RowScope()).page_with_orders(
            InvoiceFilter(), PageRequest(first=first), with_lines=True
        )

    # then one statement read it all, lines included
    assert read.lines is not None
    assert len(read.lines) == len(read.invoices.items) == first
    assert all(read.lines.values())
    assert counted.statements == 1


@pytest.mark.parametrize("first", [1, 10, 50])
async def test_the_page_and_its_orders_and_cost_centers_are_one_statement(
    seeded: AsyncEngine, first: int
) -> None:
    # given pages of any size
    # when one is read with its orders and cost centers (counted as the API counts them:
    # on PostgreSQL the statement runs on the driver, past SQLAlchemy's cursor events)
    with counting_statements() as counted:
        read = await InvoiceRepository(seeded, RowScope()).page_with_orders(
            InvoiceFilter(), PageRequest(first=first)
        )

    # then one statement read it all
    assert len(read.invoices.items) == first
    assert read.cost_centers
    assert counted.statements == 1
    _ = PurchaseOrderRow  # the joined tables, for the reader


async def test_on_postgresql_the_drivers_rows_are_sqlalchemys_rows_for_each_scope(
    seeded_postgres: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # given the page's kept statements, each scope's own, and the invoices they name
    every_id = [invoice.id for invoice in tiny_network.invoices]
    supplier = tiny_network.invoices[0].supplier_id
    every_supplier = [each.id for each in tiny_network.suppliers]
    for scope in scopes(tiny_network):
        kept, unfiltered = KeptScope.of(scope), _FilterShape.of(InvoiceFilter())
        first_page = _page_with_orders(kept, unfiltered, 7, False)
        next_page = _page_with_orders(kept, unfiltered, 7, True)
        with_lines = _page_with_orders(kept, unfiltered, 7, False, True, True)
        bound = scope_parameters(scope)
        reads: list[tuple[Select[Any], dict[str, Any] | None]] = [
            (first_page, bound),
            (with_lines, bound),
            (next_page, {"after": every_id[len(every_id) // 2], **bound}),
            (lines_of_statement("postgresql"), {"invoice_ids": every_id}),
            (
                _visible_among("postgresql", KeptScope.of(scope)),
                {"ids": every_supplier, **scope_parameters(scope)},
            ),
        ]
        for statement, parameters in reads:
            # when each is read on the driver and through SQLAlchemy
            on_the_driver = await fetch_values(seeded_postgres, statement, parameters)
            through_sqlalchemy = await fetch(seeded_postgres, statement, parameters)

            # then the rows are the same, value for value, in the same order
            assert [dict(values.items()) for values in on_the_driver] == [
                dict(row._mapping) for row in through_sqlalchemy
            ]
        # and a supplier's page holds only its own invoices, and it sees only itself
        if scope.supplier_id is not None:
            page = await fetch_values(seeded_postgres, first_page, bound)
            assert page
            assert {values["supplier_id"] for values in page} == {supplier}
            suppliers = await fetch_values(
                seeded_postgres,
                _visible_among("postgresql", KeptScope.of(scope)),
                {"ids": every_supplier, **scope_parameters(scope)},
            )
            assert [values["id"] for values in suppliers] == [supplier]


def filters(network: generator.DemoNetwork) -> list[InvoiceFilter]:
    """Each condition a page can be asked with, alone and together, with values that match
    some invoices and values that match none."""
    invoice = network.invoices[0]
    dates = sorted(i.invoice_date for i in network.invoices)
    middle = dates[len(dates) // 2]
    return [
        InvoiceFilter(),
        InvoiceFilter(statuses=frozenset({invoice.status})),
        InvoiceFilter(supplier_id=invoice.supplier_id),
        InvoiceFilter(supplier_id=network.suppliers[-1].id),
        InvoiceFilter(facility_id=invoice.facility_id),
        InvoiceFilter(purchase_order_id=invoice.purchase_order_id),
        InvoiceFilter(invoice_dates=DateRange(start=middle)),
        InvoiceFilter(invoice_dates=DateRange(end=middle)),
        InvoiceFilter(
            supplier_id=invoice.supplier_id,
            facility_id=invoice.facility_id,
            invoice_dates=DateRange(start=dates[0], end=middle),
            statuses=frozenset({invoice.status}),
        ),
        InvoiceFilter(supplier_id="SUP-NOT-THERE"),
    ]


def expected_ids(
    network: generator.DemoNetwork, scope: RowScope, where: InvoiceFilter
) -> list[str]:
    """The invoices a filter names among those the scope admits, written out in Python."""
    start, end = where.invoice_dates.start, where.invoice_dates.end
    return sorted(
        invoice.id
        for invoice in network.invoices
        if scope.admits(supplier_id=invoice.supplier_id, facility_id=invoice.facility_id)
        and (where.statuses is None or invoice.status in where.statuses)
        and (where.supplier_id is None or invoice.supplier_id == where.supplier_id)
        and (where.facility_id is None or invoice.facility_id == where.facility_id)
        and (
            where.purchase_order_id is None or invoice.purchase_order_id == where.purchase_order_id
        )
        and (start is None or invoice.invoice_date >= start)
        and (end is None or invoice.invoice_date <= end)
    )


async def test_every_filter_gives_the_invoices_it_names_for_each_scope(
    seeded: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    """One statement per filter shape serves every supplier, its scope's supplier and the
    filter's values bound at execution: the page with orders, the plain page and the count
    each name exactly the invoices the filter and the scope admit."""
    for scope in scopes(tiny_network):
        repository = InvoiceRepository(seeded, scope)
        for where in filters(tiny_network):
            expected = expected_ids(tiny_network, scope, where)
            # when a caller reads the page with a filter, with its orders and cost centers,
            # the plain page and the count
            page = PageRequest(first=100)
            read = await repository.page_with_orders(where, page)
            plain = await repository.page(where, page)
            counted = await repository.count(where)

            # then each holds exactly the invoices the filter names among the scope's
            assert [invoice.id for invoice in read.invoices.items] == expected, (scope, where)
            assert plain == read.invoices, (scope, where)
            assert counted == len(expected), (scope, where)


def test_every_supplier_shares_the_kept_page_statement() -> None:
    # given two suppliers, each asking for its own first page
    pages = [
        _page_with_orders(
            KeptScope.of(RowScope(supplier_id=SupplierId(supplier))),
            _FilterShape.of(InvoiceFilter(supplier_id=supplier)),
            50,
            False,
            True,
            True,
        )
        for supplier in ("SUP-1", "SUP-2")
    ]

    # then both read through one statement (built and compiled once), the supplier bound
    assert pages[0] is pages[1]
