"""What a signed-in caller could still learn that is not theirs: allocations of a payment to
other facilities' invoices, and the schema's names through "Did you mean …" suggestions."""

from collections import defaultdict

import pytest

from apgraph.domain.principal import Role

PAYMENT = """
query($id: ID!) {
  payment(id: $id) { id allocations { invoice { id facility { id } } amount { amount } } }
}
"""


def a_payment_across_facilities(network):
    """(payment, {facility: [invoice ids]}) of a payment settling invoices of two facilities."""
    facility_of = {invoice.id: invoice.facility_id for invoice in network.invoices}
    settled = defaultdict(lambda: defaultdict(list))
    for allocation in network.payment_allocations:
        invoice = allocation.invoice_id
        settled[allocation.payment_id][facility_of[invoice]].append(invoice)
    payment = next(p for p, by_facility in sorted(settled.items()) if len(by_facility) > 1)
    return payment, settled[payment]


async def test_an_approver_sees_only_the_allocations_to_its_own_facilitys_invoices(
    live_api, network
):
    # given a payment settling invoices of two facilities, and an approver of one of them
    payment, by_facility = a_payment_across_facilities(network)
    own, *others = sorted(by_facility)
    token = live_api.token(Role.APPROVER, facility_ids=[own])

    # when the approver reads the payment
    data = await live_api.data(PAYMENT, {"id": payment}, token=token)

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
