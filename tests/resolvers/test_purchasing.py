"""purchaseOrder(id), purchaseOrders, validatePurchaseOrder(input)."""

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
