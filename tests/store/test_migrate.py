"""The migrations build the schema the models describe, on both engines."""

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

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
