"""The migrations build the schema the models describe, on both engines."""

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.store import migrate
from apgraph.store.migrate import alembic_config
from apgraph.store.tables import Base


def _differences(connection: Connection) -> list[Any]:
    # types are left out: SQLite reflects some (a double as FLOAT) other than they were made
    context = MigrationContext.configure(connection, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_is_the_models(engine: AsyncEngine) -> None:
    # given a database migrated to the head revision

    # when alembic compares it with the models
    async with engine.connect() as connection:
        differences = await connection.run_sync(_differences)

    # then no table, column or index is missing or extra (the supplier portal's
    # page index among them, migration 0016)
    assert differences == []


PAGE_INDEX = "CREATE INDEX IF NOT EXISTS ix_invoices_supplier_page ON invoices (supplier_id, id)"


def _invoice_indexes(connection: Connection) -> set[str]:
    return {index["name"] or "" for index in inspect(connection).get_indexes("invoices")}


async def test_migration_0016_goes_down_and_up_again(engine: AsyncEngine) -> None:
    # given a database at the head revision

    # when it goes down to 0015
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "0015"))
        before = await connection.run_sync(_invoice_indexes)

    # then the invoices are indexed by supplier alone again
    assert "ix_invoices_supplier_id" in before
    assert "ix_invoices_supplier_page" not in before

    # and with the page's index built ahead by an operator (docs/operations.md), up again as
    # the models are
    async with engine.begin() as connection:
        await connection.execute(text(PAGE_INDEX))
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        after = await connection.run_sync(_invoice_indexes)
    assert "ix_invoices_supplier_page" in after
    assert "ix_invoices_supplier_id" not in after
