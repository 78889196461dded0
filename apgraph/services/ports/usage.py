"""API product usage: what the gateway counts per product, version, client and operation,
and what operators read back (who still calls a deprecated version)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UsageKey:
    """One minute of one client's one operation on one product version."""

    minute: datetime  # aware UTC, seconds zeroed
    product: str
    version: str
    client: str
    operation: str  # the operation's name; "(anonymous)" when it has none


@dataclass(frozen=True, slots=True)
class UsageCount:
    key: UsageKey
    requests: int
    errors: int  # refused, or answered with errors
    latency_ms_total: float
    latency_ms_max: float


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """Usage summed over a period, per product, version, client and operation."""

    product: str
    version: str
    client: str
    operation: str
    requests: int
    errors: int
    mean_latency_ms: float
    max_latency_ms: float
    last_seen: datetime


class UsageReader(Protocol):
    async def totals(
        self, *, product: str | None, version: str | None, since: datetime | None
    ) -> Sequence[UsageTotal]:
        """Most requests first; None filters nothing."""
        ...


class UsageWriter(Protocol):
    async def add(self, counts: Sequence[UsageCount]) -> None:
        """Adds to the stored counts of the same keys (several instances write the same)."""
        ...
