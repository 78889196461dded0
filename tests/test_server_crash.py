"""Issue 12, item 5: apgraph itself is SIGKILLed mid-posting; every invoice still ends POSTED,
booked once, with no operator command.

Everything is a real process or socket: `apgraph simulators serve` (the ERPs, journaling their
books) and `apgraph serve` run as child processes over a seeded PostgreSQL schema with remote
connectors. Two postings are provably in flight when the server dies, as the legacy ERP's fault
control reports (`/_control/calls`, and its ledger), not by a guess at timing: one the ERP has
booked but not yet answered (`lost_response`), one it will never book (`timeout`). While the
ERP refuses lookups after the restart, both wait MATCHED rather than becoming dead letters.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from apgraph.demo import writer as demo_writer
from apgraph.domain.principal import Role
from apgraph.gateway.runtime import embedded_issuer
from apgraph.settings import Settings
from apgraph.store import migrate
from tests.conftest import TEST_SCALE, Api
from tests.databases import Database, drop_database, make_database
from tests.keys import TEST_KEK, keyring_for
from tests.live_server import free_port
from tests.resolvers.test_approve_invoice import SUBMIT
from tests.test_erp_outage import APGRAPH, SECRET, SimulatorProcess, remote_config
from tests.test_scenario import INVOICE
from tests.workflow import Order, Orders, as_input

pytestmark = pytest.mark.postgres

CRASH = "server-crash"  # the key Orders hands this test's POs out under
LEGACY_FACILITIES = {"FAC-0001", "FAC-0002", "FAC-0006"}  # gateway.yaml: legacy ERP, no shadow
POSTING = "PostVendorInvoice"  # the legacy ERP's posting operation, as its faults name it
LOOKUP = "FindPostingByToken"  # its lookup of a posting by key
CONTROL = "/legacy-erp/_control"


def environment(database: Database, config: Path, data_dir: Path) -> dict[str, str]:
    """The server's and the operator commands' environment: recovery every half second,
    for invoices MATCHED over a second."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")},
        "APGRAPH_DATABASE_URL": database.url,
        "APGRAPH_DATABASE_SCHEMA": database.schema or "",
        "APGRAPH_GATEWAY_CONFIG": str(config),
        "APGRAPH_DATA_DIR": str(data_dir),
        "APGRAPH_DEMO_SCALE": str(TEST_SCALE),
        "APGRAPH_CLOUD_ERP_CLIENT_SECRET": SECRET,
        "APGRAPH_KEY_ENCRYPTION_KEY": TEST_KEK,
        "APGRAPH_POSTING_RECOVERY_INTERVAL_SECONDS": "0.5",
        "APGRAPH_POSTING_RECOVERY_GRACE_SECONDS": "1",
        "APGRAPH_SCHEDULING_INTERVAL_SECONDS": "0",  # the invoices stay POSTED to be checked
    }


class ServerProcess:
    """`apgraph serve` as a child process that can be SIGKILLed and started again."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env, self.port = env, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *APGRAPH,
            *("serve", "--port", str(self.port)),
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        deadline = asyncio.get_running_loop().time() + 60
        async with httpx.AsyncClient(timeout=2) as client:
            while True:
                assert self.process.returncode is None, "apgraph serve exited during start-up"
                try:
                    if (await client.get(f"{self.base}/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, "apgraph serve did not start"
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, no answer is recorded."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def operator(env: dict[str, str], *arguments: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *APGRAPH,
        *arguments,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (out + err).decode()
    return out.decode()


@asynccontextmanager
async def seeded(tmp_path: Path, network: Any) -> AsyncIterator[Database]:
    database = await make_database("postgresql", tmp_path / "db")
    try:
        engine = database.engine()
        await migrate.upgrade(engine)
        await demo_writer.write(engine, network, keyring=await keyring_for(engine))
        await engine.dispose()
        yield database
    finally:
        await drop_database(database)


def legacy_orders(network: Any, count: int) -> list[Order]:
    orders, chosen = Orders(network), []
    while len(chosen) < count:
        order = orders.take(CRASH, "full")
        if order.order.facility_id in LEGACY_FACILITIES:
            chosen.append(order)
    return chosen


SENT: dict[str, dict[str, Any]] = {}  # each PO's invoice as first sent, for the retries


async def submit(api: Api, order: Order, key: str) -> dict[str, Any]:
    """submitInvoice under `key`, the same invoice each time: a repeat reports the invoice
    stored first."""
    sent = SENT.setdefault(key, as_input(order.clean_invoice()))
    body = await api.data(
        SUBMIT,
        {"input": sent, "key": key},
        token=api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
        product="supplier-portal/v1",
    )
    assert body["submitInvoice"]["userErrors"] == [], body
    return body["submitInvoice"]["invoice"]


async def until(check: Any, what: str, *, seconds: float = 90) -> Any:
    """Polls `check()` until it returns something truthy (a condition, not a guessed delay)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not (found := await check()):
        assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
        await asyncio.sleep(0.1)
    return found


async def test_a_server_killed_mid_posting_posts_every_invoice_once_on_its_own(tmp_path, network):
    erps = SimulatorProcess(free_port(), tmp_path / "erp-journal")
    others = SimulatorProcess(free_port(), tmp_path / "unused-journal")
    await erps.start()
    await others.start()
    config = remote_config(tmp_path, erps.port, others.port)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["connectors"]["resilience"]["read_timeout"] = 60.0  # unanswered calls stay in flight
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    booked, lost, posted_before = legacy_orders(network, 3)
    keys = {order.order.id: f"crash-{uuid.uuid4()}" for order in (booked, lost, posted_before)}
    try:
        async with (
            seeded(tmp_path, network) as database,
            httpx.AsyncClient(base_url=erps.base, timeout=10) as erp,
        ):
            env = environment(database, config, tmp_path / "data")
            server = ServerProcess(env)
            await server.start()
            await operator(env, "connectors", "sync-suppliers")  # remote ERPs: the operator's step
            issuer = embedded_issuer(Settings(data_dir=tmp_path / "data"))

            try:
                async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
                    api = Api(client, "postgresql", issuer, Settings())
                    # given an invoice that posts while all is well
                    first = await submit(api, posted_before, keys[posted_before.order.id])
                    assert first["status"] == "POSTED"

                    # when two postings are in flight, one booked by the ERP but not answered,
                    # one it will never book, and the server is SIGKILLed
                    for kind in ("lost_response", "timeout"):
                        fault = {"kind": kind, "operation": POSTING, "times": 1, "seconds": 600}
                        assert (await erp.post(f"{CONTROL}/faults", json=fault)).is_success
                    before = (await erp.get(f"{CONTROL}/calls")).json().get(POSTING, 0)
                    books = sum((await erps.ledger("legacy")).values())
                    in_flight = [
                        asyncio.create_task(submit(api, order, keys[order.order.id]))
                        for order in (booked, lost)
                    ]
                    await until(lambda: _calls_reached(erp, before + 2), "both postings sent")
                    await until(lambda: _ledger_grew(erps, books), "one booked by the ERP")
                    await server.kill()
                    for task in in_flight:
                        with pytest.raises(httpx.TransportError):
                            await task
            finally:
                await server.kill()

            # then, while the server is down, an operator sees both as interrupted postings
            listed = await until(
                lambda: _interrupted(env), "both listed as interrupted by deadletters list"
            )
            assert len(listed) == 2, listed

            # and when the server is back while the ERP cannot be asked, both wait MATCHED
            # (not dead letters) through the server's lookups...
            lookup = {"kind": "error", "operation": LOOKUP, "times": None}
            assert (await erp.post(f"{CONTROL}/faults", json=lookup)).is_success
            looked_up = (await erp.get(f"{CONTROL}/calls")).json().get(LOOKUP, 0)
            await server.start()
            try:
                async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
                    api = Api(client, "postgresql", issuer, Settings())
                    await until(lambda: _looked_up(erp, looked_up + 3), "lookups refused")
                    for order in (booked, lost):
                        retried = await submit(api, order, keys[order.order.id])
                        assert retried["status"] == "MATCHED", retried
                    assert (await erp.delete(f"{CONTROL}/faults")).is_success

                    # ...and once it answers, with no command at all, both end POSTED...
                    for order in (booked, lost):
                        key = keys[order.order.id]

                        async def posted(order: Order = order, key: str = key) -> Any:
                            invoice = await submit(api, order, key)  # the client's retry
                            return invoice if invoice["status"] == "POSTED" else None

                        await until(posted, f"{order.order.id}'s invoice POSTED")
                    # ...each booked exactly once in the ERP
                    ledger = await erps.ledger("legacy")
                    for order in (posted_before, booked, lost):
                        invoice = await submit(api, order, keys[order.order.id])
                        assert ledger[invoice["id"]] == 1, (invoice, ledger)
                        found = await api.data(INVOICE, {"id": invoice["id"]})
                        assert found["invoice"]["status"] == "POSTED"
            finally:
                await server.kill()
    finally:
        for process in (erps, others):
            if process.process is not None:
                await process.kill()


async def _calls_reached(erp: httpx.AsyncClient, count: int) -> bool:
    return bool((await erp.get(f"{CONTROL}/calls")).json().get(POSTING, 0) >= count)


async def _looked_up(erp: httpx.AsyncClient, count: int) -> bool:
    return bool((await erp.get(f"{CONTROL}/calls")).json().get(LOOKUP, 0) >= count)


async def _ledger_grew(erps: SimulatorProcess, before: int) -> bool:
    return sum((await erps.ledger("legacy")).values()) > before


async def _interrupted(env: dict[str, str], count: int = 2) -> list[str] | None:
    """The interrupted postings `deadletters list` shows, once it shows `count`."""
    listing = await operator(env, "deadletters", "list")
    found = [line for line in listing.splitlines() if "posting interrupted" in line]
    return found if len(found) >= count else None


APPROVE = """
mutation($id: ID!) {
  approveInvoice(invoiceId: $id) { invoice { id status } userErrors { code } }
}
"""


def legacy_exception_order(network: Any) -> Order:
    orders = Orders(network)
    while True:
        order = orders.for_exception(CRASH)
        if order.order.facility_id in LEGACY_FACILITIES:
            return order


async def test_a_server_killed_mid_approval_posts_the_approved_exception_once_on_its_own(
    tmp_path, network
):
    erps = SimulatorProcess(free_port(), tmp_path / "erp-journal")
    others = SimulatorProcess(free_port(), tmp_path / "unused-journal")
    await erps.start()
    await others.start()
    config = remote_config(tmp_path, erps.port, others.port)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["connectors"]["resilience"]["read_timeout"] = 60.0  # unanswered calls stay in flight
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    order = legacy_exception_order(network)
    try:
        async with (
            seeded(tmp_path, network) as database,
            httpx.AsyncClient(base_url=erps.base, timeout=10) as erp,
        ):
            env = environment(database, config, tmp_path / "data")
            server = ServerProcess(env)
            await server.start()
            await operator(env, "connectors", "sync-suppliers")
            issuer = embedded_issuer(Settings(data_dir=tmp_path / "data"))
            approver = issuer.issue(
                subject=order.approver,
                now=datetime.now(UTC),
                claims={"roles": [Role.APPROVER.value], "facility_ids": [order.order.facility_id]},
            ).access_token
            try:
                async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
                    api = Api(client, "postgresql", issuer, Settings())
                    # given an exception waiting for its one approver
                    body = await api.data(
                        SUBMIT,
                        {"input": as_input(order.over_received_invoice()), "key": "exception"},
                        token=api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
                        product="supplier-portal/v1",
                    )
                    invoice = body["submitInvoice"]["invoice"]
                    assert invoice["status"] == "EXCEPTION", body

                    # when the approval's posting is booked by the ERP but its answer is not
                    # back yet, and the server is SIGKILLed
                    fault = {"kind": "lost_response", "operation": POSTING, "seconds": 600}
                    assert (await erp.post(f"{CONTROL}/faults", json=fault)).is_success
                    books = sum((await erps.ledger("legacy")).values())
                    approving = asyncio.create_task(
                        api.graphql(
                            APPROVE, {"id": invoice["id"]}, token=approver, product="finance-ops/v1"
                        )
                    )
                    await until(lambda: _ledger_grew(erps, books), "booked by the ERP")
                    await server.kill()
                    with pytest.raises(httpx.TransportError):
                        await approving
            finally:
                await server.kill()

            # then an operator sees it as an interrupted posting, approved in EXCEPTION...
            listed = await until(lambda: _interrupted(env, 1), "listed as interrupted")
            assert listed[0].startswith(invoice["id"]), listed
            assert "EXCEPTION: posting interrupted" in listed[0], listed

            # ...and once the server is back, with no command, it ends POSTED, booked once
            await server.start()
            try:
                async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
                    api = Api(client, "postgresql", issuer, Settings())

                    async def posted() -> bool:
                        found = await api.data(INVOICE, {"id": invoice["id"]})
                        return bool(found["invoice"]["status"] == "POSTED")

                    await until(posted, "the approved exception POSTED")
                    assert (await erps.ledger("legacy"))[invoice["id"]] == 1
            finally:
                await server.kill()
    finally:
        for process in (erps, others):
            if process.process is not None:
                await process.kill()
