"""The business figures of DESIGN §9 counted from the database, in one read-only connection.

Counts are grouped in SQL; durations are read as one pass over the status history, whose
rows the statuses' order makes easy to walk in Python. At the demo's scale a scrape costs a
few tens of milliseconds; scrape every 30 s or slower on a large database.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.dead_letters import DeadLetterKind
from apgraph.domain.invoices import InvoiceStatus
from apgraph.services.ports.figures import (
    Figures,
    OpenAmount,
    Period,
    StatusCount,
)
from apgraph.services.ports.reads import ReasonCount
from apgraph.store.tables import (
    DeadLetterRow,
    InvoiceExceptionRow,
    InvoiceRow,
    InvoiceStatusChangeRow,
    OutboxRow,
    PaymentRow,
)

_invoices = InvoiceRow.__table__.c
_changes = InvoiceStatusChangeRow.__table__.c
_exceptions = InvoiceExceptionRow.__table__.c
_outbox = OutboxRow.__table__.c
_payments = PaymentRow.__table__.c
_letters = DeadLetterRow.__table__.c

S = InvoiceStatus
POSTED_OR_LATER = frozenset({S.POSTED, S.SCHEDULED, S.PAID, S.REMITTED})
UNPAID_LIABILITY = (S.POSTED.value, S.SCHEDULED.value)
WAITING_FOR_A_DECISION = frozenset({S.EXCEPTION.value, S.ON_HOLD.value})


@dataclass(frozen=True, slots=True)
class SqlFigures:
    engine: AsyncEngine

    async def figures(self, *, now: datetime, period: Period | None = None) -> Figures:
        """Everything, or with `period` the invoices received in it (see `Period`); the
        outbox and the liabilities are always as they stand now."""
        received = (
            (_invoices.received_at >= period.start) & (_invoices.received_at < period.end)
            if period is not None
            else true()
        )
        changed = (
            (_changes.at >= period.start) & (_changes.at < period.end)
            if period is not None
            else true()
        )
        async with self.engine.connect() as connection:
            current = await _counts(
                connection,
                select(_invoices.facility_id, _invoices.status, func.count())
                .where(received)
                .group_by(_invoices.facility_id, _invoices.status),
            )
            entered = await _counts(
                connection,
                select(_invoices.facility_id, _changes.to_status, func.count())
                .select_from(InvoiceStatusChangeRow.__table__)
                .join(InvoiceRow.__table__, _invoices.id == _changes.invoice_id)
                .where(changed)
                .group_by(_invoices.facility_id, _changes.to_status),
            )
            reasons = await connection.execute(
                select(_invoices.facility_id, _exceptions.code, func.count())
                .select_from(InvoiceExceptionRow.__table__)
                .join(InvoiceRow.__table__, _invoices.id == _exceptions.invoice_id)
                .where((_invoices.status == S.EXCEPTION.value) & received)
                .group_by(_invoices.facility_id, _exceptions.code)
            )
            history = await connection.execute(
                select(_changes.invoice_id, _changes.at, _changes.from_status, _changes.to_status)
                .select_from(InvoiceStatusChangeRow.__table__)
                .join(InvoiceRow.__table__, _invoices.id == _changes.invoice_id)
                .where(received)
                .order_by(_changes.invoice_id, _changes.sequence)
            )
            invoices = await connection.execute(
                select(_invoices.id, _invoices.status, _invoices.received_at).where(received)
            )
            owed = await connection.execute(
                select(_invoices.currency, func.sum(_invoices.total))
                .where(_invoices.status.in_(UNPAID_LIABILITY))
                .group_by(_invoices.currency)
            )
            settled = await connection.execute(
                select(_payments.released_at, _payments.paid_at).where(
                    _payments.released_at.is_not(None), _payments.paid_at.is_not(None)
                )
            )
            release_to_paid = [
                max((paid - released).total_seconds(), 0.0) for released, paid in settled
            ]
            unpublished = (
                await connection.execute(
                    select(func.count(), func.min(_outbox.occurred_at)).where(
                        _outbox.published_at.is_(None)
                    )
                )
            ).one()
            letters = await connection.execute(
                select(_letters.kind, func.count().label("open"))
                .where(_letters.resolved_at.is_(None))
                .group_by(_letters.kind)
            )
            dead_letters = dict.fromkeys(DeadLetterKind, 0)
            for letter in letters:
                dead_letters[DeadLetterKind(letter.kind)] = int(letter.open)
            statuses = {row.id: (S(row.status), row.received_at) for row in invoices}
            walked = _walk(history.all(), statuses)
        oldest: datetime | None = unpublished[1]
        return Figures(
            current=current,
            entered=entered,
            open_exceptions=[ReasonCount(f, code, n) for f, code, n in reasons],
            touched_by_exception=walked.touched_by_exception,
            posted=walked.posted,
            matched_first_time=walked.matched_first_time,
            match_attempted=walked.match_attempted,
            approval_cycle_seconds=walked.approval_cycles,
            receipt_to_posting_seconds=walked.receipt_to_posting,
            release_to_paid_seconds=release_to_paid,
            open_exception_ages_days=[
                (now - received).days
                for status, received in statuses.values()
                if status is S.EXCEPTION
            ],
            liabilities=[OpenAmount(currency, Decimal(amount)) for currency, amount in owed],
            outbox_unpublished=unpublished[0],
            outbox_oldest_unpublished_seconds=(
                max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
            ),
            dead_letters=dead_letters,
        )


async def _counts(connection: AsyncConnection, statement: Any) -> list[StatusCount]:
    return [StatusCount(f, status, n) for f, status, n in await connection.execute(statement)]


@dataclass(frozen=True, slots=True)
class _Walk:
    touched_by_exception: int
    posted: int
    matched_first_time: int
    match_attempted: int
    approval_cycles: Sequence[float]
    receipt_to_posting: Sequence[float]


def _walk(history: Sequence[Any], statuses: dict[str, tuple[InvoiceStatus, datetime]]) -> _Walk:
    """Per invoice, in history order: its first match, its decisions, its posting."""
    by_invoice: dict[str, list[Any]] = defaultdict(list)
    for row in history:
        by_invoice[row.invoice_id].append(row)
    touched = posted = clean_first = attempted = 0
    cycles: list[float] = []
    to_posting: list[float] = []
    for invoice_id, changes in by_invoice.items():
        targets = [c.to_status for c in changes]
        was_exception = S.EXCEPTION.value in targets
        if S.MATCHED.value in targets or was_exception:  # the match ran: MATCHED, then
            attempted += 1  # EXCEPTION when a finding needs a person (DESIGN §4)
            clean_first += not was_exception
        current = statuses.get(invoice_id)
        if current is not None and current[0] in POSTED_OR_LATER:
            posted += 1
            touched += was_exception
        entered_at: datetime | None = None
        for change in changes:
            if change.to_status == S.EXCEPTION.value and entered_at is None:
                entered_at = change.at
            elif (
                entered_at is not None
                and change.from_status in WAITING_FOR_A_DECISION
                and change.to_status not in WAITING_FOR_A_DECISION
            ):
                cycles.append((change.at - entered_at).total_seconds())
                entered_at = None
            if change.to_status == S.POSTED.value:
                to_posting.append((change.at - changes[0].at).total_seconds())
                break
    return _Walk(touched, posted, clean_first, attempted, cycles, to_posting)
