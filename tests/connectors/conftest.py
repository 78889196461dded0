"""The simulators on a loopback port for the whole session, and a database for the ledger."""

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.principal import RowScope
from apgraph.services.supplier_sync import sync_vendor_links
from apgraph.simulators import suite
from apgraph.store import migrate
from apgraph.store.connector_state import SqlCrossReferences
from apgraph.store.suppliers import SupplierRepository
from tests.connectors.support import CLIENT_ID, CLIENT_SECRET, CLOCK, Served, Stack, build_stack
from tests.databases import make_database
from tests.keys import keyring_for
from tests.live_server import serving


@pytest.fixture(scope="session")
def served(network: generator.DemoNetwork) -> Iterator[Served]:
    simulators = suite.create(network, cloud_client_id=CLIENT_ID, cloud_client_secret=CLIENT_SECRET)
    with serving(simulators.app, name="simulators") as base:
        yield Served(simulators, base)


@pytest.fixture(autouse=True)
def no_faults(served: Served) -> Iterator[None]:
    """Each test starts without faults or call counts, and leaves none behind."""
    served.simulators.reset_faults()
    yield
    served.simulators.reset_faults()


@pytest.fixture(scope="session")
async def ledger_engine(
    served: Served, network: generator.DemoNetwork, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[AsyncEngine]:
    """SQLite with the demo network, and the vendor links of both ERPs synced."""
    database = await make_database("sqlite", tmp_path_factory.mktemp("connectors"))
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    stack = build_stack(served, engine)
    for master in (stack.legacy, stack.cloud):
        await sync_vendor_links(
            master=master,
            suppliers=SupplierRepository(engine, RowScope(), await keyring_for(engine)),
            xrefs=SqlCrossReferences(engine),
            clock=CLOCK,
        )
    await stack.aclose()
    yield engine
    await engine.dispose()


@pytest.fixture
async def stack(served: Served, ledger_engine: AsyncEngine) -> AsyncIterator[Stack]:
    """Every adapter with fresh breakers and counters."""
    built = build_stack(served, ledger_engine)
    yield built
    await built.aclose()
