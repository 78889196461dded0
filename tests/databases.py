"""Databases for tests: a SQLite file, or a fresh schema in PostgreSQL's database `test`.

Each test run gets its own, so runs never collide. Under CI=true an unreachable PostgreSQL
fails the run; elsewhere its tests are skipped with the reason.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.store import migrate
from apgraph.store.database import create_engine

POSTGRES_URL = os.environ.get(
    "APGRAPH_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() == "true"


@dataclass(frozen=True)
class Database:
    """A migrated, empty database of one backend, isolated to this test run."""

    backend: str
    url: str
    schema: str | None

    def engine(self) -> AsyncEngine:
        return create_engine(self.url, schema=self.schema)


async def _postgres_reachable() -> str | None:
    engine = create_engine(POSTGRES_URL)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, TimeoutError, SQLAlchemyError) as error:
        return f"{type(error).__name__}: {error}"
    finally:
        await engine.dispose()
    return None


async def make_database(backend: str, tmp_dir: Path) -> Database:
    if backend == "sqlite":
        return Database("sqlite", f"sqlite+aiosqlite:///{tmp_dir / 'apgraph.db'}", None)
    problem = await _postgres_reachable()
    if problem:
        if IN_CI:
            pytest.fail(f"PostgreSQL must run under CI=true but is unreachable: {problem}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}: {problem}")
    schema = f"apgraph_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    return Database("postgresql", POSTGRES_URL, schema)


async def drop_database(database: Database) -> None:
    if database.schema is None:
        return
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'DROP SCHEMA "{database.schema}" CASCADE'))
    await admin.dispose()


@contextmanager
def pool_checkouts(engine: AsyncEngine) -> Iterator[list[None]]:
    """One entry per connection the engine's pool hands out inside the block (the pool's
    public `checkout` event); the listener is removed on leaving, as engines are shared."""
    taken: list[None] = []

    def took(*_: object) -> None:
        taken.append(None)

    event.listen(engine.sync_engine, "checkout", took)
    try:
        yield taken
    finally:
        event.remove(engine.sync_engine, "checkout", took)


@asynccontextmanager
async def two_servers(
    backend: str, tmp_dir: Path
) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """One migrated database of `backend`, and a connection pool of its own for each of two
    servers (or workers) on it."""
    database = await make_database(backend, tmp_dir)
    first, second = database.engine(), database.engine()
    try:
        await migrate.upgrade(first)
        yield first, second
    finally:
        await first.dispose()
        await second.dispose()
        await drop_database(database)
