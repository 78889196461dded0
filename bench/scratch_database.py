"""A database for a benchmark that writes its own data: migrated, and left as it was found."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.store import migrate
from apgraph.store.database import create_engine


@asynccontextmanager
async def migrated(url: str, schema: str | None) -> AsyncIterator[AsyncEngine]:
    """An engine on `url` migrated to the newest schema. With `schema` (PostgreSQL), its
    tables go in a schema of that name, created here and dropped with everything in it after."""
    engine = create_engine(url, schema=schema)
    if schema:
        async with engine.begin() as connection:
            await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        if schema:
            async with engine.begin() as connection:
                await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await engine.dispose()
