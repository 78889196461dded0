"""The relays' turn (`Outbox.relay_turn`): one relay at a time runs a batch of the outbox,
whatever the number of processes (workers, servers) on the database.

Before, every process's relay read the pending events, delivered and marked them. Two
relays reading at once delivered overlapping batches: the analytics platform, which
deduplicates a batch by its content, counted each forecast of the overlap twice, and every
relay did every batch's work (issue 19). A process's hub still hears the events another
relayed, from the outbox (events/hub.py fills its gaps).
"""

import asyncio
import fcntl
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

LOCK_CLASS = 0x61706772  # "apgr": the first key of the relays' advisory lock
FILE_POLL_SECONDS = 0.02  # how often a relay waiting for a turn on SQLite tries again

# Held for the whole batch, delivery included, so nothing may end the transaction early: a
# session killed for idling in it would free the turn mid-batch, and a relay cancelled for
# waiting would log a failure for what is only its turn coming late. Transaction-scoped.
_WAITS_ALLOWED = text(
    "SELECT set_config('idle_in_transaction_session_timeout', '0', true),"
    " set_config('lock_timeout', '0', true), set_config('statement_timeout', '0', true)"
)
# Advisory locks are per database; the outbox table's own identity keys this one, so two
# deployments (or test runs) in schemas of one database never wait for each other.
_TURN = text("SELECT pg_advisory_xact_lock(:lock_class, 'outbox'::regclass::oid::int4)").bindparams(
    bindparam("lock_class", LOCK_CLASS)
)


@asynccontextmanager
async def relay_turn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection | None]:
    """Waits for the turn, then holds it for the block, however the block ends. On
    PostgreSQL it yields the turn's connection, in the transaction that holds the lock: what
    the relay reads and marks on it needs no connection more (a relay holding the turn never
    waits for the pool to read its batch), and its marks commit as the turn ends. SQLite:
    None (the relay reads and marks as anywhere else)."""
    if engine.dialect.name == "postgresql":
        async with _advisory_turn(engine) as connection:
            yield connection
        return
    database = engine.url.database
    if not database or database == ":memory:":  # a database no other process can open
        yield None
        return
    async with _file_turn(f"{database}.relay-turn"):
        yield None


@asynccontextmanager
async def _advisory_turn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction-level advisory lock on a connection of its own: the transaction's end
    releases it however the block ends, and the session's end if the process dies."""
    async with engine.connect() as connection, connection.begin():
        await connection.execute(_WAITS_ALLOWED)
        await connection.execute(_TURN)
        yield connection


@asynccontextmanager
async def _file_turn(path: str) -> AsyncIterator[None]:
    """SQLite: an exclusive lock on a file beside the database (its own write lock would stall
    every writer for the batch). Tried without blocking, again every FILE_POLL_SECONDS while
    another process holds it: a wait in a thread could not be cancelled. The lock goes with
    the file's descriptor, so a process that dies frees it."""
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                await asyncio.sleep(FILE_POLL_SECONDS)  # another process's relay has the turn
        yield
    finally:
        os.close(descriptor)  # releases the lock, if taken
