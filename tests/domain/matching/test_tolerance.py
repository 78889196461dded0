"""Tolerance: allowed = min(base × percent / 100, absolute); only strictly more fails."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgraph.domain.matching.tolerance import NO_TOLERANCE, Tolerance

SUPPLIES = Tolerance(percent=Decimal("2"), absolute=Decimal("25.00"))
FAST = settings(max_examples=200, deadline=None)
amounts = st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False)
percents = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False)


@pytest.mark.parametrize(
    ("tolerance", "base", "allowed"),
    [
        (SUPPLIES, "100.00", "2.00"),  # 2 % is the stricter limit
        (SUPPLIES, "5000.00", "25.00"),  # 2 % would allow 100.00; the cap is 25.00
        (SUPPLIES, "1250.00", "25.00"),  # both limits agree
        (SUPPLIES, "0", "0"),  # nothing received: nothing to be tolerant of
        (NO_TOLERANCE, "100.00", "0"),
        (Tolerance(percent=Decimal("1.5"), absolute=Decimal("100")), "10.00", "0.15"),
    ],
)
def test_the_allowance_is_the_stricter_of_percent_and_absolute(tolerance, base, allowed):
    assert tolerance.allowance_on(Decimal(base)) == Decimal(allowed)


@pytest.mark.parametrize(
    ("actual", "base", "exceeded"),
    [
        ("102.00", "100.00", False),  # exactly at tolerance passes
        ("102.01", "100.00", True),
        ("5025.00", "5000.00", False),
        ("5025.01", "5000.00", True),
        ("90.00", "100.00", False),  # less than the base is never a variance
    ],
)
def test_only_a_variance_strictly_above_the_allowance_fails(actual, base, exceeded):
    assert SUPPLIES.exceeded_by(Decimal(actual), Decimal(base)) is exceeded


def test_a_negative_tolerance_is_refused():
    with pytest.raises(ValueError, match="never negative"):
        Tolerance(percent=Decimal("-1"), absolute=Decimal("0"))


@FAST
@given(percent=percents, absolute=amounts, base=amounts)
def test_the_allowance_never_exceeds_either_limit(percent, absolute, base):
    allowed = Tolerance(percent=percent, absolute=absolute).allowance_on(base)
    assert Decimal(0) <= allowed <= absolute
    assert allowed <= base * percent / 100


@FAST
@given(percent=percents, absolute=amounts, base=amounts, data=st.data())
def test_billing_no_more_than_the_base_is_never_exceeded(percent, absolute, base, data):
    actual = data.draw(st.decimals(min_value=0, max_value=base, places=4, allow_nan=False))
    assert not Tolerance(percent=percent, absolute=absolute).exceeded_by(actual, base)
