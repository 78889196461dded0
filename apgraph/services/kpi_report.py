"""`apgraph report`: the dashboard's KPIs for a date range, from the figures /metrics reads.

Counts by facility are the status changes made in the range (invoices received, validated,
rejected, matched, sent to exception, posted); rates and cycle times are of the invoices
received in the range (store/figures.py, `Period`).
"""

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from apgraph.domain.invoices import InvoiceStatus
from apgraph.services.ports.figures import FigureReader, Period

COUNTED = (
    InvoiceStatus.RECEIVED,
    InvoiceStatus.VALIDATED,
    InvoiceStatus.REJECTED,
    InvoiceStatus.MATCHED,
    InvoiceStatus.EXCEPTION,
    InvoiceStatus.POSTED,
)


@dataclass(frozen=True, slots=True)
class FacilityCounts:
    facility_id: str
    counts: dict[str, int]  # status name (COUNTED) → status changes into it in the range


@dataclass(frozen=True, slots=True)
class Spread:
    """Durations in hours: how many, the median and the 90th percentile (None: none)."""

    count: int
    p50_hours: float | None
    p90_hours: float | None


@dataclass(frozen=True, slots=True)
class KpiReport:
    start: date
    end: date  # inclusive
    by_facility: Sequence[FacilityCounts]
    match_rate: float | None  # None: nothing was matched
    touchless_rate: float | None  # None: nothing was posted
    approval_cycle: Spread
    receipt_to_posting: Spread
    exceptions_by_reason: Sequence[tuple[str, str, int]]  # facility, reason, open exceptions


def period_of(start: date, end: date, tz: timezone = UTC) -> Period:
    """Whole days, `end` included: [start 00:00, the day after end 00:00)."""
    if end < start:
        raise ValueError(f"--to {end} is before --from {start}")
    return Period(
        datetime.combine(start, time(), tz), datetime.combine(end + timedelta(days=1), time(), tz)
    )


async def kpi_report(reader: FigureReader, start: date, end: date, *, now: datetime) -> KpiReport:
    figures = await reader.figures(now=now, period=period_of(start, end))
    counted = {status.value for status in COUNTED}
    by_facility: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(counted, 0))
    for row in figures.entered:
        if row.status in counted:
            by_facility[row.facility_id][row.status] += row.count
    return KpiReport(
        start=start,
        end=end,
        by_facility=[FacilityCounts(f, by_facility[f]) for f in sorted(by_facility)],
        match_rate=_ratio(figures.matched_first_time, figures.match_attempted),
        touchless_rate=_ratio(figures.posted - figures.touched_by_exception, figures.posted),
        approval_cycle=spread(figures.approval_cycle_seconds),
        receipt_to_posting=spread(figures.receipt_to_posting_seconds),
        exceptions_by_reason=sorted(
            (r.facility_id, r.code, r.count) for r in figures.open_exceptions
        ),
    )


def spread(seconds: Sequence[float]) -> Spread:
    ordered = sorted(seconds)
    return Spread(len(ordered), _hours(percentile(ordered, 0.5)), _hours(percentile(ordered, 0.9)))


def percentile(ordered: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values: a value that occurred, never a blend."""
    if not ordered:
        return None
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 2)


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
