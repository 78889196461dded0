"""Idempotency keys: the first request under (scope, key) wins; scopes never share keys."""

import asyncio
from datetime import UTC, datetime, timedelta

from apgraph.services.ports.unit_of_work import IdempotencyRecord
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.store.lock_waits import backend_pid, until_blocked_by

AT = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)
LATER = AT + timedelta(seconds=3)


async def put(engine, scope, key, fingerprint, result_ref, *, at=AT) -> IdempotencyRecord:
    async with SqlUnitOfWork(engine) as uow:
        on_file = await uow.idempotency.put(
            scope, key, fingerprint=fingerprint, result_ref=result_ref, at=at
        )
        await uow.commit()
    return on_file


async def get(engine, scope, key) -> IdempotencyRecord | None:
    async with SqlUnitOfWork(engine) as uow:
        return await uow.idempotency.get(scope, key)


async def test_an_unknown_key_is_not_on_file(engine):
    assert await get(engine, "supplier-1", "k1") is None


async def test_a_key_put_twice_keeps_the_first_request(engine):
    # given a key stored for a first request
    first = await put(engine, "supplier-1", "k1", "a" * 64, "INV-00000001")

    # when it is put again, for another request
    again = await put(engine, "supplier-1", "k1", "b" * 64, "INV-00000002", at=LATER)

    # then the first stays on file, and the second is told so
    expected = IdempotencyRecord("supplier-1", "k1", "a" * 64, "INV-00000001", AT)
    assert (first, again, await get(engine, "supplier-1", "k1")) == (expected,) * 3


async def test_the_same_key_in_another_scope_is_independent(engine):
    await put(engine, "supplier-1", "k1", "a" * 64, "INV-00000001")

    other = await put(engine, "supplier-2", "k1", "b" * 64, "INV-00000002")

    assert other == IdempotencyRecord("supplier-2", "k1", "b" * 64, "INV-00000002", AT)
    assert (await get(engine, "supplier-1", "k1")).result_ref == "INV-00000001"


async def test_a_key_put_in_a_rolled_back_unit_of_work_is_not_kept(engine):
    async with SqlUnitOfWork(engine) as uow:
        await uow.idempotency.put("s", "k", fingerprint="a" * 64, result_ref="INV-00000001", at=AT)

    assert await get(engine, "s", "k") is None


async def test_a_concurrent_put_of_the_same_key_waits_and_finds_the_first(postgres_engine):
    engine = postgres_engine
    # given a request that has put its key and not committed yet
    async with SqlUnitOfWork(engine) as first:
        await first.idempotency.put("s", "k", fingerprint="a" * 64, result_ref="INV-1", at=AT)

        # when a second request puts the same key meanwhile
        second = asyncio.create_task(put(engine, "s", "k", "b" * 64, "INV-2", at=LATER))

        # then it waits for the first to end
        await until_blocked_by(engine, await backend_pid(first.invoices.connection))
        await first.commit()

    # and is answered with the first request's record
    assert (await second).result_ref == "INV-1"
