"""MISSING_RECEIPT, QTY_VARIANCE and OVER_BILLED, on what was billed on a PO line in all."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.domain.codes import MatchCode
from apgraph.domain.matching.quantity import check_ordered, check_received
from apgraph.domain.matching.tolerance import NO_TOLERANCE, Tolerance

PHARMACY = NO_TOLERANCE  # pharmacy allows no quantity variance
SUPPLIES = Tolerance(percent=Decimal("2"), absolute=Decimal("10"))
MISSING, QTY, OVER = MatchCode.MISSING_RECEIPT, MatchCode.QTY_VARIANCE, MatchCode.OVER_BILLED
quantities = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)


def code(finding):
    return finding.code if finding else None


@pytest.mark.parametrize(
    ("billed", "received", "tolerance", "expected"),
    [
        ("100", "100", PHARMACY, None),
        ("101", "100", PHARMACY, QTY),  # pharmacy billed above receipt
        ("102", "100", SUPPLIES, None),  # 2 % of 100 received, exactly at tolerance
        ("102.5", "100", SUPPLIES, QTY),
        ("1010", "1000", SUPPLIES, None),  # 2 % would allow 20; the cap is 10 units
        ("1011", "1000", SUPPLIES, QTY),
        ("60", "100", PHARMACY, None),  # billing less than arrived never flags
        ("5", "0", SUPPLIES, QTY),  # a receipt of nothing is a receipt: a variance, not missing
    ],
)
def test_billed_above_received_beyond_tolerance_is_a_qty_variance(
    billed, received, tolerance, expected
):
    finding = check_received(
        line_no=1,
        billed=Decimal(billed),
        received=Decimal(received),
        tolerance=tolerance,
        receipt_required=True,
    )
    assert code(finding) == expected


def test_a_line_with_no_receipt_at_all_is_missing_receipt_and_never_a_qty_variance():
    finding = check_received(
        line_no=3, billed=Decimal("40"), received=None, tolerance=PHARMACY, receipt_required=True
    )
    assert finding is not None
    assert (finding.code, finding.line_no, finding.expected, finding.actual) == (
        MISSING,
        3,
        Decimal(0),
        Decimal(40),
    )


def test_where_policy_needs_no_receipt_a_line_without_one_is_matched_two_way():
    finding = check_received(
        line_no=1, billed=Decimal("40"), received=None, tolerance=PHARMACY, receipt_required=False
    )
    assert finding is None


def test_a_receipt_that_exists_is_compared_even_where_none_is_required():
    finding = check_received(
        line_no=1,
        billed=Decimal("40"),
        received=Decimal("30"),
        tolerance=PHARMACY,
        receipt_required=False,
    )
    assert code(finding) == QTY


@pytest.mark.parametrize(
    ("billed", "ordered", "expected"),
    [
        ("100", "100", None),
        ("100.01", "100", OVER),  # no tolerance on what was ordered
        ("99", "100", None),
    ],
)
def test_billed_in_all_above_ordered_is_over_billed(billed, ordered, expected):
    finding = check_ordered(line_no=1, billed=Decimal(billed), ordered=Decimal(ordered))
    assert code(finding) == expected


def test_the_message_names_the_figures():
    finding = check_ordered(line_no=2, billed=Decimal("120"), ordered=Decimal("100"))
    assert finding is not None
    assert finding.message == "billed 120 in all, ordered 100"
    assert finding.as_exception().code == "OVER_BILLED"
    assert finding.as_exception().line_no == 2


@settings(max_examples=200, deadline=None)
@given(received=quantities, ordered=quantities, data=st.data())
def test_under_billing_never_produces_a_finding(received, ordered, data):
    billed = data.draw(st.decimals(min_value=0, max_value=min(received, ordered), places=2))
    assert (
        check_received(
            line_no=1, billed=billed, received=received, tolerance=PHARMACY, receipt_required=True
        )
        is None
    )
    assert check_ordered(line_no=1, billed=billed, ordered=ordered) is None
