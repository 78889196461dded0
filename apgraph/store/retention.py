"""Purging records past their retention, kind by kind, in bounded batches.

Each batch is one short transaction, so a purge never holds locks for long and an
interrupted one leaves a consistent database (the next run carries on). Records of an
invoice under legal hold, or of any invoice of a supplier under hold, are never selected.

The audit trail is purged by checkpoint: each batch first appends a signed checkpoint entry
recording the hash of the last entry it deletes (the cut), then deletes the entries up to
the cut, in the same transaction. `apgraph audit verify` starts from that checkpoint, so the
chain stays verifiable; an entry naming a held invoice or supplier stops the cut before it.

A new kind of record is one entry in PURGES.
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Table, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.audit import CHECKPOINT, AuditEvent, AuditOutcome, Checkpoint
from apgraph.store import audit
from apgraph.store.audit import AuditRepository
from apgraph.store.database import begin_writing
from apgraph.store.tables import (
    AttachmentContentRow,
    AttachmentRow,
    AuditEntryRow,
    IdempotencyKeyRow,
    InvoiceRow,
    InvoiceStatusChangeRow,
    LegalHoldRow,
    OutboxRow,
    ProductUsageRow,
)

RETENTION_SUBJECT = "system:retention"


def _t(model: Any) -> Table:
    table: Table = model.__table__
    return table


_invoices = _t(InvoiceRow)
_holds = _t(LegalHoldRow)
_log = _t(AuditEntryRow)


@dataclass(slots=True)
class Purged:
    """What one kind's purge removed (or, in a dry run, would remove)."""

    kind: str
    count: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None
    sequences: tuple[int, int] | None = None  # the audit trail: first and last removed

    def add(self, count: int, oldest: datetime | None, newest: datetime | None) -> None:
        self.count += count
        if oldest is not None and (self.oldest is None or oldest < self.oldest):
            self.oldest = oldest
        if newest is not None and (self.newest is None or newest > self.newest):
            self.newest = newest

    def detail(self, *, before: datetime, dry_run: bool) -> dict[str, object]:
        found: dict[str, object] = {
            "kind": self.kind,
            "count": self.count,
            "before": before.isoformat(),
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
            "dry_run": dry_run,
        }
        if self.sequences is not None:
            found["sequences"] = list(self.sequences)
        return found


@dataclass(frozen=True, slots=True)
class PurgeRun:
    """One kind's purge: records before `before`, `batch` at a time."""

    engine: AsyncEngine
    before: datetime
    batch: int
    dry_run: bool
    now: datetime
    checkpoint_key: bytes | None  # signs audit checkpoints


class Purge(Protocol):
    async def __call__(self, kind: str, run: PurgeRun) -> Purged: ...


def held_invoices() -> Any:
    """IDs of invoices under hold, themselves or through their supplier."""
    held = select(_holds.c.entity_id)
    return select(_invoices.c.id).where(
        or_(_invoices.c.id.in_(held), _invoices.c.supplier_id.in_(held))
    )


@dataclass(frozen=True, slots=True)
class TablePurge:
    """Rows of one table older than the cut-off, keyed by `key`; `children` rows (same key
    values, in their own key columns) go first, as foreign keys ask."""

    table: Table
    at: str
    key: tuple[str, ...]
    invoice: str | None = None  # the column naming the invoice, for legal holds
    only: Callable[[Table], ColumnElement[bool]] | None = None
    children: Sequence[tuple[Table, tuple[str, ...]]] = field(default_factory=tuple)

    def _eligible(self, before: datetime) -> list[ColumnElement[bool]]:
        conditions = [self.table.c[self.at] < before]
        if self.invoice is not None:
            conditions.append(self.table.c[self.invoice].not_in(held_invoices()))
        if self.only is not None:
            conditions.append(self.only(self.table))
        return conditions

    async def __call__(self, kind: str, run: PurgeRun) -> Purged:
        purged = Purged(kind)
        at = self.table.c[self.at]
        if run.dry_run:
            async with run.engine.connect() as connection:
                found = (
                    await connection.execute(
                        select(func.count(), func.min(at), func.max(at)).where(
                            *self._eligible(run.before)
                        )
                    )
                ).one()
            purged.add(found[0], found[1], found[2])
            return purged
        keys = [self.table.c[column] for column in self.key]
        while True:
            async with run.engine.connect() as connection:
                await begin_writing(connection)
                rows = (
                    await connection.execute(
                        select(*keys, at)
                        .where(*self._eligible(run.before))
                        .order_by(at)
                        .limit(run.batch)
                    )
                ).all()
                if not rows:
                    await connection.commit()
                    return purged
                values = [tuple(row[: len(keys)]) for row in rows]
                for child, columns in self.children:
                    await connection.execute(
                        delete(child).where(_matching([child.c[c] for c in columns], values))
                    )
                await connection.execute(delete(self.table).where(_matching(keys, values)))
                await connection.commit()
            purged.add(len(rows), rows[0][-1], rows[-1][-1])
            if len(rows) < run.batch:
                return purged


def _matching(columns: Sequence[Any], values: Sequence[tuple[Any, ...]]) -> ColumnElement[bool]:
    if len(columns) == 1:
        return columns[0].in_([value[0] for value in values])  # type: ignore[no-any-return]
    return tuple_(*columns).in_(values)


async def purge_audit_trail(kind: str, run: PurgeRun) -> Purged:
    """By checkpoint (see the module docstring); never past an entry naming a held entity."""
    purged = Purged(kind)
    while True:
        async with run.engine.connect() as connection:
            if not run.dry_run:
                await begin_writing(connection)
            held = await _held_ids(connection)
            after = purged.sequences[1] if purged.sequences else 0
            rows = (
                await connection.execute(
                    select(_log.c.sequence, _log.c.at, _log.c.entity_ids, _log.c.hash)
                    .where(_log.c.sequence > after)
                    .order_by(_log.c.sequence)
                    .limit(run.batch)
                )
            ).all()
            cut = _cut(rows, before=run.before, held=held)
            if cut is None:
                await connection.commit()  # nothing written: ends the transaction
                return purged
            removed = [row for row in rows if row.sequence <= cut.sequence]
            if not run.dry_run:
                if run.checkpoint_key is None:
                    raise RuntimeError("no checkpoint key: the audit trail cannot be purged")
                checkpoint = Checkpoint.signed(cut.sequence, cut.hash, key=run.checkpoint_key)
                event = AuditEvent(
                    subject=RETENTION_SUBJECT,
                    action=CHECKPOINT,
                    outcome=AuditOutcome.SUCCEEDED,
                    detail=checkpoint.detail(removed=len(removed)),
                )
                await audit.append(connection, [event], at=run.now)
                await connection.execute(delete(_log).where(_log.c.sequence <= cut.sequence))
                await connection.commit()
        purged.add(len(removed), removed[0].at, removed[-1].at)
        first = purged.sequences[0] if purged.sequences else removed[0].sequence
        purged.sequences = (first, cut.sequence)
        if cut.sequence != rows[-1].sequence:
            return purged  # stopped by age or by a hold: the rest is kept


def _cut(rows: Sequence[Any], *, before: datetime, held: set[str]) -> Any:
    """The last of `rows` that may go: every entry up to it is old enough and names nothing
    held; None when the first may not."""
    cut = None
    for row in rows:
        if row.at >= before or held.intersection(row.entity_ids):
            break
        cut = row
    return cut


async def _held_ids(connection: AsyncConnection) -> set[str]:
    """Entities under hold, and the invoices of held suppliers: entries naming any stay."""
    held = set((await connection.execute(select(_holds.c.entity_id))).scalars())
    held |= set((await connection.execute(held_invoices())).scalars())
    return held


def _published(table: Table) -> ColumnElement[bool]:
    """An event not yet published is still owed to subscribers: never purged."""
    return table.c.published_at.is_not(None)


PURGES: Mapping[str, Purge] = {
    "audit_trail": purge_audit_trail,
    "status_history": TablePurge(
        _t(InvoiceStatusChangeRow), "at", ("invoice_id", "sequence"), invoice="invoice_id"
    ),
    "outbox_events": TablePurge(
        _t(OutboxRow), "occurred_at", ("sequence",), invoice="invoice_id", only=_published
    ),
    "idempotency_keys": TablePurge(_t(IdempotencyKeyRow), "created_at", ("scope", "key")),
    "usage_records": TablePurge(
        _t(ProductUsageRow), "minute", ("minute", "product", "version", "client", "operation")
    ),
    "attachments": TablePurge(
        _t(AttachmentRow),
        "uploaded_at",
        ("id",),
        invoice="invoice_id",
        children=((_t(AttachmentContentRow), ("attachment_id",)),),
    ),
}


PURGED = "retention.purged"


async def purge_all(
    engine: AsyncEngine,
    kinds: Mapping[str, timedelta],
    *,
    batch: int,
    now: datetime,
    dry_run: bool,
    checkpoint_key: bytes | None,
    actor: str,
) -> list[Purged]:
    """Each kind's records older than its period; unless a dry run, one audit entry per kind
    that lost any (counts, time range, and for the audit trail the sequences)."""
    results = []
    for kind, period in kinds.items():
        run = PurgeRun(engine, now - period, batch, dry_run, now, checkpoint_key)
        purged = await PURGES[kind](kind, run)
        results.append(purged)
        if purged.count and not dry_run:
            event = AuditEvent(
                subject=actor,
                action=PURGED,
                outcome=AuditOutcome.SUCCEEDED,
                detail=json.dumps(purged.detail(before=run.before, dry_run=False), sort_keys=True),
            )
            await AuditRepository(engine).record([event], at=now)
    return results
