"""Issue 5: the ERP process is killed mid-run and comes back; no invoice is lost, none is
booked twice.

Everything is a real process or a real socket: the five simulators run as `apgraph
simulators serve` in a child process (journaling their books to disk, as a real ERP keeps
its ledger), apgraph runs in uvicorn on loopback over PostgreSQL with remote connectors, and
the dead letters are replayed with the `apgraph deadletters replay` command. The posting in
flight when the ERP dies is held there by a `hold` fault, and the kill waits until the ERP's
control API reports it held: no guess at how long a call takes.
"""

import asyncio
import os
import sys
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import ROOT, TEST_SCALE, Api
from tests.live_server import free_port
from tests.test_scenario import INVOICE, live_server, submit
from tests.workflow import Orders, system_of_record

pytestmark = pytest.mark.postgres

OUTAGE = "erp-outage"  # the key Orders hands this test's POs out under
SECRET = f"outage-{uuid.uuid4().hex}"
APGRAPH = (sys.executable, "-m", "apgraph.cli")
PREFIXES = {"legacy": "/legacy-erp", "cloud": "/cloud-erp"}
POSTINGS = {"legacy": "PostVendorInvoice", "cloud": "POST /api/v2/invoices"}  # fault operations


class SimulatorProcess:
    """`apgraph simulators serve` as a child process that can be killed and restarted."""

    def __init__(self, port: int, journal: Path) -> None:
        self.port, self.journal = port, journal
        self.process: asyncio.subprocess.Process | None = None
        self.base = f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        env = {**os.environ, "APGRAPH_CLOUD_ERP_CLIENT_SECRET": SECRET}
        self.process = await asyncio.create_subprocess_exec(
            *APGRAPH,
            *("simulators", "serve", "--port", str(self.port), "--scale", str(TEST_SCALE)),
            *("--journal", str(self.journal)),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        deadline = asyncio.get_running_loop().time() + 60
        async with httpx.AsyncClient(timeout=2) as client:
            for _ in range(600):
                if self.process.returncode is not None:
                    assert self.process.stderr is not None
                    raise AssertionError((await self.process.stderr.read()).decode())
                try:
                    if (await client.get(f"{self.base}/materials/api/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                assert asyncio.get_running_loop().time() < deadline, "simulators did not start"
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a host dies."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def hold_next_posting(self, system: str) -> None:
        """The next posting to `system` waits in the ERP until released (or the ERP dies)."""
        fault = {"kind": "hold", "operation": POSTINGS[system], "times": 1, "seconds": 600}
        async with httpx.AsyncClient(base_url=self.base) as client:
            response = await client.post(f"{PREFIXES[system]}/_control/faults", json=fault)
        assert response.is_success, response.text

    async def until_held(self, system: str) -> None:
        """Returns once `system` reports a request held: a posting provably in flight."""
        deadline = asyncio.get_running_loop().time() + 60
        async with httpx.AsyncClient(base_url=self.base) as client:
            while (await client.get(f"{PREFIXES[system]}/_control/held")).json()["held"] < 1:
                assert asyncio.get_running_loop().time() < deadline, "no posting reached the ERP"
                await asyncio.sleep(0.02)

    async def ledger(self, system: str) -> Counter[str]:
        """How many documents the ERP holds per invoice (apgraph's id is its external ref)."""
        async with httpx.AsyncClient(base_url=self.base) as client:
            found = (await client.get(f"{PREFIXES[system]}/_control/ledger")).json()
        return Counter(document["external_ref"] for document in found)


async def apgraph(api: Api, config: Path, *arguments: str) -> str:
    """Runs an apgraph command as an operator would, against the server's database."""
    process = await asyncio.create_subprocess_exec(
        *APGRAPH,
        *arguments,
        env={
            **os.environ,
            "APGRAPH_DATABASE_URL": api.settings.database_url or "",
            "APGRAPH_DATABASE_SCHEMA": api.settings.database_schema or "",
            "APGRAPH_GATEWAY_CONFIG": str(config),
            "APGRAPH_DATA_DIR": str(api.settings.data_dir),
            "APGRAPH_CLOUD_ERP_CLIENT_SECRET": SECRET,
            "APGRAPH_KEY_ENCRYPTION_KEY": api.settings.key_encryption_key or "",
        },
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, (out + err).decode()
    return out.decode()


def remote_config(tmp_path: Path, erp_port: int, others_port: int) -> Path:
    """gateway.yaml with remote connectors, and little patience: the two ERPs at one child
    process, materials management, sourcing and analytics at another."""
    config = yaml.safe_load((ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8"))
    erps, others = (f"http://127.0.0.1:{port}" for port in (erp_port, others_port))
    section = config["connectors"]
    section["mode"] = "remote"
    section["resilience"].update(
        # a dead ERP refuses at once; these bound only a loaded machine's slowness, so they
        # are generous: the test never waits for one to expire
        connect_timeout=5.0,
        read_timeout=30.0,
        attempts=2,
        backoff_initial=0.05,
        backoff_max=0.1,
        breaker_failures=3,
        breaker_cooldown=0.5,
    )
    for name in ("legacy_erp", "cloud_erp", "materials", "sourcing", "analytics"):
        base = erps if name.endswith("_erp") else others
        section[name]["base_url"] = f"{base}/{name.replace('_', '-')}"
    section["cloud_erp"]["token_url"] = f"{erps}/cloud-erp/oauth2/token"
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


async def test_killing_the_erp_mid_run_loses_no_invoice_and_books_none_twice(
    tmp_path, network, monkeypatch
):
    simulators = SimulatorProcess(free_port(), tmp_path / "erp-journal")
    others = SimulatorProcess(free_port(), tmp_path / "unused-journal")
    await simulators.start()
    await others.start()
    config = remote_config(tmp_path, simulators.port, others.port)
    monkeypatch.setenv("APGRAPH_CLOUD_ERP_CLIENT_SECRET", SECRET)
    orders = Orders(network)
    try:
        async with live_server(
            tmp_path,
            network,
            gateway_config=config,
            posting_recovery_interval_seconds=0.5,  # interrupted postings resolved on their own
            posting_recovery_grace_seconds=1,
        ) as api:
            chosen = [orders.take(OUTAGE, "full") for _ in range(6)]
            # remote ERPs: linking vendors to suppliers is the operator's step
            await apgraph(api, config, "connectors", "sync-suppliers")

            # three invoices post while the ERPs are up
            before = [await submit(api, order, order.clean_invoice()) for order in chosen[:3]]
            assert [invoice["status"] for invoice in before] == ["POSTED"] * 3

            # the ERPs' process dies while the next three are submitted, one of them in flight
            in_flight = system_of_record(api.runtime, chosen[3].order.facility_id).erp_name
            await simulators.hold_next_posting(in_flight)
            submitting = asyncio.create_task(submit(api, chosen[3], chosen[3].clean_invoice()))
            await simulators.until_held(in_flight)
            await simulators.kill()
            during = [await submitting]
            during += [await submit(api, order, order.clean_invoice()) for order in chosen[4:]]

            # none is lost: each is stored, waiting to be posted again
            assert {invoice["status"] for invoice in during} <= {"POSTING_FAILED", "POSTED"}
            assert "POSTING_FAILED" in {invoice["status"] for invoice in during}

            # the ERP comes back with its books, and the dead letters are replayed
            await simulators.start()
            await apgraph(api, config, "deadletters", "replay")

            # then every invoice is POSTED (one left MATCHED by a lost answer is resolved by
            # the server on its own), and each ERP of record holds it exactly once
            for invoice in [*before, *during]:
                deadline = asyncio.get_running_loop().time() + 60
                while (found := await api.data(INVOICE, {"id": invoice["id"]}))["invoice"][
                    "status"
                ] == "MATCHED":
                    assert asyncio.get_running_loop().time() < deadline, found
                    await asyncio.sleep(0.1)
                assert found["invoice"]["status"] == "POSTED", found
            for order, invoice in zip(chosen, [*before, *during], strict=True):
                system = system_of_record(api.runtime, order.order.facility_id).erp_name
                assert (await simulators.ledger(system))[invoice["id"]] == 1, invoice
    finally:
        for process in (simulators, others):
            if process.process is not None:
                await process.kill()
