"""Two `apgraph serve` processes on one database: cumulative billing per PO line holds across
them (docs/invariants.md), because it rests on the database's locks, not on the process."""

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.principal import Role
from apgraph.gateway.demo_users import demo_token
from apgraph.gateway.runtime import embedded_issuer
from apgraph.settings import Settings
from apgraph.store import migrate
from tests.cli.test_serve import wait_until_healthy
from tests.conftest import TEST_SCALE
from tests.databases import Database, drop_database, make_database
from tests.keys import TEST_KEK, keyring_for
from tests.live_server import free_port
from tests.resolvers.test_invariants_under_concurrency import SUBMIT, at_once, billing
from tests.workflow import Orders, as_input

ROOT = Path(__file__).resolve().parent.parent
ROUNDS = 10


@pytest.fixture(params=["sqlite", "postgresql"])
async def shared_database(
    request: pytest.FixtureRequest, tmp_path: Path, network: generator.DemoNetwork
) -> AsyncIterator[Database]:
    database = await make_database(request.param, tmp_path / request.param)
    (tmp_path / request.param).mkdir(exist_ok=True)
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    yield database
    await drop_database(database)


@pytest.fixture
def two_servers(shared_database: Database, tmp_path: Path) -> Iterator[tuple[str, str]]:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    env |= {
        "APGRAPH_DATABASE_URL": shared_database.url,
        "APGRAPH_DATA_DIR": str(data_dir),
        "APGRAPH_DEMO_SCALE": str(TEST_SCALE),
        "APGRAPH_SEED_DEMO_DATA": "false",
        "APGRAPH_KEY_ENCRYPTION_KEY": TEST_KEK,
    }
    if shared_database.schema:
        env["APGRAPH_DATABASE_SCHEMA"] = shared_database.schema
    processes: list[subprocess.Popen[str]] = []
    bases = []
    try:
        for _ in range(2):  # one after the other: the first writes the signing keys
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "apgraph.cli", "serve", "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            processes.append(process)
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_healthy(bases[-1], process)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


async def test_two_invoices_on_one_po_line_sent_to_two_servers_never_both_post(
    two_servers, network, tmp_path
):
    first_server, second_server = two_servers
    issuer = embedded_issuer(Settings(data_dir=tmp_path / "data"))
    pool = Orders(network)
    over_billed = []
    async with (
        httpx.AsyncClient(base_url=first_server, timeout=60) as one,
        httpx.AsyncClient(base_url=second_server, timeout=60) as two,
    ):
        for round_no in range(ROUNDS):
            if await _round(pool, issuer, one, two):
                over_billed.append(round_no)
    assert over_billed == [], f"{len(over_billed)} of {ROUNDS} PO lines billed twice"


async def _round(pool: Orders, issuer, one: httpx.AsyncClient, two: httpx.AsyncClient) -> bool:
    """True when both invoices posted."""
    # given a fully received PO line, never billed
    order = pool.take("two-servers", "full")
    line = max(order.lines, key=lambda line: order.received[line.line_no])
    whole = min(order.received[line.line_no], line.quantity)
    token = demo_token(
        issuer, role=Role.SUPPLIER, now=datetime.now(UTC), supplier_id=order.supplier.id
    )

    async def send(client: httpx.AsyncClient, cents_off: int) -> str:
        invoice = billing(order, line, whole, cents_off=cents_off)
        response = await client.post(
            "/products/supplier-portal/v1/graphql",  # the shipped /graphql is operators only
            json={
                "query": SUBMIT,
                "variables": {"input": as_input(invoice), "key": f"k-{uuid.uuid4()}"},
            },
            headers={"Authorization": f"Bearer {token}"},
        )
        payload = response.json()["data"]["submitInvoice"]
        assert payload["userErrors"] == [], payload
        return str(payload["invoice"]["status"])

    # when one server gets one invoice billing all of it, the other another, at once
    statuses = await at_once(lambda: send(one, 1), lambda: send(two, 2))

    # then at most one of them posts
    if statuses.count("POSTED") > 1:
        return True
    assert sorted(statuses) == ["EXCEPTION", "POSTED"]
    return False
