"""The workflow benchmark's picture of what PostgreSQL's backends wait on
(bench/database_waits.py): statements labelled so the locks can be told apart, and a
backend blocked on another's row lock seen as such, on a real PostgreSQL."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bench.database_waits import sampling, statement_label
from tests.databases import Database, drop_database, make_database


@pytest.mark.parametrize(
    ("query", "label"),
    [
        (
            "UPDATE counters SET last_value=(counters.last_value + $1) WHERE name=$2",
            "UPDATE counters",
        ),
        (
            "WITH claimed AS (UPDATE counters SET last_value = last_value + $1 RETURNING "
            "last_value) INSERT INTO outbox (sequence) SELECT 1 FROM claimed",
            "WITH … UPDATE counters",
        ),
        ("INSERT INTO erp_postings (system) VALUES ($1)", "INSERT erp_postings"),
        ('SELECT invoices.id FROM "invoices" WHERE id = $1', "SELECT invoices"),
        ("COMMIT;", "COMMIT"),
        ("", "?"),
    ],
)
def test_a_statement_is_labelled_by_its_verb_and_first_table(query: str, label: str):
    assert statement_label(query) == label


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Database]:
    database = await make_database("postgresql", tmp_path)
    yield database
    await drop_database(database)


async def test_a_backend_waiting_for_a_row_lock_is_sampled_as_waiting_on_that_statement(
    postgres: Database,
):
    dsn = postgres.url.replace("postgresql+asyncpg://", "postgresql://", 1)
    settings = {"search_path": str(postgres.schema)}
    holder = await asyncpg.connect(dsn, server_settings=settings)
    waiter = await asyncpg.connect(dsn, server_settings=settings)
    try:
        await holder.execute("CREATE TABLE tallies (name text PRIMARY KEY, n bigint)")
        await holder.execute("INSERT INTO tallies VALUES ('invoice', 0)")
        # given one transaction holding the row's lock
        holding = holder.transaction()
        await holding.start()
        await holder.execute("UPDATE tallies SET n = n + 1 WHERE name = 'invoice'")
        async with sampling(dsn, interval=0.001) as waits:
            # when another updates the same row
            blocked = asyncio.create_task(
                waiter.execute("UPDATE tallies SET n = n + 1 WHERE name = 'invoice'")
            )
            # then the sampler sees it waiting on a transaction's lock, in that statement
            async with asyncio.timeout(30):
                await waits.until(lambda w: w.seen[("Lock:transactionid", "UPDATE tallies")] > 0)
            await holding.commit()
            await blocked
        tally = await holder.fetchval("SELECT n FROM tallies WHERE name = 'invoice'")
    finally:
        await holder.close()
        await waiter.close()

    # and reports it among the busiest; the waiter went through once the lock was freed
    assert tally == 2
    assert any("Lock:transactionid" in line and "UPDATE tallies" in line for line in waits.report())
