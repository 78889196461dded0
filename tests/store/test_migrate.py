"""The migrations build the schema the models describe, on both engines."""

from dataclasses import dataclass
from typing import Any

import pytest
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
    # page index among them, migration 0016, and the relay's pending events, 0017)
    assert differences == []

    # and the relay's index holds the pending events only (alembic compares no predicate)
    async with engine.connect() as connection:
        assert "published_at IS NULL" in await connection.run_sync(_pending_index)


def _pending_index(connection: Connection) -> str:
    """The definition of the outbox's pending index, as the database keeps it."""
    if connection.dialect.name == "postgresql":
        query = text(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_outbox_pending'"
            " AND schemaname = current_schema()"
        )
    else:
        query = text("SELECT sql FROM sqlite_master WHERE name = 'ix_outbox_pending'")
    return str(connection.execute(query).scalar_one())


@dataclass(frozen=True)
class IndexSwap:
    """A migration that replaces one index by another, which an operator may build ahead."""

    revision: str
    table: str
    old: str
    new: str
    built_ahead: str  # docs/operations.md, Migrations


SWAPS = [
    IndexSwap(
        "0016",
        "invoices",
        old="ix_invoices_supplier_id",
        new="ix_invoices_supplier_page",
        built_ahead="CREATE INDEX IF NOT EXISTS ix_invoices_supplier_page "
        "ON invoices (supplier_id, id)",
    ),
    IndexSwap(
        "0017",
        "outbox",
        old="ix_outbox_published_at",
        new="ix_outbox_pending",
        built_ahead="CREATE INDEX IF NOT EXISTS ix_outbox_pending "
        "ON outbox (sequence) WHERE published_at IS NULL",
    ),
]


@pytest.mark.parametrize("swap", SWAPS, ids=lambda swap: swap.revision)
async def test_an_index_swap_goes_down_and_up_again(engine: AsyncEngine, swap: IndexSwap) -> None:
    # given a database at the head revision
    def indexes(connection: Connection) -> set[str]:
        return {index["name"] or "" for index in inspect(connection).get_indexes(swap.table)}

    # when it goes down to the revision before the swap
    below = f"{int(swap.revision) - 1:04d}"
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), below))
        before = await connection.run_sync(indexes)

    # then the old index is back and the new one gone
    assert swap.old in before
    assert swap.new not in before

    # and with the new index built ahead by an operator, up again as the models are
    async with engine.begin() as connection:
        await connection.execute(text(swap.built_ahead))
    await migrate.upgrade(engine)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        after = await connection.run_sync(indexes)
    assert swap.new in after
    assert swap.old not in after
