"""Rotating the data key while reads run: no read fails, and every row ends on the new key.

The rotation and the resealing run through a keyring of their own, as `apgraph keys
rotate-data` in another process would: the readers' keyring learns of the new key only from
the rows it meets."""

import asyncio
from datetime import timedelta

from apgraph.domain.principal import RowScope
from apgraph.services.ports.reads import PageRequest, SupplierFilter
from apgraph.store.keyring import DROP_GRACE, KEYS_MAX_AGE, Keyring
from apgraph.store.resealing import keys_in_use, pending, reseal
from apgraph.store.sealing import SEALED_COLUMNS_KNOWN
from apgraph.store.suppliers import SupplierRepository
from tests.keys import CREATED, kek_for_tests, keyring_for

READERS = 4


async def read_all(repository: SupplierRepository) -> list:
    suppliers, after = [], None
    while True:
        page = await repository.page(SupplierFilter(), PageRequest(first=3, after=after))
        suppliers += page.items
        if not page.has_next_page:
            return suppliers
        after = page.items[-1].id


async def test_rotating_under_load_fails_no_read_and_moves_every_row(seeded, tiny_network):
    # given servers reading every supplier, over and over, with their own keyring
    serving = await keyring_for(seeded)
    repository = SupplierRepository(seeded, RowScope(), serving)
    expected = {s.id: s for s in tiny_network.suppliers}
    old_key = (await serving.sealing()).keys.active_id
    rotating = asyncio.Event()
    finished = asyncio.Event()
    done = asyncio.Event()
    reads_while_rotating, failures = [0], []
    read_after = [asyncio.Event() for _ in range(READERS)]

    async def reader(index: int) -> None:
        while not done.is_set():
            moving = rotating.is_set()
            for supplier in await read_all(repository):
                if supplier.unreadable or supplier != expected[supplier.id]:
                    failures.append((supplier.id, supplier.unreadable))
            if moving:
                reads_while_rotating[0] += 1
            elif finished.is_set():
                read_after[index].set()  # a whole read begun after every row had moved
            await asyncio.sleep(0)

    readers = [asyncio.create_task(reader(i)) for i in range(READERS)]
    await asyncio.sleep(0)

    # when an operator rotates the data key and reseals, in small batches, elsewhere
    operator = Keyring(seeded, kek_for_tests(), columns=SEALED_COLUMNS_KNOWN)
    rotating.set()
    new_key = await operator.rotate(now=CREATED)
    report = await reseal(seeded, operator, batch=2)
    rotating.clear()
    finished.set()
    for event in read_after:  # every reader once more, on the new key alone
        await event.wait()
    done.set()
    await asyncio.gather(*readers)

    # then no read failed, reads ran during the move, and every row is on the new key
    assert failures == []
    assert reads_while_rotating[0] > 0
    assert report.moved == len(tiny_network.suppliers)
    assert new_key != old_key
    assert await keys_in_use(seeded) == {new_key}
    assert await pending(seeded, operator) == 0


async def test_the_retired_key_goes_once_no_row_needs_it(seeded):
    operator = await keyring_for(seeded)
    old = await keys_in_use(seeded)
    await operator.rotate(now=CREATED)
    long_after = CREATED + DROP_GRACE + timedelta(days=1)

    kept = await operator.drop_retired(in_use=await keys_in_use(seeded), now=long_after)
    assert kept.dropped == []  # rows still sealed under the old key: it stays

    await reseal(seeded, operator)
    dropped = await operator.drop_retired(in_use=await keys_in_use(seeded), now=long_after)
    assert set(dropped.dropped) == old


async def test_a_key_no_row_needs_is_kept_until_no_process_can_still_seal_with_it(seeded):
    # given a rotation whose reseal left no row under the old key
    operator = await keyring_for(seeded)
    old = await keys_in_use(seeded)
    await operator.rotate(now=CREATED)
    await reseal(seeded, operator)
    assert old.isdisjoint(await keys_in_use(seeded))

    # when the retired keys are dropped within the grace, then at its end
    early = await operator.drop_retired(
        in_use=await keys_in_use(seeded), now=CREATED + timedelta(minutes=1)
    )
    at_end = await operator.drop_retired(in_use=await keys_in_use(seeded), now=CREATED + DROP_GRACE)

    # then the first keeps them (another process may be sealing with them) and says until when
    assert early.dropped == []
    assert early.kept_until == dict.fromkeys(old, CREATED + DROP_GRACE)
    assert set(at_end.dropped) == old
    assert at_end.kept_until == {}


async def test_a_process_seals_with_a_key_retired_elsewhere_for_at_most_the_keys_max_age(seeded):
    # given a server's keyring that loaded its keys at second 0
    seconds = [0.0]
    server = Keyring(
        seeded, kek_for_tests(), columns=SEALED_COLUMNS_KNOWN, monotonic=lambda: seconds[0]
    )
    before = (await server.sealing()).keys.active_id

    # when another process rotates the data key
    new_key = await (await keyring_for(seeded)).rotate(now=CREATED)

    # then the server seals with the old key until its keys are KEYS_MAX_AGE old, and with
    # the new one after that: the bound DROP_GRACE must exceed
    seconds[0] = KEYS_MAX_AGE
    assert (await server.sealing()).keys.active_id == before
    seconds[0] = KEYS_MAX_AGE + 0.001
    assert (await server.sealing()).keys.active_id == new_key != before
    assert DROP_GRACE.total_seconds() > 10 * KEYS_MAX_AGE
