from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apgraph.domain.aging import AgingBucket, Waiting, aging

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (0, AgingBucket.DAYS_0_2),
        (2, AgingBucket.DAYS_0_2),  # upper bounds are inclusive
        (3, AgingBucket.DAYS_3_7),
        (7, AgingBucket.DAYS_3_7),
        (14, AgingBucket.DAYS_8_14),
        (30, AgingBucket.DAYS_15_30),
        (31, AgingBucket.OVER_30),
        (400, AgingBucket.OVER_30),
    ],
)
def test_each_age_falls_in_exactly_one_bucket(days, bucket):
    assert AgingBucket.for_age(days) is bucket


def test_totals_are_exact_per_bucket_and_currency_with_empty_buckets_shown():
    items = [
        Waiting(NOW - timedelta(days=1), Decimal("0.10"), "USD"),
        Waiting(NOW - timedelta(days=1, hours=5), Decimal("0.20"), "USD"),
        Waiting(NOW - timedelta(days=45), Decimal("1000.00"), "USD"),
        Waiting(NOW + timedelta(hours=1), Decimal("5.00"), "CAD"),  # skewed clock: age 0
    ]
    result = {(b.bucket, b.currency): (b.count, b.total) for b in aging(items, now=NOW)}
    assert result[(AgingBucket.DAYS_0_2, "USD")] == (2, Decimal("0.30"))
    assert result[(AgingBucket.OVER_30, "USD")] == (1, Decimal("1000.00"))
    assert result[(AgingBucket.DAYS_3_7, "USD")] == (0, Decimal(0))
    assert result[(AgingBucket.DAYS_0_2, "CAD")] == (1, Decimal("5.00"))
    assert len(result) == 2 * len(AgingBucket)
