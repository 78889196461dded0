"""Goods receipts from the materials management simulator over loopback."""

import pytest

from apgraph.domain.codes import ConnectorCode
from apgraph.domain.ids import PurchaseOrderId
from apgraph.services.ports.connectors import ConnectorError, ConnectorMappingError
from apgraph.simulators.faults import Fault, FaultKind
from tests.connectors.support import HANG

RECEIPTS = "GET /api/purchase-orders/{}/receipts"


@pytest.fixture
def mm(served):
    return served.simulators.materials


def an_order_with_receipts(network) -> PurchaseOrderId:
    return network.goods_receipts[0].purchase_order_id


async def test_the_receipts_of_a_po_map_to_canonical_goods_receipts(stack, network):
    order = an_order_with_receipts(network)

    receipts = await stack.materials.receipts_for(order)

    expected = sorted(
        (r for r in network.goods_receipts if r.purchase_order_id == order),
        key=lambda r: (r.received_at, r.id),
    )
    assert receipts == expected


async def test_a_po_it_never_saw_has_no_receipts(stack):
    assert await stack.materials.receipts_for(PurchaseOrderId("PO-2026-999999")) == []


async def test_a_503_then_success_is_retried(stack, mm, network):
    order = an_order_with_receipts(network)
    mm.plan.add(Fault(FaultKind.ERROR, times=1))

    assert await stack.materials.receipts_for(order)

    assert mm.plan.calls[RECEIPTS.format(order)] == 2


async def test_timeouts_past_the_attempts_are_materials_unavailable(stack, mm, network):
    order = an_order_with_receipts(network)
    mm.plan.add(Fault(FaultKind.TIMEOUT, seconds=HANG, times=None))

    with pytest.raises(ConnectorError) as failed:
        await stack.materials.receipts_for(order)

    assert failed.value.code is ConnectorCode.MATERIALS_UNAVAILABLE
    assert mm.plan.calls[RECEIPTS.format(order)] == 3


async def test_a_receipt_without_a_quantity_fails_the_whole_answer(stack, mm, network):
    mm.plan.add(Fault(FaultKind.MALFORMED, field="quantityReceived"))

    with pytest.raises(ConnectorMappingError) as failed:
        await stack.materials.receipts_for(an_order_with_receipts(network))

    assert failed.value.field == "quantityReceived"
