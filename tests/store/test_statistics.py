"""After a bulk load the database's planner knows what the tables hold: loading the demo
network and importing master data analyze the tables they wrote (ANALYZE), on both engines.
Without it PostgreSQL planned the portal page as if its tables were empty, about ten times
slower, for as long as autovacuum did not come by (never, where it is off)."""

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.policies.matching import DuplicatePolicy
from apgraph.store.database import refresh_statistics
from apgraph.store.master_data_io import SqlMasterData
from apgraph.store.number_keys import make_keys
from apgraph.store.tables import InvoiceLineRow, InvoiceRow, PurchaseOrderRow, SupplierRow
from tests.bundles import bundle_of
from tests.keys import keyring_for


async def planned_rows(engine: AsyncEngine, table: Any) -> float | None:
    """How many rows the planner believes `table` holds; None: it has not read the table."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # reltuples is -1 until the table is first analyzed (or vacuumed)
            query = text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)")
            believed = (await connection.execute(query, {"name": table.name})).scalar_one()
            return None if believed < 0 else float(believed)
        stat = await _sqlite_stat(connection, table.name)
        return None if stat is None else float(stat.split()[0])  # its first figure: rows


async def _sqlite_stat(connection: AsyncConnection, table_name: str) -> str | None:
    exists = "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
    if (await connection.execute(text(exists))).first() is None:  # nothing analyzed yet
        return None
    query = text("SELECT stat FROM sqlite_stat1 WHERE tbl = :name LIMIT 1")
    stat: str | None = (await connection.execute(query, {"name": table_name})).scalar_one_or_none()
    return stat


async def stored_rows(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as connection:
        counted: int = (
            await connection.execute(select(func.count()).select_from(table))
        ).scalar_one()
        return counted


@pytest.mark.parametrize(
    "table", [InvoiceRow.__table__, InvoiceLineRow.__table__, SupplierRow.__table__]
)
async def test_the_demo_network_is_analyzed_once_loaded(
    engine: AsyncEngine, tiny_network: generator.DemoNetwork, table: Any
) -> None:
    # when the demo network is loaded into an empty database
    await demo_writer.write(engine, tiny_network, keyring=await keyring_for(engine))

    # then the planner knows how many rows each table it wrote holds
    assert await planned_rows(engine, table) == await stored_rows(engine, table) > 0


@pytest.mark.parametrize("table", [SupplierRow.__table__, PurchaseOrderRow.__table__])
async def test_a_master_data_import_is_analyzed_once_committed(
    engine: AsyncEngine, tiny_network: generator.DemoNetwork, table: Any
) -> None:
    # when a bundle is imported into an empty database
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(bundle_of(tiny_network), actor="cli:onboarding", at=datetime.now(UTC))

    # then the planner knows how many rows each table it wrote holds
    assert await planned_rows(engine, table) == await stored_rows(engine, table) > 0


async def test_a_dry_run_analyzes_nothing(
    engine: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # when a bundle is checked without being written
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(
        bundle_of(tiny_network), actor="cli:onboarding", at=datetime.now(UTC), dry_run=True
    )

    # then nothing was written, and the planner was not sent to read the tables
    assert await stored_rows(engine, SupplierRow.__table__) == 0
    assert await planned_rows(engine, SupplierRow.__table__) is None


async def test_statistics_that_cannot_be_refreshed_leave_the_load_standing(
    engine: AsyncEngine, tiny_network: generator.DemoNetwork, caplog: pytest.LogCaptureFixture
) -> None:
    # given a loaded network whose statistics were dropped, and a table the database cannot
    # analyze (here: none by that name)
    await demo_writer.write(engine, tiny_network, keyring=await keyring_for(engine))
    await forget_statistics(engine)
    missing = Table("no_such_table", MetaData())

    # when the planner is sent to read it, and the suppliers after it
    with caplog.at_level(logging.WARNING, logger="apgraph.store"):
        await refresh_statistics(engine, [missing, SupplierRow.__table__])

    # then nothing is raised (the load committed before), the failure is logged, and the
    # other table is analyzed all the same
    assert "could not refresh the planner's statistics of no_such_table" in caplog.text
    suppliers = SupplierRow.__table__
    assert await planned_rows(engine, suppliers) == await stored_rows(engine, suppliers) > 0


async def test_an_import_that_changes_nothing_analyzes_nothing(
    engine: AsyncEngine, tiny_network: generator.DemoNetwork
) -> None:
    # given a bundle imported, and the planner's statistics then dropped
    store = SqlMasterData(engine, await keyring_for(engine))
    bundle = bundle_of(tiny_network)
    await store.upsert(bundle, actor="cli:onboarding", at=datetime.now(UTC))
    await forget_statistics(engine)

    # when the same bundle is imported again (every row unchanged)
    await store.upsert(bundle, actor="cli:onboarding", at=datetime.now(UTC))

    # then the planner was not sent to read the tables again
    assert await planned_rows(engine, SupplierRow.__table__) is None


async def forget_statistics(engine: AsyncEngine) -> None:
    """The state before any ANALYZE: PostgreSQL's row estimate unknown, SQLite's table gone."""
    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            await connection.execute(
                text("UPDATE pg_class SET reltuples = -1 WHERE relname = 'suppliers'")
            )
        else:
            await connection.execute(text("DELETE FROM sqlite_stat1"))


async def test_keying_the_invoice_numbers_is_analyzed_once_keyed(
    seeded_postgres: AsyncEngine,
) -> None:
    # given a loaded network, analyzed as it was loaded: no number keyed yet
    assert await unkeyed_share(seeded_postgres) == 1.0

    # when the server starts and keys every number under its duplicate rules
    assert await make_keys(seeded_postgres, DuplicatePolicy().numbers()) > 0

    # then the planner knows the keys are there (else it reads a supplier's whole history
    # for each duplicate check, taking every row for one keyed otherwise)
    assert await unkeyed_share(seeded_postgres) == 0.0


async def unkeyed_share(engine: AsyncEngine) -> float:
    """The share of invoices the planner believes have no number key yet."""
    query = text(
        "SELECT null_frac FROM pg_stats WHERE tablename = 'invoices' "
        "AND attname = 'number_key_rules' AND schemaname = current_schema()"
    )
    async with engine.connect() as connection:
        return float((await connection.execute(query)).scalar_one())
