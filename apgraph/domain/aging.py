"""How long open exceptions have waited, in the buckets AP dashboards use."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum


class AgingBucket(Enum):
    """Days since the invoice was received; each bucket's upper bound is inclusive."""

    DAYS_0_2 = (0, 2)
    """Received 0 to 2 days ago."""
    DAYS_3_7 = (3, 7)
    """Received 3 to 7 days ago."""
    DAYS_8_14 = (8, 14)
    """Received 8 to 14 days ago."""
    DAYS_15_30 = (15, 30)
    """Received 15 to 30 days ago."""
    OVER_30 = (31, None)
    """Received 31 or more days ago."""

    def __init__(self, first_day: int, last_day: int | None) -> None:
        self.first_day = first_day
        self.last_day = last_day

    @classmethod
    def for_age(cls, days: int) -> "AgingBucket":
        return next(b for b in cls if b.last_day is None or days <= b.last_day)


@dataclass(frozen=True, slots=True)
class Waiting:
    """One open exception: when it arrived and what it bills."""

    received_at: datetime
    total: Decimal
    currency: str


@dataclass(frozen=True, slots=True)
class BucketTotal:
    bucket: AgingBucket
    currency: str
    count: int
    total: Decimal


def age_in_days(received_at: datetime, now: datetime) -> int:
    """Whole days waited; an invoice from the future (clock skew) counts as 0."""
    return max((now - received_at).days, 0)


def aging(items: Iterable[Waiting], *, now: datetime) -> list[BucketTotal]:
    """Every bucket for every currency present, empty buckets included, in bucket order."""
    counts: dict[tuple[AgingBucket, str], tuple[int, Decimal]] = {}
    currencies: set[str] = set()
    for item in items:
        key = (AgingBucket.for_age(age_in_days(item.received_at, now)), item.currency)
        count, total = counts.get(key, (0, Decimal(0)))
        counts[key] = (count + 1, total + item.total)
        currencies.add(item.currency)
    return [
        BucketTotal(bucket, currency, *counts.get((bucket, currency), (0, Decimal(0))))
        for currency in sorted(currencies)
        for bucket in AgingBucket
    ]
