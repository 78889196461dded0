"""The business figures operators watch (DESIGN §9), as the store counts them at a scrape.

Read from the database, not counted in a process: every worker and instance reports the same
truth, and a restart loses nothing.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.services.ports.reads import ReasonCount


@dataclass(frozen=True, slots=True)
class StatusCount:
    """Invoices of one facility that are in (`current`) or ever entered (`entered`) a status."""

    facility_id: str
    status: str
    count: int


@dataclass(frozen=True, slots=True)
class OpenAmount:
    currency: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Figures:
    """One scrape's worth: every figure from one snapshot of the database."""

    current: Sequence[StatusCount]  # invoices by facility and status now
    entered: Sequence[StatusCount]  # status changes into each status, ever (monotonic)
    open_exceptions: Sequence[ReasonCount]  # reasons of invoices in EXCEPTION now
    touched_by_exception: int  # posted (or later) invoices that were ever in EXCEPTION
    posted: int  # invoices posted (or later)
    matched_first_time: int  # invoices the match passed without an exception
    match_attempted: int  # invoices the match ran on (MATCHED or EXCEPTION)
    approval_cycle_seconds: Sequence[float]  # EXCEPTION entered → left it by a decision
    receipt_to_posting_seconds: Sequence[float]  # received → posted
    release_to_paid_seconds: Sequence[float]  # payment released to the ERP → confirmed paid
    open_exception_ages_days: Sequence[int]  # per invoice in EXCEPTION now
    liabilities: Sequence[OpenAmount]  # posted, not yet paid
    outbox_unpublished: int
    outbox_oldest_unpublished_seconds: float  # 0 when every event is published
    dead_letters: Mapping[DeadLetterKind, int]  # letters waiting for a replay, every kind


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end), as instants: a report's date range. Within it, `entered` counts the
    status changes made in it; every other figure is of the invoices received in it (their
    match, decisions and postings, whenever those happened)."""

    start: datetime
    end: datetime


class FigureReader(Protocol):
    async def figures(self, *, now: datetime, period: Period | None = None) -> Figures: ...
