"""The unit of work of STYLE §3.4: one connection, one transaction, committed once or not at all.

Invoice writes go to the database as they are made, so a broken constraint surfaces where it
was broken. Outbox events and audit entries are queued and written by `commit()`, outbox
first: the two global counters they claim are then locked only for the last moments of the
transaction, and always in the same order, so units of work never deadlock on them.

On SQLite the transaction starts with `BEGIN IMMEDIATE`: units of work take the one write
lock up front and queue for it (busy_timeout), instead of reading under a snapshot that a
concurrent commit makes stale, which SQLite refuses at the first write.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import groupby
from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.domain.audit import AuditEvent
from apgraph.domain.events import Event
from apgraph.store import audit, outbox
from apgraph.store.database import begin_writing
from apgraph.store.dead_letters import DeadLetterWrites
from apgraph.store.idempotency import IdempotencyKeyStore
from apgraph.store.invoice_writes import InvoiceWrites
from apgraph.store.keyring import Keyring
from apgraph.store.payment_writes import PaymentWrites


class _QueuedEvents:
    def __init__(self) -> None:
        self.queued: list[Event] = []

    async def add(self, events: Sequence[Event]) -> None:
        self.queued.extend(events)


class _QueuedAudit:
    def __init__(self) -> None:
        self.queued: list[tuple[Sequence[AuditEvent], datetime]] = []

    async def add(self, events: Sequence[AuditEvent], *, at: datetime) -> None:
        self.queued.append((tuple(events), at))


class SqlUnitOfWork:
    """Single use: `async with SqlUnitOfWork(engine, trace_id=...) as uow: ...`.

    `trace_id` is the request's, stamped on every outbox event the unit of work writes;
    `on_events` is told after a commit that wrote events (it wakes the relay at once);
    `keyring` opens the sealed bank accounts payment runs compare (without it, payees come
    with their classified fields closed).
    """

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        trace_id: str | None = None,
        on_events: Callable[[], None] | None = None,
        keyring: Keyring | None = None,
    ) -> None:
        self._engine = engine
        self._keyring = keyring
        self._trace_id = trace_id
        self._on_events = on_events
        self._connection: AsyncConnection | None = None
        self._used = False
        self._committed = False
        self._events = _QueuedEvents()
        self._audit = _QueuedAudit()

    async def __aenter__(self) -> Self:
        if self._used:
            raise RuntimeError("a unit of work is used for one block only; make a new one")
        self._used = True
        connection = await self._engine.connect()
        try:
            await begin_writing(connection)
        except BaseException:
            await connection.close()
            raise
        self._connection = connection
        self._invoices = InvoiceWrites(connection)
        self._payments = PaymentWrites(connection, self._keyring)
        self._idempotency = IdempotencyKeyStore(connection)
        self._dead_letters = DeadLetterWrites(connection)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            if not self._committed:
                await connection.rollback()
        finally:
            await connection.close()

    @property
    def invoices(self) -> InvoiceWrites:
        self._open()
        return self._invoices

    @property
    def payments(self) -> PaymentWrites:
        self._open()
        return self._payments

    @property
    def outbox(self) -> _QueuedEvents:
        self._open()
        return self._events

    @property
    def audit(self) -> _QueuedAudit:
        self._open()
        return self._audit

    @property
    def idempotency(self) -> IdempotencyKeyStore:
        self._open()
        return self._idempotency

    @property
    def dead_letters(self) -> DeadLetterWrites:
        self._open()
        return self._dead_letters

    async def commit(self) -> None:
        """Writes the queued events and audit entries, then commits; at most once."""
        connection = self._open()
        if self._committed:
            raise RuntimeError("this unit of work has already committed")
        # one chain append per moment: a sweep audits each invoice, in three statements
        appends = [
            (at, [e for events, _ in batch for e in events])
            for at, batch in groupby(self._audit.queued, key=lambda queued: queued[1])
        ]
        if self._events.queued and appends and connection.dialect.name == "postgresql":
            # the first append in the outbox's statement: the counter and the chain's head,
            # which every writer waits for, are held for one statement and the COMMIT
            (at, first), *appends = appends
            await outbox.write_then(
                connection,
                self._events.queued,
                audit.chained_after,
                audit.chain_parameters(first, at=at),
                trace_id=self._trace_id,
            )
        else:
            await outbox.write(connection, self._events.queued, trace_id=self._trace_id)
        for at, events in appends:
            await audit.append(connection, events, at=at)
        await connection.commit()
        self._committed = True
        if self._events.queued and self._on_events is not None:
            self._on_events()

    def _open(self) -> AsyncConnection:
        if self._connection is None:
            raise RuntimeError("use the unit of work inside its `async with` block")
        return self._connection
