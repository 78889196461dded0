"""The audit trail in the database: appended in the caller's transaction, read in order.

Appending updates the one `audit_head` row first; that row lock serialises concurrent
appends, so the chain never forks, on PostgreSQL and SQLite alike.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Row, Select, Update, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.audit import AuditEntry, AuditEvent, AuditOutcome, chained
from apgraph.services.ports.reads import AuditFilter, Page
from apgraph.store.column_arrays import array_params, rows_of
from apgraph.store.reading import Values, count, execute_kept, fetch
from apgraph.store.tables import AuditEntryRow, AuditHeadRow

_log = AuditEntryRow.__table__.c
_head = AuditHeadRow.__table__.c
_TABLE = AuditEntryRow.__table__
_COLUMNS = tuple(column.name for column in _TABLE.c)
_PREFIX = "entry"


def _head_claim(count: str) -> Update:
    """Claims the next `count` (the parameter's name) sequences of the chain: the head's row
    lock, held to the end of the transaction, is what keeps the chain from forking."""
    return (
        update(AuditHeadRow)
        .where(_head.id == 1)
        .values(last_sequence=_head.last_sequence + bindparam(count, type_=Integer()))
        .returning(_head.last_sequence, _head.last_hash)
    )


_CLAIM = _head_claim("count")
# for a claim inside another statement (outbox.write_then_claim), whose own count is `count`
HEAD_CLAIM = _head_claim("audit_count")
_MOVE_HEAD = update(AuditHeadRow).where(_head.id == 1).values(last_hash=bindparam("last_hash"))
# built once (column_arrays.py): the entries, then the head's new hash, in one statement
_APPEND_AND_MOVE_HEAD = _MOVE_HEAD.add_cte(
    insert(AuditEntryRow)
    .from_select(_COLUMNS, rows_of(_TABLE, _COLUMNS, prefix=_PREFIX))
    .cte("appended")
)


def entry_from_row(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        sequence=row.sequence,
        at=row.at,
        event=AuditEvent(
            subject=row.subject,
            action=row.action,
            outcome=AuditOutcome(row.outcome),
            entity_ids=tuple(row.entity_ids),
            client_id=row.client_id,
            trace_id=row.trace_id,
            detail=row.detail,
        ),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def head_claim_parameters(events: Sequence[AuditEvent]) -> dict[str, int]:
    """`HEAD_CLAIM`'s parameters for appending `events`."""
    return {"audit_count": len(events)}


async def append(
    connection: AsyncConnection,
    events: Sequence[AuditEvent],
    *,
    at: datetime,
    claimed: Values | None = None,
) -> list[AuditEntry]:
    """Chains `events` after the current head, in the caller's transaction. `claimed`: the
    row `HEAD_CLAIM` answered for them, when the caller claimed the head in a statement of
    its own in this transaction (then this one only writes the entries and the head)."""
    if not events:
        return []
    if claimed is None:
        (claimed,) = await execute_kept(connection, _CLAIM, {"count": len(events)})
    last_sequence, prev_hash = claimed["last_sequence"], claimed["last_hash"]
    entries = []
    for offset, event in enumerate(events):
        entry = chained(last_sequence - len(events) + 1 + offset, at, event, prev_hash)
        entries.append(entry)
        prev_hash = entry.hash
    rows = [
        {
            "sequence": e.sequence,
            "at": e.at,
            "subject": e.event.subject,
            "client_id": e.event.client_id,
            "action": e.event.action,
            "entity_ids": list(e.event.entity_ids),
            "outcome": e.event.outcome.value,
            "trace_id": e.event.trace_id,
            "detail": e.event.detail,
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in entries
    ]
    if connection.dialect.name == "postgresql":
        # One round trip for the entries and the head's new hash (a data-modifying WITH runs
        # once, to completion, whether or not the outer statement reads it): the head's row
        # lock, which every append in every process waits for, is released sooner. The
        # entries go as column arrays, so the statement is compiled once (column_arrays.py).
        await execute_kept(
            connection,
            _APPEND_AND_MOVE_HEAD,
            {"last_hash": prev_hash, **array_params(_TABLE, _COLUMNS, rows, prefix=_PREFIX)},
        )
    else:
        await connection.execute(insert(AuditEntryRow), rows)
        await connection.execute(_MOVE_HEAD, {"last_hash": prev_hash})
    return entries


@dataclass(frozen=True, slots=True)
class AuditRepository:
    engine: AsyncEngine

    async def record(self, events: Sequence[AuditEvent], *, at: datetime) -> None:
        """In a transaction of its own: for what happens outside any other change."""
        async with self.engine.begin() as connection:
            await append(connection, events, at=at)

    def _filtered(self, where: AuditFilter) -> Select[Any]:
        statement = select(AuditEntryRow.__table__)
        if where.subject is not None:
            statement = statement.where(_log.subject == where.subject)
        if where.action is not None:
            statement = statement.where(_log.action == where.action)
        if where.since is not None:
            statement = statement.where(_log.at >= where.since)
        if where.until is not None:
            statement = statement.where(_log.at <= where.until)
        return statement

    async def page(self, where: AuditFilter, *, first: int, after: int | None) -> Page[AuditEntry]:
        """Newest first: `after` is the sequence of the last entry already seen."""
        statement = self._filtered(where)
        if after is not None:
            statement = statement.where(_log.sequence < after)
        rows = await fetch(self.engine, statement.order_by(_log.sequence.desc()).limit(first + 1))
        return Page(
            items=[entry_from_row(row) for row in rows[:first]],
            has_next_page=len(rows) > first,
            has_previous_page=after is not None,
        )

    async def count(self, where: AuditFilter) -> int:
        return await count(self.engine, self._filtered(where))

    async def in_order(self, *, chunk: int = 5000) -> AsyncIterator[AuditEntry]:
        """Every entry, oldest first, a chunk at a time."""
        after = 0
        while True:
            statement = (
                select(AuditEntryRow.__table__)
                .where(_log.sequence > after)
                .order_by(_log.sequence)
                .limit(chunk)
            )
            rows = await fetch(self.engine, statement)
            for row in rows:
                yield entry_from_row(row)
            if len(rows) < chunk:
                return
            after = rows[-1].sequence

    async def head(self) -> tuple[int, str]:
        rows = await fetch(self.engine, select(_head.last_sequence, _head.last_hash))
        return rows[0].last_sequence, rows[0].last_hash
