"""Fresh databases for the store's write-side tests: each test gets its own, on both backends."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.store import migrate
from tests.databases import drop_database, make_database
from tests.keys import keyring_for

# The smallest network in which every supplier and lasting invoice status occurs: quick to write.
TINY = generator.DemoSize(facilities=1, suppliers=10, purchase_orders=40, invoices=60)


@asynccontextmanager
async def migrated(backend: str, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    database = await make_database(backend, tmp_path)
    engine = database.engine()
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()
        await drop_database(database)


@pytest.fixture(scope="session")
def tiny_network() -> generator.DemoNetwork:
    return generator.generate(TINY)


@pytest.fixture(params=["sqlite", "postgresql"])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each backend."""
    async with migrated(request.param, tmp_path) as engine:
        yield engine


@pytest.fixture
async def seeded(engine: AsyncEngine, tiny_network: generator.DemoNetwork) -> AsyncEngine:
    """`engine` holding the tiny network, for writes that need facts to point at."""
    await demo_writer.write(engine, tiny_network, keyring=await keyring_for(engine))
    return engine


@pytest.fixture
async def seeded_postgres(
    tmp_path: Path, tiny_network: generator.DemoNetwork
) -> AsyncIterator[AsyncEngine]:
    """For what only PostgreSQL can show: a second transaction waiting on a row lock."""
    async with migrated("postgresql", tmp_path) as engine:
        await demo_writer.write(engine, tiny_network, keyring=await keyring_for(engine))
        yield engine


@pytest.fixture
async def postgres_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty PostgreSQL database: for what only it can show, a lock wait."""
    async with migrated("postgresql", tmp_path) as engine:
        yield engine
