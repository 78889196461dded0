"""purchaseOrder(id), purchaseOrders, validatePurchaseOrder(input)."""

from decimal import Decimal

import pytest

from apgraph.domain.purchasing import PurchaseOrderStatus

PURCHASE_ORDER = """
query One($id: ID!) {
  purchaseOrder(id: $id) {
    id status currency orderedOn
    supplier { id } facility { id } costCenter { id code }
    lines { lineNo itemId category quantity unitOfMeasure unitPrice { amount currency } }
    goodsReceipts { id lineNo quantity }
  }
}
"""

VALIDATE = """
query Validate($input: ValidatePurchaseOrderInput!) {
  validatePurchaseOrder(input: $input) {
    valid
    reasons { code message }
    purchaseOrder { id }
  }
}
"""


def open_order(network):
    return next(o for o in network.purchase_orders if o.status is PurchaseOrderStatus.OPEN)


async def test_a_purchase_order_comes_with_its_lines_and_receipts(api, network):
    order = network.purchase_orders[0]
    lines = [line for po_id, line in network.purchase_order_lines if po_id == order.id]
    receipts = [r for r in network.goods_receipts if r.purchase_order_id == order.id]

    data = await api.data(PURCHASE_ORDER, {"id": order.id})

    found = data["purchaseOrder"]
    assert found["supplier"] == {"id": order.supplier_id}
    assert found["facility"] == {"id": order.facility_id}
    assert found["costCenter"]["id"] == order.cost_center_id
    assert [line["lineNo"] for line in found["lines"]] == [line.line_no for line in lines]
    assert found["lines"][0]["unitPrice"] == {
        "amount": str(lines[0].unit_price),
        "currency": order.currency,
    }
    assert sorted(r["id"] for r in found["goodsReceipts"]) == sorted(r.id for r in receipts)


async def test_an_open_po_billed_by_its_supplier_at_its_facility_is_valid(api, network):
    order = open_order(network)
    data = await api.data(
        VALIDATE,
        {
            "input": {
                "purchaseOrderId": order.id,
                "supplierId": order.supplier_id,
                "facilityId": order.facility_id,
            }
        },
    )
    assert data["validatePurchaseOrder"] == {
        "valid": True,
        "reasons": [],
        "purchaseOrder": {"id": order.id},
    }


@pytest.mark.parametrize("status", ["CLOSED", "CANCELLED"])
async def test_a_closed_or_cancelled_po_is_po_closed(api, network, status):
    order = next(o for o in network.purchase_orders if o.status.value == status)
    data = await api.data(VALIDATE, {"input": {"purchaseOrderId": order.id}})
    result = data["validatePurchaseOrder"]
    assert result["valid"] is False
    assert [r["code"] for r in result["reasons"]] == ["PO_CLOSED"]


async def test_every_mismatch_is_reported(api, network):
    order = open_order(network)
    other_supplier = next(s.id for s in network.suppliers if s.id != order.supplier_id)
    other_facility = next(f.id for f in network.facilities if f.id != order.facility_id)
    data = await api.data(
        VALIDATE,
        {
            "input": {
                "purchaseOrderId": order.id,
                "supplierId": other_supplier,
                "facilityId": other_facility,
            }
        },
    )
    assert [r["code"] for r in data["validatePurchaseOrder"]["reasons"]] == [
        "PO_SUPPLIER_MISMATCH",
        "PO_FACILITY_MISMATCH",
    ]


async def test_an_unknown_po_is_po_not_found(api):
    data = await api.data(VALIDATE, {"input": {"purchaseOrderId": "PO-2026-999999"}})
    assert data["validatePurchaseOrder"]["reasons"][0]["code"] == "PO_NOT_FOUND"
    assert data["validatePurchaseOrder"]["purchaseOrder"] is None


async def test_a_malformed_po_id_is_bad_user_input_naming_the_field(api):
    body = await api.graphql(VALIDATE, {"input": {"purchaseOrderId": "PO-1"}})
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "input.purchaseOrderId",
    }


async def test_purchase_orders_filter_by_supplier(api, network):
    supplier_id = network.purchase_orders[0].supplier_id
    expected = sorted(o.id for o in network.purchase_orders if o.supplier_id == supplier_id)
    data = await api.data(
        "query($s: ID) { purchaseOrders(filter: {supplierId: $s}, first: 100)"
        " { totalCount edges { node { id } } } }",
        {"s": supplier_id},
    )
    assert data["purchaseOrders"]["totalCount"] == len(expected)
    assert [e["node"]["id"] for e in data["purchaseOrders"]["edges"]] == expected[:100]


QUANTITIES = """
query($id: ID!) {
  purchaseOrder(id: $id) {
    lines { lineNo quantity receivedQuantity billedQuantity openQuantity }
  }
}
"""

OPEN_TO_BILL = """
query($s: ID, $open: Boolean) {
  purchaseOrders(filter: {supplierId: $s, openToBill: $open}, first: 100) {
    totalCount edges { node { id status lines { quantity billedQuantity openQuantity } } }
  }
}
"""


def billed_in_network(network, order_id: str, line_no: int) -> Decimal:
    """What the demo network's invoices (all but REJECTED) bill on one PO line."""
    counted = {
        i.id
        for i in network.invoices
        if i.purchase_order_id == order_id and i.status.name != "REJECTED"
    }
    return sum(
        (
            line.quantity
            for invoice_id, line in network.invoice_lines
            if invoice_id in counted and line.po_line_no == line_no
        ),
        Decimal(0),
    )


async def test_each_po_line_tells_what_was_received_billed_and_is_left_to_bill(api, network):
    # given closed POs the demo network billed (closed: no test bills them further)
    billed = {i.purchase_order_id for i in network.invoices}
    orders = [
        o
        for o in network.purchase_orders
        if o.id in billed and o.status is PurchaseOrderStatus.CLOSED
    ][:5]
    assert orders
    for order in orders:
        lines = [line for po_id, line in network.purchase_order_lines if po_id == order.id]

        # when an integrator asks for the quantities per line
        found = (await api.data(QUANTITIES, {"id": order.id}))["purchaseOrder"]["lines"]

        # then each is the demo network's own arithmetic, without trailing zeros
        for line, answer in zip(lines, found, strict=True):
            received = sum(
                (
                    r.quantity
                    for r in network.goods_receipts
                    if r.purchase_order_id == order.id and r.line_no == line.line_no
                ),
                Decimal(0),
            )
            billed = billed_in_network(network, order.id, line.line_no)
            assert Decimal(answer["receivedQuantity"]) == received
            assert Decimal(answer["billedQuantity"]) == billed
            assert Decimal(answer["openQuantity"]) == max(line.quantity - billed, Decimal(0))
            assert not answer["billedQuantity"].endswith(".0000")


async def test_the_open_to_bill_filter_splits_a_suppliers_pos_by_what_is_left(api, network):
    supplier = network.suppliers[0].id
    everything = (await api.data(OPEN_TO_BILL, {"s": supplier}))["purchaseOrders"]
    still_open = (await api.data(OPEN_TO_BILL, {"s": supplier, "open": True}))["purchaseOrders"]
    done = (await api.data(OPEN_TO_BILL, {"s": supplier, "open": False}))["purchaseOrders"]

    assert still_open["totalCount"] > 0
    assert done["totalCount"] > 0
    assert still_open["totalCount"] + done["totalCount"] == everything["totalCount"]
    for edge in still_open["edges"]:
        node = edge["node"]
        assert node["status"] not in ("CLOSED", "CANCELLED")
        assert any(Decimal(line["openQuantity"]) > 0 for line in node["lines"])
    for edge in done["edges"]:
        node = edge["node"]
        assert node["status"] in ("CLOSED", "CANCELLED") or all(
            Decimal(line["openQuantity"]) == 0 for line in node["lines"]
        )
