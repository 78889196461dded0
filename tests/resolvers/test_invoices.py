"""invoice(id), invoices(filter…): where each invoice stands and how it got there."""

from collections import Counter
from datetime import date

INVOICE = """
query One($id: ID!) {
  invoice(id: $id) {
    id status supplierInvoiceNumber invoiceDate
    subtotal { amount currency } tax { amount } total { amount currency }
    supplier { id } facility { id } costCenter { id } purchaseOrder { id }
    lines { lineNo poLineNo quantity amount { amount } }
    exceptions { code lineNo }
    history { fromStatus toStatus actor }
    approvals { approver decision }
    approvalStatus
    payment { id status }
    attachments { id filename size sha256 downloadPath }
  }
}
"""

INVOICES = """
query Page($filter: InvoiceFilter, $first: Int, $after: String) {
  invoices(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { id status invoiceDate supplier { id } facility { id } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def by_status(network, status):
    return next(i for i in network.invoices if i.status.value == status)


async def test_an_invoice_carries_its_lines_parties_and_totals(api, network):
    invoice = by_status(network, "POSTED")
    lines = [line for inv, line in network.invoice_lines if inv == invoice.id]

    data = await api.data(INVOICE, {"id": invoice.id})

    found = data["invoice"]
    assert found["supplier"] == {"id": invoice.supplier_id}
    assert found["facility"] == {"id": invoice.facility_id}
    assert found["costCenter"] == {"id": invoice.cost_center_id}
    assert found["total"] == {"amount": str(invoice.total), "currency": invoice.currency}
    assert [line["lineNo"] for line in found["lines"]] == [line.line_no for line in lines]
    assert sum(line.amount for line in lines) == invoice.subtotal


async def test_the_history_runs_from_received_to_the_current_status(api, network):
    invoice = by_status(network, "REMITTED")
    found = (await api.data(INVOICE, {"id": invoice.id}))["invoice"]
    history = found["history"]
    assert history[0]["fromStatus"] is None
    assert history[0]["toStatus"] == "RECEIVED"
    assert [h["toStatus"] for h in history[-3:]] == ["SCHEDULED", "PAID", "REMITTED"]
    assert all(a["toStatus"] == b["fromStatus"] for a, b in zip(history, history[1:], strict=False))


async def test_an_invoice_in_exception_is_pending_approval_with_its_reasons(api, network):
    invoice = by_status(network, "EXCEPTION")
    expected = [e.code for inv, e in network.invoice_exceptions if inv == invoice.id]
    found = (await api.data(INVOICE, {"id": invoice.id}))["invoice"]
    assert found["approvalStatus"] == "PENDING"
    assert [e["code"] for e in found["exceptions"]] == expected
    assert expected


async def test_a_paid_invoice_shows_its_payment(api, network):
    allocation = network.payment_allocations[0]
    payment = next(p for p in network.payments if p.id == allocation.payment_id)
    found = (await api.data(INVOICE, {"id": allocation.invoice_id}))["invoice"]
    assert found["payment"] == {"id": payment.id, "status": payment.status.value}


async def test_an_unpaid_invoice_has_no_payment(api, network):
    found = (await api.data(INVOICE, {"id": by_status(network, "EXCEPTION").id}))["invoice"]
    assert found["payment"] is None


async def test_invoices_filter_by_status_supplier_and_facility(api, network):
    sample = by_status(network, "POSTED")
    expected = sorted(
        i.id
        for i in network.invoices
        if i.status.value in {"POSTED", "REMITTED"}
        and i.supplier_id == sample.supplier_id
        and i.facility_id == sample.facility_id
    )
    data = await api.data(
        INVOICES,
        {
            "filter": {
                "status": ["POSTED", "REMITTED"],
                "supplierId": sample.supplier_id,
                "facilityId": sample.facility_id,
            },
            "first": 100,
        },
    )
    assert [e["node"]["id"] for e in data["invoices"]["edges"]] == expected
    assert data["invoices"]["totalCount"] == len(expected)


async def test_invoices_filter_by_an_inclusive_date_range(api, network):
    dates = sorted({i.invoice_date for i in network.invoices})
    start, end = dates[len(dates) // 3], dates[len(dates) // 2]
    expected = [i.id for i in network.invoices if start <= i.invoice_date <= end]
    data = await api.data(
        INVOICES,
        {"filter": {"invoiceDate": {"from": start.isoformat(), "to": end.isoformat()}}, "first": 1},
    )
    assert data["invoices"]["totalCount"] == len(expected)


async def test_an_inverted_date_range_is_bad_user_input(api):
    body = await api.graphql(
        INVOICES, {"filter": {"invoiceDate": {"from": "2026-06-30", "to": "2026-06-01"}}}
    )
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "filter.invoiceDate",
    }


async def test_an_unknown_supplier_filter_gives_an_empty_page(api):
    data = await api.data(INVOICES, {"filter": {"supplierId": "SUP-999999"}})
    assert data["invoices"] == {
        "totalCount": 0,
        "edges": [],
        "pageInfo": {"hasNextPage": False, "endCursor": None},
    }


async def test_every_status_of_the_lifecycle_can_be_listed(api, network):
    counts = Counter(i.status.value for i in network.invoices)
    for status, count in counts.items():
        data = await api.data(INVOICES, {"filter": {"status": [status]}, "first": 1})
        assert data["invoices"]["totalCount"] == count, status


async def test_an_attachment_is_listed_with_a_download_path(api, network):
    attachment = network.attachments[0]
    found = (await api.data(INVOICE, {"id": attachment.invoice_id}))["invoice"]
    assert {
        "id": attachment.id,
        "filename": attachment.filename,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "downloadPath": f"/attachments/{attachment.id}/content",
    } in found["attachments"]


def test_dates_in_the_network_are_not_in_the_future(network):
    assert max(i.invoice_date for i in network.invoices) <= date(2026, 11, 1)
