"""Shared fixtures: the real app over HTTP, once on SQLite and once on PostgreSQL."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any

import httpx
import pytest

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.principal import Role
from apgraph.gateway.app import create_app
from apgraph.gateway.demo_users import demo_token
from apgraph.gateway.runtime import Runtime, embedded_issuer
from apgraph.gateway.tokens import TokenIssuer
from apgraph.policies.loader import load_gateway_config
from apgraph.settings import Settings
from apgraph.store import migrate
from tests.browser import chromium  # noqa: F401  (a fixture for every test)
from tests.databases import Database, drop_database, make_database
from tests.keys import TEST_KEK, keyring_for
from tests.live_server import serving
from tests.order_supply import Mint, OrderSupply
from tests.workflow import Orders

ROOT = Path(__file__).resolve().parent.parent
TEST_SCALE = 0.05


@pytest.fixture(scope="session")
def network() -> generator.DemoNetwork:
    """The demo network every API test database holds: the facts tests reason about."""
    return generator.generate(generator.DemoSize().scaled(TEST_SCALE))


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def seeded_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    network: generator.DemoNetwork,
) -> AsyncIterator[Database]:
    database = await make_database(request.param, tmp_path_factory.mktemp(request.param))
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    yield database
    await drop_database(database)


def settings_for(database: Database, data_dir: Path, **overrides: Any) -> Settings:
    return Settings(
        database_url=database.url,
        database_schema=database.schema,
        data_dir=data_dir,
        gateway_config=ROOT / "tests" / "gateway.yaml",
        expose_sql_statements=True,
        demo_scale=TEST_SCALE,  # the in-process simulators know the network the database holds
        key_encryption_key=TEST_KEK,  # the key the fixtures sealed the database's suppliers with
        **{
            # tests schedule payments when they mean to (services.scheduling.schedule_posted),
            # so an invoice a test checks is POSTED stays POSTED however long the test runs
            "scheduling_interval_seconds": 0,
            **overrides,
        },
    )


class Api:
    """The app over HTTP, with a GraphQL helper that returns the decoded body.

    Requests carry the demo finance admin's token unless a test passes another (or None).
    """

    def __init__(
        self, client: httpx.AsyncClient, backend: str, issuer: TokenIssuer, settings: Settings
    ) -> None:
        self.client = client
        self.backend = backend
        self.issuer = issuer
        self.settings = settings
        self.admin = self.token(Role.FINANCE_ADMIN)
        self.runtime: Runtime | None = None  # the in-process server's, for its simulators

    def token(
        self,
        role: Role,
        *,
        supplier_id: str | None = None,
        facility_ids: list[str] | None = None,
        lifetime: timedelta | None = None,
    ) -> str:
        return demo_token(
            self.issuer,
            role=role,
            now=datetime.now(UTC),
            supplier_id=supplier_id,
            facility_ids=facility_ids,
            lifetime=lifetime,
        )

    def headers(self, token: str | None | EllipsisType = ...) -> dict[str, str]:
        chosen = self.admin if token is ... else token
        return {} if chosen is None else {"Authorization": f"Bearer {chosen}"}

    async def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None | EllipsisType = ...,
        product: str | None = None,
    ) -> dict[str, Any]:
        """`product`: e.g. "supplier-portal/v1"; None: the operators' full /graphql."""
        response = await self.client.post(
            self.path(product),
            json={"query": query, "variables": variables or {}},
            headers=self.headers(token),
        )
        assert response.headers["content-type"].startswith("application/json"), response.text
        return response.json()

    @staticmethod
    def path(product: str | None) -> str:
        return "/graphql" if product is None else f"/products/{product}/graphql"

    async def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None | EllipsisType = ...,
        product: str | None = None,
    ) -> dict[str, Any]:
        """The `data` of a response that must have no errors."""
        body = await self.graphql(query, variables, token=token, product=product)
        assert "errors" not in body, body["errors"]
        return body["data"]


@pytest.fixture(scope="session")
async def api(
    seeded_database: Database, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    settings = settings_for(seeded_database, tmp_path_factory.mktemp("data"))
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    await runtime.keyring.reload()  # as the app's lifespan does
    app = create_app(settings, config, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        assert runtime.issuer is not None
        yield Api(client, seeded_database.backend, runtime.issuer, settings)
    await runtime.close()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def workflow_database(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    network: generator.DemoNetwork,
) -> AsyncIterator[Database]:
    """A seeded database of its own for the tests that submit and approve invoices, so the
    read-side tests can keep comparing the `api` database with the seed."""
    database = await make_database(request.param, tmp_path_factory.mktemp(request.param))
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    yield database
    await drop_database(database)


@pytest.fixture(scope="session")
async def workflow_api(
    workflow_database: Database, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """The app on `workflow_database`, suppliers linked to the ERPs as at start-up, with its
    runtime at hand (`.runtime`) for the simulators' books and faults."""
    settings = settings_for(workflow_database, tmp_path_factory.mktemp("workflow-data"))
    config = load_gateway_config(settings.gateway_config)
    runtime = Runtime.open(settings, config)
    await runtime.keyring.reload()  # as the app's lifespan does
    await runtime.connectors.link_suppliers(
        runtime.engine, runtime.keyring
    )  # as the app's lifespan does
    app = create_app(settings, config, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        assert runtime.issuer is not None
        api = Api(client, workflow_database.backend, runtime.issuer, settings)
        api.runtime = runtime
        yield api
    await runtime.close()


@pytest.fixture(scope="session")
def order_pool(network: generator.DemoNetwork) -> Orders:
    """The never-billed POs workflow tests bill, each handed out once per database."""
    return Orders(network)


@pytest.fixture(scope="session")
def billed_order_pool(network: generator.DemoNetwork) -> Orders:
    """The POs the seed already billed, handed out once per database like `order_pool`."""
    return Orders(network, already_invoiced=True)


@pytest.fixture(scope="session")
def mint(workflow_api: Api) -> Mint:
    """Copies of pool POs imported into `workflow_api`'s database (tests/order_supply.py)."""
    assert workflow_api.runtime is not None
    return Mint(workflow_api.runtime, workflow_api.backend)


@pytest.fixture
def orders(order_pool: Orders, mint: Mint) -> OrderSupply:
    """POs for workflow tests on `workflow_api`: never billed, each handed out once, minted
    once the pool has none left that fits."""
    return OrderSupply(order_pool, mint)


@pytest.fixture
def billed_orders(billed_order_pool: Orders, mint: Mint) -> OrderSupply:
    """POs the seed already billed, handed out like `orders`: for tests whose invoices land
    in EXCEPTION whatever was billed before (never-billed POs with small exceptions are few,
    and the posting tests need those)."""
    return OrderSupply(billed_order_pool, mint)


@asynccontextmanager
async def live_server_on_a_database_of_its_own(
    tmp_path_factory: pytest.TempPathFactory, network: generator.DemoNetwork, name: str
) -> AsyncIterator[Api]:
    """A real uvicorn server on loopback over a freshly seeded PostgreSQL schema."""
    database = await make_database("postgresql", tmp_path_factory.mktemp(name))
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    settings = settings_for(database, tmp_path_factory.mktemp(f"{name}-data"))
    config = load_gateway_config(settings.gateway_config)
    try:
        with serving(create_app(settings, config), name=f"{name} server") as base:
            async with httpx.AsyncClient(base_url=base, timeout=30) as client:
                yield Api(client, "postgresql", embedded_issuer(settings), settings)
    finally:
        await drop_database(database)


@pytest.fixture(scope="session")
async def live_api(
    tmp_path_factory: pytest.TempPathFactory, network: generator.DemoNetwork
) -> AsyncIterator[Api]:
    """A real uvicorn server on loopback over PostgreSQL: what an attacker would reach.
    Read-only by convention: attack tests compare what it answers with the seed."""
    async with live_server_on_a_database_of_its_own(tmp_path_factory, network, "live") as api:
        yield api


@pytest.fixture(scope="session")
async def live_writable_api(
    tmp_path_factory: pytest.TempPathFactory, network: generator.DemoNetwork
) -> AsyncIterator[Api]:
    """Like `live_api`, on a database of its own that tests may write to (the dashboard's)."""
    async with live_server_on_a_database_of_its_own(tmp_path_factory, network, "writable") as api:
        yield api


@pytest.fixture(scope="session")
async def live_production_api(live_api: Api) -> AsyncIterator[Api]:
    """The same database and signing keys as `live_api`, served in production mode (no
    GraphiQL, no error details, no suggestions): what an attacker reaches in production."""
    settings = live_api.settings.model_copy(update={"environment": "production"})
    config = load_gateway_config(settings.gateway_config)
    with serving(create_app(settings, config), name="live production server") as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            yield Api(client, "postgresql", live_api.issuer, settings)
