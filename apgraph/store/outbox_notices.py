"""Word that another process relayed a batch of the outbox: PostgreSQL's LISTEN/NOTIFY.

Relays of several processes take turns (store/relay_turn.py), so with the in-process bus a
process hears on its own bus only the batches its relay ran; its hub reads the others from
the outbox when the next event reaches it, or at its catch-up every second. A relay that
marked a batch notifies, in its turn's transaction (delivered at commit); each other process
listens, and wakes its hub at once. Losing the word costs latency only: the catch-up still
runs. Written by hand: the driver's `add_listener` is the mechanism; what it needs around it
(a connection held for listening, checked and taken again after a loss) no library here does.
"""

import asyncio
import logging
import os
from typing import Any
from uuid import uuid4

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.store.reading import driver_connection

log = logging.getLogger("apgraph.outbox")

CHANNEL = "apgraph_outbox"
RETRY_SECONDS = 1.0  # how soon listening starts again after its connection was lost
HEARTBEAT_SECONDS = 30.0  # how often the listening connection is asked whether it still answers
ANSWER_SECONDS = 10.0  # how long a heartbeat may take before the connection is dropped

_BOOT = uuid4().hex[:12]
# The payload is the outbox table's oid and the process: processes of other deployments
# (schemas) of the same database hear the channel too, and keep to their own outbox's word.
NOTIFY = text(
    f"SELECT pg_notify('{CHANNEL}', 'outbox'::regclass::oid::text || ':' || :process)"
).bindparams(bindparam("process"))
_OUTBOX = text("SELECT 'outbox'::regclass::oid::text")


def this_process() -> str:
    """This process, as its word names it (its own hub heard the batch on its bus already);
    the pid read now, so workers forked from one parent are told apart."""
    return f"{os.getpid()}.{_BOOT}"


async def notify_relayed(connection: AsyncConnection) -> None:
    """In a relay's turn, after it marked a batch: the word goes out when the turn commits."""
    await connection.execute(NOTIFY, {"process": this_process()})


async def listen(
    engine: AsyncEngine,
    wake: asyncio.Event,
    stop: asyncio.Event,
    *,
    listening: asyncio.Event | None = None,
    process: str | None = None,
) -> None:
    """Sets `wake` whenever another process's relay of this outbox notifies, until `stop` is
    set; holds one pooled connection meanwhile (none on SQLite, where there is nothing to
    listen to). `listening` is set once the word can be heard; `process`: who listens (this
    one by default)."""
    if engine.dialect.name != "postgresql":
        return
    listener = process or this_process()
    while not stop.is_set():
        attempt = asyncio.ensure_future(_listening(engine, wake, listening, listener))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({attempt, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if not attempt.done():  # stopped (connecting or listening), or this task cancelled
                attempt.cancel()
                await asyncio.gather(attempt, return_exceptions=True)
        if attempt.cancelled():
            return
        log.warning(  # it listens until cancelled: done otherwise, it lost its connection
            "listening for relayed batches failed (%s); again in %s s",
            attempt.exception(),
            RETRY_SECONDS,
        )
        try:
            await asyncio.wait_for(stop.wait(), timeout=RETRY_SECONDS)
        except TimeoutError:
            continue


async def _listening(
    engine: AsyncEngine, wake: asyncio.Event, listening: asyncio.Event | None, process: str
) -> None:
    """Listens until cancelled (`listen`'s stop), or raises once the connection is lost; the
    connection is dropped either way, and its LISTEN ends with its session."""
    async with engine.connect() as connection:
        outbox = str((await connection.execute(_OUTBOX)).scalar_one())
        await connection.commit()  # no transaction held while listening
        driver = await driver_connection(connection)

        def heard(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
            table, _, relayed_by = payload.partition(":")
            if table == outbox and relayed_by != process:
                wake.set()

        lost = asyncio.Event()

        def ended(_connection: Any) -> None:
            lost.set()

        await driver.add_listener(CHANNEL, heard)
        driver.add_termination_listener(ended)
        if listening is not None:
            listening.set()
        try:
            await _until_lost(driver, lost)
        finally:
            driver.remove_termination_listener(ended)
            await connection.invalidate()


async def _until_lost(driver: Any, lost: asyncio.Event) -> None:
    """Raises ConnectionError once the connection is closed, or does not answer a heartbeat
    (a dropped connection is not always closed: a firewall's idle timeout, a failover)."""
    while True:
        try:
            await asyncio.wait_for(lost.wait(), timeout=HEARTBEAT_SECONDS)
        except TimeoutError:
            pass
        else:
            raise ConnectionError("the listening connection was closed")
        try:
            async with asyncio.timeout(ANSWER_SECONDS):
                await driver.fetchval("SELECT 1")
        except (TimeoutError, OSError) as error:
            raise ConnectionError(f"the listening connection does not answer: {error}") from None
