"""The relays' turn (store/relay_turn.py): one relay at a time, whatever the number of
processes on the database, and a turn is never left taken by a relay that failed, was
cancelled while it waited, or whose block raised."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.store.relay_turn import relay_turn
from tests.databases import two_servers
from tests.store.lock_waits import until_waiting_for_its_turn


@pytest.fixture(params=["sqlite", "postgresql"])
async def two_processes(request, tmp_path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    async with two_servers(request.param, tmp_path) as engines:
        yield engines


async def test_a_relay_waits_for_another_servers_turn_even_one_that_ends_in_an_error(
    two_processes,
):
    first, second = two_processes
    order: list[str] = []

    async def relay_of_the_second() -> None:
        async with relay_turn(second):
            order.append("second")

    waiting: list[asyncio.Task[None]] = []

    async def relay_of_the_first() -> None:
        async with relay_turn(first):
            order.append("first")
            waiting.append(asyncio.create_task(relay_of_the_second()))
            await until_waiting_for_its_turn(first, waiting[0])
            assert not waiting[0].done()  # the second waits while the first holds it
            raise RuntimeError("analytics said no")

    # when the first server's relay takes the turn, the second's asks for one, and the
    # first's batch ends in an error
    with pytest.raises(RuntimeError, match="analytics said no"):
        await relay_of_the_first()

    # then the second took the turn once the first's block ended, though by an error
    async with asyncio.timeout(30):
        await waiting[0]
    assert order == ["first", "second"]


async def test_a_relay_cancelled_while_it_waits_leaves_no_turn_behind(two_processes):
    first, second = two_processes

    # given a relay waiting for the turn the first server's holds, cancelled (shutting down)
    async with relay_turn(first):
        waiting = asyncio.create_task(relay_turn(second).__aenter__())
        await until_waiting_for_its_turn(first, waiting)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    # then the turn is free for the next relay, on either server
    async with asyncio.timeout(30):
        async with relay_turn(second):
            pass
        async with relay_turn(first):
            pass
