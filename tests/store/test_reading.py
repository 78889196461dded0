"""Single-statement reads (apgraph/store/reading.py): on PostgreSQL no transaction around
them, so a read is one round trip, not three (issue 19)."""

import asyncio
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.services.ports.reads import PageRequest
from apgraph.store.reading import among, count, fetch, fetch_page
from apgraph.store.tables import InvoiceRow


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

    await asyncio.sleep(0)  # asyncpg hands logged queries to the loop with call_soon

    assert len(rows) == 3
    assert len(page.items) == 2
    assert total > 3
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
