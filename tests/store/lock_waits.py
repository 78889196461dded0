"""Waiting, with a deadline, until PostgreSQL shows a transaction blocked by another one, or a
relay waiting for its turn."""

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.store.relay_turn import LOCK_CLASS

_BLOCKED_BY = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")


async def backend_pid(connection: AsyncConnection) -> int:
    return int(await connection.scalar(text("SELECT pg_backend_pid()")) or 0)


async def until_blocked_by(engine: AsyncEngine, pid: int, *, deadline: float = 5.0) -> None:
    """Returns once some backend waits for a lock `pid` holds; fails at the deadline."""
    async with asyncio.timeout(deadline):
        while True:
            async with engine.connect() as connection:
                if await connection.scalar(_BLOCKED_BY, {"pid": pid}):
                    return
            await asyncio.sleep(0.01)  # the poll interval; the condition is what we wait for


# a session of this database waiting for the advisory lock of this outbox's relays' turn
_WAITING_FOR_THE_TURN = text(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND classid = :lock_class AND objid = 'outbox'::regclass::oid AND objsubid = 2"
)


async def until_waiting_for_its_turn(engine: AsyncEngine, relay: asyncio.Task[Any]) -> None:
    """Returns once `relay` waits for the relays' turn (store/relay_turn.py), or has finished
    (had no turn to wait for); fails at the deadline."""
    if engine.dialect.name != "postgresql":
        # its first step tries the turn's file lock once, then polls: one loop turn
        await asyncio.sleep(0)
        return
    async with asyncio.timeout(30):
        while not relay.done():
            async with engine.connect() as connection:
                if await connection.scalar(_WAITING_FOR_THE_TURN, {"lock_class": LOCK_CLASS}):
                    return
            await asyncio.sleep(0.01)  # the poll interval; the condition is what we wait for
