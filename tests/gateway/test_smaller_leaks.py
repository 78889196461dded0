"""What a signed-in caller could still learn that is not theirs: allocations of a payment to
other facilities' invoices, and the schema's names through "Did you mean …" suggestions."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import insert

from apgraph.domain.principal import Role
from apgraph.store import tables
from apgraph.store.database import create_engine

PAYMENT = """
query($id: ID!) {
  payment(id: $id) { id allocations { invoice { id facility { id } } amount { amount } } }
}
"""


async def a_payment_across_facilities(api, network):
    """(payment, {facility: [invoice ids]}): a payment settling one supplier's invoices of two
    facilities. Payments are grouped per facility now, but one made before that (or by an
    ERP migration) may still span two, so the test writes one, on a database of its own."""
    by_supplier = defaultdict(lambda: defaultdict(list))
    for invoice in network.invoices:
        by_supplier[invoice.supplier_id][invoice.facility_id].append(invoice)
    supplier, by_facility = next((s, f) for s, f in sorted(by_supplier.items()) if len(f) > 1)
    chosen = {facility: invoices[:1] for facility, invoices in sorted(by_facility.items())[:2]}
    payment = "PAY-09999999"
    settings = api.settings
    engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                insert(tables.PaymentRow.__table__),
                [
                    {
                        "id": payment,
                        "supplier_id": supplier,
                        "amount": sum(i.total for group in chosen.values() for i in group),
                        "currency": "USD",
                        "method": "ACH",
                        "scheduled_date": date(2026, 11, 5),
                        "status": "PAID",
                        "discount": Decimal(0),
                    }
                ],
            )
            await connection.execute(
                insert(tables.PaymentAllocationRow.__table__),
                [
                    {
                        "payment_id": payment,
                        "invoice_id": i.id,
                        "amount": i.total,
                        "discount": Decimal(0),
                    }
                    for group in chosen.values()
                    for i in group
                ],
            )
    finally:
        await engine.dispose()
    return payment, {f: [i.id for i in group] for f, group in chosen.items()}


async def test_an_approver_sees_only_the_allocations_to_its_own_facilitys_invoices(
    live_writable_api, network
):
    live_api = live_writable_api
    # given a payment settling invoices of two facilities, and an approver of one of them
    payment, by_facility = await a_payment_across_facilities(live_api, network)
    own, *others = sorted(by_facility)
    token = live_api.token(Role.APPROVER, facility_ids=[own])

    # when the approver reads the payment
    data = await live_api.data(PAYMENT, {"id": payment}, token=token, product="finance-ops/v1")

    # then only the allocations to its own facility's invoices are there: no blank invoice
    # with another facility's amount beside it
    allocations = data["payment"]["allocations"]
    assert sorted(a["invoice"]["id"] for a in allocations if a["invoice"]) == sorted(
        by_facility[own]
    )
    assert all(a["invoice"] is not None for a in allocations)
    # while a caller of every facility still sees them all
    everything = await live_api.data(PAYMENT, {"id": payment})
    assert len(everything["payment"]["allocations"]) == sum(map(len, by_facility.values()))


BY_STATUS = (
    "query($s: [InvoiceStatus!]) { invoices(first: 1, filter: {status: $s}) { totalCount } }"
)


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{ invoicez(first: 1) { totalCount } }", None),  # a field of Query
        ("{ invoices(frist: 1) { totalCount } }", None),  # an argument
        ('{ invoice(id: "INV-00000001") { statsu } }', None),  # a field of a type
        ("query($w: InvoiceFilterr) { invoices(first: 1) { totalCount } }", None),  # a type
        ("{ invoices(first: 1, filter: {statsu: [PAID]}) { totalCount } }", None),  # input field
        (BY_STATUS, {"s": ["PAYED"]}),  # an enum value
    ],
)
async def test_production_answers_an_unknown_name_without_suggesting_real_ones(
    live_production_api, query, variables
):
    body = await live_production_api.graphql(query, variables)

    assert body["errors"]
    for error in body["errors"]:
        assert "Did you mean" not in error["message"], error["message"]
        assert error["extensions"]["code"] in ("GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT")


async def test_dev_mode_still_suggests_names_to_a_developer(live_api):
    body = await live_api.graphql("{ invoicez(first: 1) { totalCount } }")

    assert "Did you mean 'invoice' or 'invoices'?" in body["errors"][0]["message"]
