"""payment(id), payments(filter…)."""

PAYMENT = """
query($id: ID!) {
  payment(id: $id) {
    id status method scheduledDate remittanceRef amount { amount currency }
    supplier { id }
    allocations { amount { amount } invoice { id status } }
  }
}
"""


async def test_a_payment_lists_the_invoices_it_settles(api, network):
    payment = network.payments[0]
    allocations = [a for a in network.payment_allocations if a.payment_id == payment.id]
    found = (await api.data(PAYMENT, {"id": payment.id}))["payment"]
    assert found["amount"] == {"amount": str(payment.amount), "currency": payment.currency}
    assert found["supplier"] == {"id": payment.supplier_id}
    assert sorted(a["invoice"]["id"] for a in found["allocations"]) == sorted(
        a.invoice_id for a in allocations
    )
    assert sum(a.amount for a in allocations) == payment.amount


async def test_payments_filter_by_status_and_scheduled_dates(api, network):
    payment = network.payments[-1]
    expected = [
        p.id
        for p in network.payments
        if p.status == payment.status and p.scheduled_date >= payment.scheduled_date
    ]
    data = await api.data(
        "query($f: PaymentFilter) { payments(filter: $f, first: 1) { totalCount } }",
        {
            "f": {
                "status": [payment.status.value],
                "scheduled": {"from": str(payment.scheduled_date)},
            }
        },
    )
    assert data["payments"]["totalCount"] == len(expected)


async def test_an_unknown_payment_is_null(api):
    assert (await api.data(PAYMENT, {"id": "PAY-99999999"}))["payment"] is None
