"""The transactional outbox (DESIGN §5): events written in their change's transaction, and
read back in sequence order by the relay that publishes them and the subscriber that resumes.

Sequences come from the `outbox` counter, claimed in the writing transaction: its row lock
makes them gap-free in commit order, so a reader that saw sequence n has seen every lower one.
"""

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    Insert,
    Integer,
    Row,
    Select,
    Update,
    bindparam,
    exists,
    func,
    insert,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.event_payloads import to_payload
from apgraph.domain.events import Event
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.domain.principal import RowScope
from apgraph.services.ports.unit_of_work import OutboxRecord, OutboxTurn
from apgraph.store import counters
from apgraph.store.column_arrays import POSITION, array_params, typed, unnested
from apgraph.store.outbox_notices import notify_relayed
from apgraph.store.reading import (
    Values,
    among_parameter,
    execute_kept,
    fetch,
    fetch_values,
    write_alone,
)
from apgraph.store.relay_turn import relay_turn
from apgraph.store.scoping import by_supplier_and_facility
from apgraph.store.tables import CounterRow, OutboxRow

COUNTER = "outbox"

_outbox = OutboxRow.__table__.c
_counter = CounterRow.__table__.c
_FIELDS: tuple[str, ...] = ("id", "type", "occurred_at", "invoice_id", "supplier_id")
_FIELDS += ("facility_id", "trace_id", "payload", "published_at")
_TABLE = OutboxRow.__table__
_PREFIX = "event"


async def write(
    connection: AsyncConnection,
    events: Sequence[Event],
    *,
    trace_id: str | None,
    published_at: datetime | None = None,
) -> int | None:
    """Envelopes `events` under the next sequences, in the caller's transaction; answers the
    last sequence written (None when there are no events).

    `published_at`: already history (the demo seed), so the relay does not announce it."""
    if not events:
        return None
    rows = _enveloped(events, trace_id=trace_id, published_at=published_at)
    last = None
    if connection.dialect.name == "postgresql":
        # The claim and the insert in one round trip: the counter's row lock, which every
        # writing transaction of every process waits for, is held one round trip less.
        # The events go as one array per field: the same statement, compiled once, however
        # many there are (a payment confirming thousands of invoices included).
        inserted = await execute_kept(connection, _CLAIM_AND_INSERT, _inserting(rows))
        last = max((row["sequence"] for row in inserted), default=None)
    if last is None:  # SQLite, or no counter row yet (then nothing was inserted)
        last = await _claim_and_insert(connection, rows)
    return last


async def write_then(
    connection: AsyncConnection,
    events: Sequence[Event],
    then: Callable[[ColumnElement[bool]], Update],
    parameters: Mapping[str, Any],
    *,
    trace_id: str | None,
) -> int:
    """`write`, and then the statement `then(gate)` builds (an `UPDATE … RETURNING` of
    another row every writer locks, such as the audit chain's `chained_after`; its
    parameters named apart from `count` and `event_*`): on PostgreSQL in the same
    statement, one round trip under both row locks instead of two. The outbox counter is
    always taken first (`gate` holds only once it has been claimed), so writers still lock
    the two in one order. PostgreSQL only: `then` is PostgreSQL's."""
    if not events:
        raise ValueError("write_then writes at least one event")
    rows = _enveloped(events, trace_id=trace_id, published_at=None)
    written = await execute_kept(
        connection, _claimed_inserted_then(then), {**_inserting(rows), **parameters}
    )
    if written:
        (row,) = written
        if any(value is None for name, value in row.items() if name != _LAST):
            raise RuntimeError(f"{then.__name__} wrote nothing after the events: its row is gone")
        return int(row[_LAST])
    # none when the counter's row is missing (nothing was written): claimed apart, then `then`
    # (its own row is there: the audit head's comes with the first migrations)
    last = await _claim_and_insert(connection, rows)
    await execute_kept(connection, _ungated(then), parameters)
    return last


def _enveloped(
    events: Sequence[Event], *, trace_id: str | None, published_at: datetime | None
) -> list[dict[str, Any]]:
    """The events' outbox rows (`_FIELDS`), numbered by the statement that inserts them:
    built as rows directly, as no caller reads the records back (a record built, then copied
    with its sequence by `dataclasses.replace`, cost ~1 % of a submission)."""
    return [
        {
            "id": str(uuid4()),
            "type": event.type,
            "occurred_at": event.occurred_at,
            "invoice_id": event.invoice_id,
            "supplier_id": event.supplier_id,
            "facility_id": event.facility_id,
            "trace_id": trace_id,
            "payload": dict(to_payload(event)),
            "published_at": published_at,
        }
        for event in events
    ]


def _inserting(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of the claim-and-insert statements: the count, and one array per field."""
    return {"count": len(rows), **array_params(_TABLE, _FIELDS, rows, prefix=_PREFIX)}


async def _claim_and_insert(connection: AsyncConnection, rows: Sequence[dict[str, Any]]) -> int:
    """SQLite's way, and the first write into a database without the counter's row: the
    claim (which starts the counter after the highest sequence on file), then the insert."""
    last = await counters.claim(connection, COUNTER, len(rows), floor=_highest_sequence)
    first = last - len(rows) + 1
    await connection.execute(
        insert(OutboxRow),
        [{"sequence": first + offset, **row} for offset, row in enumerate(rows)],
    )
    return last


def _claimed_and_inserted() -> tuple[CTE, Insert]:
    """`WITH claimed AS (UPDATE counters … RETURNING) INSERT INTO outbox SELECT … FROM
    unnest(…)`: `count` events numbered after the claimed values, in order; no row when the
    counter's row is missing. Answers the claim (a CTE of the insert) and the insert."""
    count = bindparam("count", type_=BigInteger())
    claimed = (
        update(CounterRow)
        .where(_counter.name == COUNTER)
        .values(last_value=_counter.last_value + count)
        .returning(_counter.last_value)
        .cte("claimed")
    )
    events = unnested(_TABLE, _FIELDS, prefix=_PREFIX)
    numbered = (
        select(
            claimed.c.last_value - count + events.c[POSITION],
            *(typed(_TABLE, events, name) for name in _FIELDS),
        )
        .select_from(claimed)
        .join(events, true())
    )
    inserted = (
        insert(OutboxRow)
        .from_select(["sequence", *_FIELDS], numbered)
        .add_cte(claimed)
        .returning(_outbox.sequence)
    )
    return claimed, inserted


_LAST = "outbox_last_sequence"  # write_then's column of the last sequence written


@cache
def _claimed_inserted_then(then: Callable[[ColumnElement[bool]], Update]) -> Select[Any]:
    """`_CLAIM_AND_INSERT` with `then`'s statement after it, in one statement, built once per
    `then`: its gate is an EXISTS on the outbox counter's claim, which PostgreSQL evaluates
    first, so `then`'s row is locked second, as `write` and then a statement of its own
    would lock it. One row: the last sequence written and `then`'s returned columns (nulls
    where `then` found no row of its own); none when the counter's row is missing (and
    nothing written)."""
    claimed, inserted = _claimed_and_inserted()
    written = inserted.cte("written")
    after = then(exists(select(claimed.c.last_value))).cte("after")
    last = select(func.max(written.c.sequence)).scalar_subquery().label(_LAST)
    return select(last, *after.c).select_from(claimed.outerjoin(after, true()))


@cache
def _ungated(then: Callable[[ColumnElement[bool]], Update]) -> Update:
    return then(true())


_CLAIM_AND_INSERT = _claimed_and_inserted()[1]  # built once: see column_arrays.py
_HEAD = select(func.coalesce(func.max(_outbox.sequence), 0).label("head"))


async def _highest_sequence(connection: AsyncConnection) -> int:
    return int(await connection.scalar(_HEAD) or 0)


def record_from_row(row: Row[Any]) -> OutboxRecord:
    return record_from_values(row._mapping)


def record_from_values(values: Values) -> OutboxRecord:
    return OutboxRecord(
        id=values["id"],
        type=values["type"],
        sequence=values["sequence"],
        occurred_at=values["occurred_at"],
        invoice_id=InvoiceId(values["invoice_id"]),
        supplier_id=SupplierId(values["supplier_id"]),
        facility_id=FacilityId(values["facility_id"]),
        trace_id=values["trace_id"],
        payload=values["payload"],
        published_at=values["published_at"],
    )


# The relay's two statements, built once (reading.fetch_values, write_alone): it runs them
# after every commit that wrote events, a submission's two among them (issue 19).
_PENDING = (
    select(OutboxRow.__table__)
    .where(_outbox.published_at.is_(None))
    .order_by(_outbox.sequence)
    .limit(bindparam("limit", type_=Integer()))
)


@cache
def _marked_published(dialect: str) -> Update:
    """Records not marked yet among the bound `ids` get `at`: a record already marked keeps
    its first `published_at`."""
    return (
        update(OutboxRow)
        .where(among_parameter(dialect, _outbox.id, "ids"), _outbox.published_at.is_(None))
        .values(published_at=bindparam("at"))
    )


@dataclass(frozen=True, slots=True)
class _TurnOnConnection:
    """A relay's turn on PostgreSQL: its batch read and marked in the turn's transaction."""

    connection: AsyncConnection

    async def pending(self, limit: int) -> Sequence[OutboxRecord]:
        rows = await execute_kept(self.connection, _PENDING, {"limit": limit})
        return [record_from_values(row) for row in rows]

    async def mark_published(self, ids: Sequence[str], *, at: datetime) -> None:
        """Marks them in the turn's transaction, and has the other processes' hubs told when
        it commits (store/outbox_notices.py)."""
        if ids:
            statement = _marked_published(self.connection.dialect.name)
            await execute_kept(self.connection, statement, {"ids": list(ids), "at": at})
            await notify_relayed(self.connection)


@dataclass(frozen=True, slots=True)
class OutboxRepository:
    """The relay's side of the outbox, and the caller's history (`history`, scoped to
    `scope`): each call in a transaction of its own."""

    engine: AsyncEngine
    scope: RowScope = RowScope()

    async def pending(self, limit: int) -> Sequence[OutboxRecord]:
        rows = await fetch_values(self.engine, _PENDING, {"limit": limit})
        return [record_from_values(row) for row in rows]

    @asynccontextmanager
    async def relay_turn(self) -> AsyncIterator[OutboxTurn]:
        """On PostgreSQL an advisory lock, and the batch read and marked on its connection;
        on SQLite a file lock (store/relay_turn.py)."""
        async with relay_turn(self.engine) as connection:
            yield self if connection is None else _TurnOnConnection(connection)

    async def mark_published(self, ids: Sequence[str], *, at: datetime) -> None:
        """Idempotent: a record already marked keeps its first `published_at`. One statement,
        committed on its own (in autocommit on PostgreSQL: no BEGIN and COMMIT around it)."""
        if not ids:
            return
        statement = _marked_published(self.engine.dialect.name)
        await write_alone(self.engine, statement, {"ids": list(ids), "at": at})

    async def of_invoice(self, invoice_id: str) -> Sequence[OutboxRecord]:
        """One invoice's events, oldest first; callers check the invoice is theirs to see."""
        statement = (
            select(OutboxRow.__table__)
            .where(_outbox.invoice_id == invoice_id)
            .order_by(_outbox.sequence)
        )
        return [record_from_row(row) for row in await fetch(self.engine, statement)]

    async def after(self, sequence: int, limit: int) -> Sequence[OutboxRecord]:
        statement = (
            select(OutboxRow.__table__)
            .where(_outbox.sequence > sequence)
            .order_by(_outbox.sequence)
            .limit(limit)
        )
        return [record_from_row(row) for row in await fetch(self.engine, statement)]

    async def sequence_before(self, at: datetime) -> int:
        async with self.engine.connect() as connection:
            first = await connection.scalar(
                select(func.min(_outbox.sequence)).where(_outbox.occurred_at >= at)
            )
            return int(first) - 1 if first is not None else await _highest_sequence(connection)

    async def by_ids(self, ids: Sequence[str]) -> Sequence[OutboxRecord]:
        if not ids:
            return []
        statement = (
            select(OutboxRow.__table__).where(_outbox.id.in_(ids)).order_by(_outbox.sequence)
        )
        return [record_from_row(row) for row in await fetch(self.engine, statement)]

    async def head(self) -> int:
        """The highest sequence on file (0 for none): each server's subscription hub asks it
        every second, so it is a kept statement (`fetch_values`), not one built per call."""
        (row,) = await fetch_values(self.engine, _HEAD)
        return int(row["head"])

    async def history(
        self,
        *,
        after: int,
        first: int,
        types: Collection[str] = (),
        invoice_id: str | None = None,
        newest: bool = False,
    ) -> Sequence[OutboxRecord]:
        """The scope's events after sequence `after`, oldest first: the first `first` of them,
        or (`newest`) the last `first`."""
        statement = by_supplier_and_facility(
            select(OutboxRow.__table__).where(_outbox.sequence > after),
            self.scope,
            supplier=_outbox.supplier_id,
            facility=_outbox.facility_id,
        )
        if types:
            statement = statement.where(_outbox.type.in_(sorted(types)))
        if invoice_id is not None:
            statement = statement.where(_outbox.invoice_id == invoice_id)
        order = _outbox.sequence.desc() if newest else _outbox.sequence
        rows = await fetch(self.engine, statement.order_by(order).limit(first))
        records = [record_from_row(row) for row in rows]
        return records[::-1] if newest else records
