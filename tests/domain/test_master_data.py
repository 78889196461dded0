from datetime import date

import pytest

from apgraph.domain.codes import ValidationCode as Code
from apgraph.domain.facilities import CostCenter
from apgraph.domain.master_data import check_cost_center, check_purchase_order
from apgraph.domain.purchasing import PurchaseOrder, PurchaseOrderStatus


def order(status=PurchaseOrderStatus.OPEN):
    return PurchaseOrder(
        id="PO-2026-000001",
        supplier_id="SUP-000001",
        facility_id="FAC-0001",
        cost_center_id="CC-0001-4410",
        status=status,
        currency="USD",
        ordered_on=date(2026, 5, 1),
    )


def codes(reasons):
    return [reason.code for reason in reasons]


def test_an_open_po_of_the_right_supplier_and_facility_passes():
    assert (
        check_purchase_order(
            order(),
            purchase_order_id="PO-2026-000001",
            supplier_id="SUP-000001",
            facility_id="FAC-0001",
        )
        == []
    )


def test_an_unknown_po_is_only_not_found():
    reasons = check_purchase_order(
        None, purchase_order_id="PO-2026-000009", supplier_id="SUP-000002", facility_id="FAC-0002"
    )
    assert codes(reasons) == [Code.PO_NOT_FOUND]


@pytest.mark.parametrize("status", [PurchaseOrderStatus.CLOSED, PurchaseOrderStatus.CANCELLED])
def test_closed_and_cancelled_pos_are_po_closed(status):
    reasons = check_purchase_order(
        order(status), purchase_order_id="PO-2026-000001", supplier_id=None, facility_id=None
    )
    assert codes(reasons) == [Code.PO_CLOSED]


def test_every_failing_reason_is_reported_once():
    reasons = check_purchase_order(
        order(PurchaseOrderStatus.CLOSED),
        purchase_order_id="PO-2026-000001",
        supplier_id="SUP-000002",
        facility_id="FAC-0002",
    )
    assert codes(reasons) == [Code.PO_CLOSED, Code.PO_SUPPLIER_MISMATCH, Code.PO_FACILITY_MISMATCH]


def cost_center(facility_id, active=True):
    code = "4410"
    return CostCenter(
        id=f"CC-{facility_id[4:]}-{code}",
        facility_id=facility_id,
        code=code,
        name="Surgical Services",
        active=active,
        approvers=(),
    )


@pytest.mark.parametrize(
    ("facility_known", "same_code", "expected"),
    [
        (True, [cost_center("FAC-0001")], []),
        (True, [cost_center("FAC-0001", active=False)], [Code.COST_CENTER_INVALID]),
        (True, [], [Code.COST_CENTER_INVALID]),
        (True, [cost_center("FAC-0002")], [Code.COST_CENTER_FACILITY_MISMATCH]),
        (False, [cost_center("FAC-0001")], [Code.FACILITY_NOT_FOUND]),
    ],
    ids=["active-here", "inactive", "unknown", "other-facility", "unknown-facility"],
)
def test_cost_center_check(facility_known, same_code, expected):
    reasons = check_cost_center(
        facility_id="FAC-0001", code="4410", facility_known=facility_known, same_code=same_code
    )
    assert codes(reasons) == expected
