"""`INSERT … ON CONFLICT DO NOTHING` on either database: the first writer of a key wins."""

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from apgraph.store.tables import Base


def insert_unless_present(connection: AsyncConnection, model: type[Base]) -> Insert:
    """On PostgreSQL a concurrent insert of the same key waits for the first to end."""
    if connection.dialect.name == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    return postgresql.insert(model).on_conflict_do_nothing()


def insert_unless_present_on(engine: AsyncEngine, model: type[Base]) -> Insert:
    """The same, for a statement built before a connection is taken."""
    if engine.dialect.name == "sqlite":
        return sqlite.insert(model).on_conflict_do_nothing()
    return postgresql.insert(model).on_conflict_do_nothing()
