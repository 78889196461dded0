"""PRICE_VARIANCE: the billed unit price against the PO unit price."""

from decimal import Decimal

import pytest

from apgraph.domain.codes import MatchCode
from apgraph.domain.matching.price import check_unit_price
from apgraph.domain.matching.tolerance import Tolerance

STRICT = Tolerance(percent=Decimal("0"), absolute=Decimal("0"))
SUPPLIES = Tolerance(percent=Decimal("2"), absolute=Decimal("5.00"))
VARIANCE = MatchCode.PRICE_VARIANCE


@pytest.mark.parametrize(
    ("billed", "ordered", "tolerance", "expected"),
    [
        ("10.20", "10.00", SUPPLIES, None),  # 2 % of 10.00 is 0.20
        ("10.21", "10.00", SUPPLIES, VARIANCE),
        ("1005.00", "1000.00", SUPPLIES, None),  # the cap, exactly
        ("1010.00", "1000.00", SUPPLIES, VARIANCE),  # 2 % would allow 20.00; the cap is 5.00
        ("10.01", "10.00", STRICT, VARIANCE),
        ("9.50", "10.00", STRICT, None),  # under-billing never flags
        ("0.0376", "0.0375", STRICT, VARIANCE),  # a vial priced to the hundredth of a cent
    ],
)
def test_a_price_over_the_stricter_tolerance_is_a_variance(billed, ordered, tolerance, expected):
    finding = check_unit_price(
        line_no=1, billed=Decimal(billed), ordered=Decimal(ordered), tolerance=tolerance
    )
    assert (finding.code if finding else None) == expected


def test_a_price_variance_says_what_was_billed_and_what_the_po_says():
    finding = check_unit_price(
        line_no=4, billed=Decimal("11.00"), ordered=Decimal("10.00"), tolerance=STRICT
    )
    assert finding is not None
    assert (finding.line_no, finding.expected, finding.actual) == (
        4,
        Decimal("10.00"),
        Decimal("11.00"),
    )
    assert finding.message == "unit price 11.00, PO price 10.00"
