"""The workflow tests' PO supply never runs dry: past the pool, minted copies bill like the
originals, on SQLite and PostgreSQL (tests/order_supply.py)."""

import uuid
from typing import Any

import pytest

from apgraph.domain.principal import Role
from tests.order_supply import copy_of
from tests.workflow import Order, Orders, as_input, erp_postings

SUBMIT = """
mutation Submit($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) {
    invoice { id status exceptions { code } }
    userErrors { code field }
  }
}
"""
MINTED = "PO-2026-7"  # the prefix of every minted PO's ID
BEYOND_THE_POOL = 3


async def submit_clean(api: Any, order: Order) -> dict[str, Any]:
    token = api.token(Role.SUPPLIER, supplier_id=order.supplier.id)
    variables = {"input": as_input(order.clean_invoice()), "key": f"key-{uuid.uuid4()}"}
    result = (await api.data(SUBMIT, variables, token=token, product="supplier-portal/v1"))[
        "submitInvoice"
    ]
    assert result["userErrors"] == [], result
    invoice: dict[str, Any] = result["invoice"]
    return invoice


@pytest.mark.parametrize("receipts", ["full", "partial", "none"])
def test_a_copy_is_received_like_its_original_and_bills_more_than_earlier_copies(
    order_pool: Orders, receipts
):
    # given a pool PO and its first two copies
    original = next(order for order in order_pool.all if order.receipts == receipts)
    first, second = copy_of(original, 1), copy_of(original, 2)

    # then each copy is received like the original, under IDs of its own
    assert first.receipts == second.receipts == receipts
    assert first.received == second.received == original.received
    assert len({original.order.id, first.order.id, second.order.id}) == 3

    # and billing the same units of any line totals more on each later copy
    for line in original.lines:
        totals = [o.invoice({line.line_no: line.quantity}).total for o in (original, first, second)]
        assert totals == sorted(set(totals)), line


async def test_more_fully_received_orders_than_the_pool_holds_all_post_once(workflow_api, orders):
    # given every fully received PO of the pool taken, and some more
    wanted = sum(order.receipts == "full" for order in orders.pool.all) + BEYOND_THE_POOL
    taken = [await orders.take("full") for _ in range(wanted)]
    minted = [order for order in taken if order.order.id.startswith(MINTED)]
    assert len(minted) >= BEYOND_THE_POOL
    assert len({order.order.id for order in taken}) == wanted

    # when each supplier bills what was received on each
    invoices = [await submit_clean(workflow_api, order) for order in taken]

    # then every invoice is posted, none a duplicate of another, each booked once in its ERP
    assert [(i["status"], i["exceptions"]) for i in invoices] == [("POSTED", [])] * wanted
    assert [
        erp_postings(workflow_api.runtime, invoice["id"], order.order.facility_id)
        for invoice, order in zip(invoices, taken, strict=True)
    ] == [1] * wanted
