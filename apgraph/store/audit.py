"""The audit trail in the database: appended in the caller's transaction, read in order.

Appending locks the one `audit_head` row first; that row lock serialises concurrent appends,
so the chain never forks, on PostgreSQL and SQLite alike. On PostgreSQL the entries are
hashed in the statement that locks the head (`chained_after`), to the same hashes
domain/audit.py's `entry_hash` gives, so anyone can still check the chain in Python.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    Select,
    Text,
    Update,
    bindparam,
    cast,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.audit import (
    SEQUENCE_BETWEEN,
    AuditEntry,
    AuditEvent,
    AuditOutcome,
    canonical_halves,
    chained,
    event_fields,
)
from apgraph.services.ports.reads import AuditFilter, Page
from apgraph.store.column_arrays import POSITION, array_params, typed, unnested, widened
from apgraph.store.reading import count, execute_kept, fetch
from apgraph.store.tables import AuditEntryRow, AuditHeadRow

_log = AuditEntryRow.__table__.c
_head = AuditHeadRow.__table__.c
_TABLE = AuditEntryRow.__table__
_PREFIX = "entry"


_CLAIM = (
    update(AuditHeadRow)
    .where(_head.id == 1)
    .values(last_sequence=_head.last_sequence + bindparam("count", type_=Integer()))
    .returning(_head.last_sequence, _head.last_hash)
)  # claims the next `count` sequences; the head's row lock keeps the chain from forking
_MOVE_HEAD = update(AuditHeadRow).where(_head.id == 1).values(last_hash=bindparam("last_hash"))

# What an entry holds besides its place in the chain, and its canonical text around that
# place (domain/audit.py canonical_halves), as column arrays: PostgreSQL chains them itself.
_CONTENT = ("at", "subject", "client_id", "action", "entity_ids", "outcome", "trace_id", "detail")
_INPUT = widened("audit_input", _TABLE, _CONTENT, before=Text(), after=Text())
_INPUT_NAMES = tuple(_INPUT.c.keys())


def chained_after(gate: ColumnElement[bool]) -> Update:
    """Appends the entries given as `chain_parameters` to the chain in one PostgreSQL
    statement: locks the head where `gate` holds (a claim in the same statement it must come
    after, so that every writer locks the two rows in one order), hashes each entry after the
    one before as `entry_hash` does (a recursive CTE over the canonical texts), inserts them
    and moves the head. One round trip under the head's row lock, which every audited change
    of every process waits for, where claiming the head, hashing here and writing took two.
    Answers the head as it ends up; no row where `gate` does not hold (nothing written)."""
    given = unnested(_INPUT, _INPUT_NAMES, prefix=_PREFIX)
    entries = select(given).cte("entries")
    head = (
        select(_head.last_sequence, _head.last_hash)
        .where(_head.id == 1, gate)
        .with_for_update()
        .cte("head")
    )
    chain = select(
        cast(literal(0), BigInteger).label("position"),
        head.c.last_sequence.label("sequence"),
        cast(head.c.last_hash, Text).label("prev_hash"),
        cast(head.c.last_hash, Text).label("hash"),
    ).cte("chain", recursive=True)
    sequence = chain.c.sequence + 1
    # constants of ours, inlined: nothing a caller sends is written into the SQL text
    canonical = (
        entries.c.before
        + chain.c.hash
        + literal_column(f"'{SEQUENCE_BETWEEN}'", Text())
        + cast(sequence, Text)
        + entries.c.after
    )
    digest = func.sha256(func.convert_to(canonical, literal_column("'UTF8'")))
    chain = chain.union_all(
        select(
            entries.c[POSITION],
            sequence,
            chain.c.hash,
            func.encode(digest, literal_column("'hex'"), type_=Text()),
        ).select_from(chain.join(entries, entries.c[POSITION] == chain.c.position + 1))
    )
    appended = (
        insert(AuditEntryRow)
        .from_select(
            ["sequence", *_CONTENT, "prev_hash", "hash"],
            select(
                chain.c.sequence,
                *(typed(_INPUT, entries, name) for name in _CONTENT),
                chain.c.prev_hash,
                chain.c.hash,
            ).select_from(chain.join(entries, entries.c[POSITION] == chain.c.position)),
        )
        .returning(_log.sequence, _log.hash)
        .cte("appended")
    )
    last = (
        select(appended.c.sequence, appended.c.hash)
        .order_by(appended.c.sequence.desc())
        .limit(1)
        .cte("last_appended")
    )
    return (
        update(AuditHeadRow)
        .where(_head.id == 1, exists(select(last.c.sequence)))
        .values(
            last_sequence=select(last.c.sequence).scalar_subquery(),
            last_hash=select(last.c.hash).scalar_subquery(),
        )
        .returning(_head.last_sequence, _head.last_hash)
    )


_APPEND = chained_after(true())  # built once (column_arrays.py)


def chain_parameters(events: Sequence[AuditEvent], *, at: datetime) -> dict[str, Any]:
    """`chained_after`'s parameters for appending `events` at `at`."""
    rows = []
    for event in events:
        before, after = canonical_halves(at, event)
        rows.append({**_content_row(event, at), "before": before, "after": after})
    return array_params(_INPUT, _INPUT_NAMES, rows, prefix=_PREFIX)


def _content_row(event: AuditEvent, at: datetime) -> dict[str, Any]:
    return {"at": at, **event_fields(event)}


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


async def append(
    connection: AsyncConnection, events: Sequence[AuditEvent], *, at: datetime
) -> None:
    """Chains `events` after the current head, in the caller's transaction: on PostgreSQL in
    one statement (`chained_after`); elsewhere the head is claimed, the entries hashed here
    and written with the head's new hash (SQLite: a local file, no round trip to save)."""
    if not events:
        return
    if connection.dialect.name == "postgresql":
        if not await execute_kept(connection, _APPEND, chain_parameters(events, at=at)):
            raise RuntimeError("the audit chain's head row is missing")
        return
    (claimed,) = await execute_kept(connection, _CLAIM, {"count": len(events)})
    last_sequence, prev_hash = claimed["last_sequence"], claimed["last_hash"]
    rows = []
    for offset, event in enumerate(events):
        entry = chained(last_sequence - len(events) + 1 + offset, at, event, prev_hash)
        rows.append(
            {
                "sequence": entry.sequence,
                **_content_row(event, at),
                "prev_hash": entry.prev_hash,
                "hash": entry.hash,
            }
        )
        prev_hash = entry.hash
    await connection.execute(insert(AuditEntryRow), rows)
    await connection.execute(_MOVE_HEAD, {"last_hash": prev_hash})


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
