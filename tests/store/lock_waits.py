"""Waiting, with a deadline, until PostgreSQL shows a transaction blocked by another one."""

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
