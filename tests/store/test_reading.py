"""Single-statement reads (apgraph/store/reading.py): on PostgreSQL no transaction around
them, so a read is one round trip, not three (issue 19)."""

import asyncio
import re
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, event, literal, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from apgraph.services.ports.reads import PageRequest
from apgraph.store import reading
from apgraph.store.database import begin_writing, counting_statements
from apgraph.store.reading import (
    among,
    among_parameter,
    count,
    execute_kept,
    fetch,
    fetch_page,
    fetch_values,
    sharing_one_connection,
)
from apgraph.store.tables import InvoiceRow
from apgraph.store.types import ExactDecimal
from tests.databases import pool_checkouts


def commands_sent(engine: AsyncEngine) -> list[str]:
    """Every simple-protocol command (BEGIN, COMMIT, ROLLBACK, ...) that the driver sends on
    connections the pool opens from now on, through asyncpg's public query loggers."""
    sent: list[str] = []

    def log_queries(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(
            lambda logged: sent.append(logged.query)
        )

    event.listen(engine.sync_engine, "connect", log_queries)
    return sent


async def test_reads_on_postgresql_send_no_begin_or_rollback(seeded_postgres: AsyncEngine) -> None:
    await seeded_postgres.dispose()  # connections opened from here on carry the logger
    sent = commands_sent(seeded_postgres)
    invoices = select(InvoiceRow.__table__)

    rows = await fetch(seeded_postgres, invoices.limit(3))
    page = await fetch_page(
        seeded_postgres,
        invoices,
        key=InvoiceRow.__table__.c.id,
        page=PageRequest(first=2),
        to_domain=lambda row: row.id,
    )
    total = await count(seeded_postgres, invoices)
    kept = invoices.order_by(InvoiceRow.__table__.c.id).limit(2)
    async with sharing_one_connection(seeded_postgres):  # the driver's and SQLAlchemy's, mixed
        on_driver, through_sqlalchemy, again = await asyncio.gather(
            fetch_values(seeded_postgres, kept),
            fetch(seeded_postgres, invoices.limit(1)),
            fetch_values(seeded_postgres, kept),
        )

    await asyncio.sleep(0)  # asyncpg hands logged queries to the loop with call_soon

    assert len(rows) == 3
    assert len(page.items) == 2
    assert total > 3
    assert len(on_driver) == len(again) == 2
    assert len(through_sqlalchemy) == 1
    assert [query for query in sent if query.rstrip(";").split()[0].upper() in TRANSACTION] == []


TRANSACTION = {"BEGIN", "START", "COMMIT", "ROLLBACK", "END"}


async def test_a_connection_back_from_a_read_runs_transactions_again(
    seeded_postgres: AsyncEngine,
) -> None:
    """The pool restores the default isolation: work after a read can still roll back."""
    await seeded_postgres.dispose()  # one pooled connection, reused by both blocks below
    invoices = InvoiceRow.__table__
    [first] = await fetch(seeded_postgres, select(invoices).order_by(invoices.c.id).limit(1))

    async with seeded_postgres.connect() as connection:
        await connection.execute(
            update(invoices).where(invoices.c.id == first.id).values(submitted_by="never committed")
        )
        await connection.rollback()

    [again] = await fetch(seeded_postgres, select(invoices).where(invoices.c.id == first.id))
    assert again.submitted_by == first.submitted_by


async def test_among_finds_exactly_the_keys_given(seeded: AsyncEngine) -> None:
    """IN on SQLite, `= ANY(array)` on PostgreSQL (one statement text for any number of keys)."""
    ids = InvoiceRow.__table__.c.id
    first = [row.id for row in await fetch(seeded, select(ids).order_by(ids).limit(3))]

    def among_ids(keys: list[str]) -> Any:
        return select(ids).where(among(seeded, ids, keys)).order_by(ids)

    found = await fetch(seeded, among_ids([first[2], first[0], "INV-NOT-THERE", first[0]]))
    assert [row.id for row in found] == [first[0], first[2]]
    assert await fetch(seeded, among_ids([first[1] + "X" * 40])) == []  # past the column width
    assert await fetch(seeded, among_ids([])) == []


async def test_one_statement_among_a_parameter_finds_exactly_each_executions_keys(
    seeded: AsyncEngine,
) -> None:
    """`among_parameter`: the statement is built once and each execution gives its keys."""
    ids = InvoiceRow.__table__.c.id
    first = [row.id for row in await fetch(seeded, select(ids).order_by(ids).limit(3))]
    statement = select(ids).where(among_parameter(seeded.dialect.name, ids, "keys")).order_by(ids)

    found = await fetch(seeded, statement, {"keys": [first[2], first[0], "INV-NOT-THERE"]})
    assert [row.id for row in found] == [first[0], first[2]]
    assert [row.id for row in await fetch(seeded, statement, {"keys": [first[1]]})] == [first[1]]
    assert await fetch(seeded, statement, {"keys": [first[1] + "X" * 40]}) == []
    assert await fetch(seeded, statement, {"keys": []}) == []


async def test_reads_in_a_shared_block_take_one_connection(seeded: AsyncEngine) -> None:
    # given reads that run concurrently, as a level of DataLoader batches does
    invoices = InvoiceRow.__table__

    # when they run inside one shared block
    with pool_checkouts(seeded) as taken:
        async with sharing_one_connection(seeded):
            together = await asyncio.gather(
                fetch(seeded, select(invoices.c.id).order_by(invoices.c.id).limit(2)),
                count(seeded, select(invoices)),
                fetch_page(
                    seeded,
                    select(invoices),
                    key=invoices.c.id,
                    page=PageRequest(first=3),
                    to_domain=lambda row: row.id,
                ),
            )
    first_two, total, page = together

    # then all answer, through one pooled connection instead of one each
    assert len(first_two) == 2
    assert total > 3
    assert page.items[:2] == [row.id for row in first_two]
    assert len(taken) == 1


async def test_a_read_in_a_shared_block_sees_what_was_committed_before_it(
    seeded: AsyncEngine,
) -> None:
    """The block holds no transaction: it shares a connection, never a snapshot."""
    invoices = InvoiceRow.__table__
    [first] = await fetch(seeded, select(invoices).order_by(invoices.c.id).limit(1))
    async with sharing_one_connection(seeded):
        await fetch(seeded, select(invoices.c.id).limit(1))  # the shared connection is open

        async with seeded.begin() as writer:  # another connection commits meanwhile
            await writer.execute(
                update(invoices).where(invoices.c.id == first.id).values(submitted_by="later")
            )

        [again] = await fetch(seeded, select(invoices).where(invoices.c.id == first.id))
    assert again.submitted_by == "later"


async def test_a_read_after_its_shared_block_ended_takes_a_connection_of_its_own(
    seeded: AsyncEngine,
) -> None:
    """A task the block started may outlive it (a caller that gave up on it): its read
    still answers, on a connection of its own, not on the one the block gave back."""
    invoices = InvoiceRow.__table__
    go_on = asyncio.Event()

    async def late_read() -> int:
        await go_on.wait()
        return len(await fetch(seeded, select(invoices.c.id).limit(2)))

    async with sharing_one_connection(seeded):
        await fetch(seeded, select(invoices.c.id).limit(1))
        late = asyncio.create_task(late_read())  # inherits the block's context
    go_on.set()

    assert await late == 2
    assert seeded.pool.checkedout() == 0  # neither the block's connection nor its own kept


async def test_a_shared_block_holds_no_connection_between_its_reads(seeded: AsyncEngine) -> None:
    """So a read in the block through a connection of its own (as some query fields make)
    gets one even from a pool of one: a block that kept its connection from its first read
    to its end waited here for itself until the pool gave up."""
    one = select(literal(1).label("one"))  # no table: the engine below has no schema set
    pool_of_one = create_async_engine(seeded.url, pool_size=1, max_overflow=0, pool_timeout=30)
    try:
        async with sharing_one_connection(pool_of_one):
            [shared] = await fetch(pool_of_one, one)
            async with pool_of_one.connect() as its_own:
                own = (await its_own.execute(one)).one()
            [again] = await fetch(pool_of_one, one)
        assert shared.one == own.one == again.one == 1
        assert pool_of_one.pool.checkedout() == 0
    finally:
        await pool_of_one.dispose()


async def test_a_kept_read_on_the_driver_still_gives_each_type_its_result_step(
    seeded_postgres: AsyncEngine,
) -> None:
    # given a kept statement whose integer expression is typed as an amount (the driver
    # answers an int; the column type makes it a Decimal, as through SQLAlchemy)
    statement = select(
        type_coerce(literal(5) + bindparam("more", type_=Integer), ExactDecimal).label("total")
    )

    # when it is read on the driver
    (values,) = await fetch_values(seeded_postgres, statement, {"more": 2})

    # then the value went through the type's step
    assert values["total"] == Decimal(7)
    assert isinstance(values["total"], Decimal)


async def test_the_result_types_learnt_per_sql_are_kept_within_a_bound(
    seeded_postgres: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a bound of two on the result types learnt per SQL (a facility scope's list is
    # rendered into the SQL, so every scope adds one), and three kept reads of other SQL
    monkeypatch.setattr(reading, "_ATTRIBUTES_KEPT", 2)
    monkeypatch.setattr(reading, "_attributes", {})
    reads = [select(literal(n).label(f"n{n}")) for n in range(3)]

    # when each is read on the driver
    answers = [await fetch_values(seeded_postgres, statement) for statement in reads]

    # then each answers its own value, and only the two learnt last are kept
    assert [dict(values) for (values,) in answers] == [{"n0": 0}, {"n1": 1}, {"n2": 2}]
    assert len(reading._attributes) == 2


async def test_a_count_that_keeps_sql_holds_the_drivers_statements_among_sqlalchemys(
    seeded_postgres: AsyncEngine,
) -> None:
    # given a kept read that goes to the driver between two that go through SQLAlchemy
    on_the_driver = select(literal(1).label("amid")).where(bindparam("two", type_=Integer) == 2)

    # when they run inside a count that keeps their SQL
    with counting_statements(keeping_sql=True) as counted:
        await fetch(seeded_postgres, select(literal(0).label("before")))
        await fetch_values(seeded_postgres, on_the_driver, {"two": 2})
        await fetch(seeded_postgres, select(literal(2).label("after")))

    # then the count holds all three, in the order they were sent
    assert counted.statements == 3
    assert counted.sent is not None
    assert [re.findall(r"AS (\w+)", sql) for sql in counted.sent] == [
        ["before"],
        ["amid"],
        ["after"],
    ]


MARK = (
    update(InvoiceRow)
    .where(InvoiceRow.__table__.c.id == bindparam("invoice_id"))
    .values(erp_document_ref=bindparam("ref"))
    .returning(InvoiceRow.__table__.c.erp_document_ref)
)


async def marked(engine: AsyncEngine, invoice_id: str) -> str | None:
    (row,) = await fetch(
        engine, select(InvoiceRow.__table__.c.erp_document_ref).where(InvoiceRow.id == invoice_id)
    )
    return row.erp_document_ref


@pytest.mark.parametrize("ends", ["rollback", "commit"])
async def test_a_kept_write_on_the_driver_first_in_a_transaction_ends_with_it(
    seeded_postgres: AsyncEngine, ends: str
) -> None:
    # given a transaction whose first statement is a kept write (before SQLAlchemy has sent
    # anything, so before its adapter would have sent BEGIN), and a second one after it
    (row,) = await fetch(seeded_postgres, select(InvoiceRow.id).limit(1))
    before = await marked(seeded_postgres, row.id)
    async with seeded_postgres.connect() as connection:
        await begin_writing(connection)
        (first,) = await execute_kept(connection, MARK, {"invoice_id": row.id, "ref": "DRV-0"})
        (written,) = await execute_kept(connection, MARK, {"invoice_id": row.id, "ref": "DRV-1"})
        assert (first["erp_document_ref"], written["erp_document_ref"]) == ("DRV-0", "DRV-1")
        # when the transaction ends
        await (connection.rollback() if ends == "rollback" else connection.commit())

    # then both writes ended with it: gone after a rollback, kept after a commit
    assert await marked(seeded_postgres, row.id) == (before if ends == "rollback" else "DRV-1")
