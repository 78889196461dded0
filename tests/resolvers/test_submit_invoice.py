"""submitInvoice through the GraphQL API, on SQLite and PostgreSQL."""

import uuid
from dataclasses import replace
from decimal import Decimal

from apgraph.domain.principal import Role
from tests.workflow import Order, as_input, erp_postings

SUBMIT = """
mutation Submit($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) {
    invoice { id status erpDocumentRef exceptions { code } }
    userErrors { code field }
  }
}
"""
PORTAL = "supplier-portal/v1"
COUNT = "query($s: ID) { invoices(filter: {supplierId: $s}) { totalCount } }"


def supplier_token(workflow_api, order: Order) -> str:
    return workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id)


async def submit(workflow_api, invoice, *, token, key=None, product=PORTAL):
    """Through the caller's product: a supplier's portal unless `product` says otherwise."""
    variables = {"input": as_input(invoice), "key": key or f"key-{uuid.uuid4()}"}
    return await workflow_api.graphql(SUBMIT, variables, token=token, product=product)


async def invoices_of(workflow_api, supplier_id) -> int:
    return (await workflow_api.data(COUNT, {"s": supplier_id}))["invoices"]["totalCount"]


async def test_a_clean_invoice_is_posted_and_the_erp_books_it_once(workflow_api, orders):
    # given a PO received in full
    order = await orders.take("full")

    # when its supplier bills what was received
    body = await submit(
        workflow_api, order.clean_invoice(), token=supplier_token(workflow_api, order)
    )

    # then it is posted with the ERP's document, booked once
    result = body["data"]["submitInvoice"]
    assert result["userErrors"] == []
    assert result["invoice"]["status"] == "POSTED"
    assert result["invoice"]["erpDocumentRef"]
    assert erp_postings(workflow_api.runtime, result["invoice"]["id"], order.order.facility_id) == 1


async def test_billing_over_received_lands_in_exception_with_qty_variance(workflow_api, orders):
    order = await orders.for_exception()

    body = await submit(
        workflow_api, order.over_received_invoice(), token=supplier_token(workflow_api, order)
    )

    invoice = body["data"]["submitInvoice"]["invoice"]
    assert invoice["status"] == "EXCEPTION"
    assert "QTY_VARIANCE" in {e["code"] for e in invoice["exceptions"]}
    assert invoice["erpDocumentRef"] is None


async def test_billing_a_line_without_receipt_is_a_missing_receipt(workflow_api, orders):
    order = await orders.take("none")

    body = await submit(
        workflow_api, order.unreceived_invoice(), token=supplier_token(workflow_api, order)
    )

    invoice = body["data"]["submitInvoice"]["invoice"]
    assert invoice["status"] == "EXCEPTION"
    assert [e["code"] for e in invoice["exceptions"]] == ["MISSING_RECEIPT"]


async def test_an_invalid_invoice_is_rejected_with_every_code(workflow_api, orders, network):
    # given an invoice charged to another facility's cost center, with tax and total off
    order = orders.any_order()
    elsewhere = next(
        c for c in network.cost_centers if c.facility_id != order.order.facility_id and c.active
    )
    clean = order.clean_invoice()
    invalid = replace(clean, cost_center_id=elsewhere.id, tax=clean.tax + 3, total=clean.total + 9)

    # when it is submitted
    body = await submit(workflow_api, invalid, token=supplier_token(workflow_api, order))

    # then it is stored REJECTED, with all the codes: a submission that succeeded
    result = body["data"]["submitInvoice"]
    assert result["userErrors"] == []
    assert result["invoice"]["status"] == "REJECTED"
    assert {e["code"] for e in result["invoice"]["exceptions"]} == {
        "COST_CENTER_FACILITY_MISMATCH",
        "TAX_MISMATCH",
        "TOTALS_MISMATCH",
    }


async def test_an_unknown_po_is_refused_and_nothing_is_stored(workflow_api, orders):
    order = orders.any_order()
    before = await invoices_of(workflow_api, order.supplier.id)

    body = await submit(
        workflow_api,
        replace(order.clean_invoice(), purchase_order_id="PO-2026-999999"),
        token=supplier_token(workflow_api, order),
    )

    assert body["data"]["submitInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "UNKNOWN_REFERENCE", "field": ["input", "purchaseOrderId"]}],
    }
    assert await invoices_of(workflow_api, order.supplier.id) == before


async def test_the_same_key_twice_stores_one_invoice(workflow_api, orders):
    order = await orders.take("full")
    token = supplier_token(workflow_api, order)
    invoice = order.clean_invoice()
    key = f"same-{uuid.uuid4()}"
    first = await submit(workflow_api, invoice, token=token, key=key)
    before = await invoices_of(workflow_api, order.supplier.id)

    again = await submit(workflow_api, invoice, token=token, key=key)

    assert again["data"] == first["data"]
    assert await invoices_of(workflow_api, order.supplier.id) == before
    assert (
        erp_postings(
            workflow_api.runtime,
            first["data"]["submitInvoice"]["invoice"]["id"],
            order.order.facility_id,
        )
        == 1
    )


async def test_the_same_key_with_another_payload_is_a_user_error(workflow_api, orders):
    order = orders.any_order()
    token = supplier_token(workflow_api, order)
    key = f"reused-{uuid.uuid4()}"
    invoice = replace(order.clean_invoice(), tax=Decimal("0.01"))
    await submit(workflow_api, invoice, token=token, key=key)
    before = await invoices_of(workflow_api, order.supplier.id)

    body = await submit(
        workflow_api, replace(invoice, total=invoice.total + 1), token=token, key=key
    )

    assert body["data"]["submitInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "IDEMPOTENCY_KEY_REUSED", "field": ["idempotencyKey"]}],
    }
    assert await invoices_of(workflow_api, order.supplier.id) == before


async def test_supplier_a_cannot_submit_for_supplier_b(workflow_api, orders, network):
    # given supplier B's PO and supplier A's token
    order = orders.any_order()
    other = next(s for s in network.suppliers if s.id != order.supplier.id)
    before = await invoices_of(workflow_api, order.supplier.id)

    # when A submits in B's name
    body = await submit(
        workflow_api,
        order.clean_invoice(),
        token=workflow_api.token(Role.SUPPLIER, supplier_id=other.id),
    )

    # then it is refused and nothing is stored for B
    assert body["data"]["submitInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "SUPPLIER_NOT_ALLOWED", "field": ["input", "supplierId"]}],
    }
    assert await invoices_of(workflow_api, order.supplier.id) == before


async def test_bad_input_comes_back_as_user_errors_next_to_the_fields(workflow_api, orders):
    order = orders.any_order()
    clean = order.clean_invoice()
    bad = replace(clean, lines=(replace(clean.lines[0], quantity=Decimal(0)),))
    before = await invoices_of(workflow_api, order.supplier.id)

    body = await submit(workflow_api, bad, token=supplier_token(workflow_api, order))

    assert body["data"]["submitInvoice"] == {
        "invoice": None,
        "userErrors": [{"code": "INVALID_QUANTITY", "field": ["input", "lines", "0", "quantity"]}],
    }
    assert await invoices_of(workflow_api, order.supplier.id) == before


async def test_a_caller_without_the_submit_scope_is_forbidden(workflow_api, orders):
    order = orders.any_order()
    before = await invoices_of(workflow_api, order.supplier.id)

    body = await submit(
        workflow_api,
        order.clean_invoice(),
        token=workflow_api.token(Role.AUDITOR),
        product="finance-ops/v1",
    )

    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await invoices_of(workflow_api, order.supplier.id) == before


async def test_a_malformed_id_is_bad_user_input(workflow_api, orders):
    order = orders.any_order()
    variables = {"input": {**as_input(order.clean_invoice()), "facilityId": "nope"}, "key": "k"}

    body = await workflow_api.graphql(
        SUBMIT, variables, token=supplier_token(workflow_api, order), product=PORTAL
    )

    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
