"""The NATS JetStream bus against real NATS servers: a shared one (unique stream prefix per
run) and, for the restart test, one of the test's own. Under CI=true these run, never skip
(.ci/run starts NATS; nats-server is on the PATH there)."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import nats
import pytest

from apgraph.domain.events import InvoiceReceived
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.events.jetstream import BusUnreachable, JetStreamBus
from apgraph.events.relay import OutboxRelay
from apgraph.gateway.runtime import SystemClock
from apgraph.services.ports.bus import BusUnavailable
from apgraph.services.ports.unit_of_work import OutboxRecord
from apgraph.store import migrate
from apgraph.store.database import create_engine
from apgraph.store.invoices import InvoiceRepository
from apgraph.store.outbox import OutboxRepository
from apgraph.store.unit_of_work import SqlUnitOfWork
from tests.conftest import ROOT
from tests.events.servers import NATS_URL, free_port, unique_prefix

AT = datetime(2026, 12, 1, 9, tzinfo=UTC)
IN_CI = os.environ.get("CI", "").lower() == "true"


def nats_server_binary() -> str:
    found = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if os.path.exists("/usr/sbin/nats-server") else None
    )
    if found is None:
        if IN_CI:
            pytest.fail("nats-server must be installed under CI=true")
        pytest.skip("nats-server is not installed")
    return found


def record(n: int) -> OutboxRecord:
    return OutboxRecord(
        id=str(uuid.uuid4()),
        type="invoice.received",
        sequence=n,
        occurred_at=AT,
        invoice_id=InvoiceId(f"INV-{n:08d}"),
        supplier_id=SupplierId("SUP-000001"),
        facility_id=FacilityId("FAC-0001"),
        trace_id=None,
        payload={"version": 1, "supplier_invoice_number": f"A-{n}"},
        published_at=None,
    )


async def stored_ids(url: str, stream: str) -> list[str]:
    """The event ids the stream holds, in its order, read with a throwaway consumer."""
    client = await nats.connect(url)
    try:
        js = client.jetstream()
        info = await js.stream_info(stream)
        if info.state.messages == 0:
            return []
        subscription = await js.pull_subscribe("", stream=stream)
        messages = await subscription.fetch(info.state.messages, timeout=5)
        return [json.loads(m.data)["id"] for m in messages]
    finally:
        await client.close()


async def test_publishing_an_event_twice_stores_it_once():
    # given a bus on the shared NATS under a prefix of this run's own
    prefix = unique_prefix()
    bus = await JetStreamBus.connect(NATS_URL, prefix=prefix)
    try:
        # when a relay publishes the same records twice (a lost acknowledgement)
        records = [record(1), record(2)]
        await bus.publish(records)
        await bus.publish(records)
        # then JetStream holds each once (Nats-Msg-Id de-duplication)
        assert await stored_ids(NATS_URL, f"{prefix}_INVOICE") == [r.id for r in records]
    finally:
        await bus.close()


async def test_a_consumer_that_fails_gets_the_event_again_and_acks_it_once_handled():
    prefix = unique_prefix()
    bus = await JetStreamBus.connect(NATS_URL, prefix=prefix)
    stop, attempts = asyncio.Event(), []

    async def handler(received: OutboxRecord) -> None:
        attempts.append(received.id)
        if len(attempts) == 1:
            raise RuntimeError("the webhook receiver was down")
        stop.set()

    try:
        consuming = asyncio.create_task(bus.consume("webhooks", handler, stop=stop, shared=True))
        published = record(1)
        await bus.publish([published])
        async with asyncio.timeout(30):
            await consuming
        assert attempts == [published.id, published.id]
    finally:
        await bus.close()


async def test_the_bus_refuses_to_connect_to_a_silent_address_in_one_line():
    with pytest.raises(BusUnreachable) as refused:
        await JetStreamBus.connect(f"nats://127.0.0.1:{free_port()}", prefix="X")
    assert "\n" not in str(refused.value)
    assert "is unreachable" in str(refused.value)


def test_the_server_refuses_to_start_with_the_bus_url_set_and_nats_unreachable(tmp_path):
    # given APGRAPH_BUS_URL naming a port where nothing listens
    env = {k: v for k, v in os.environ.items() if not k.startswith("APGRAPH_")}
    env.update(
        APGRAPH_BUS_URL=f"nats://127.0.0.1:{free_port()}",
        APGRAPH_DATA_DIR=str(tmp_path),
        APGRAPH_DEMO_SCALE="0.05",
        APGRAPH_PORT=str(free_port()),
    )
    # when the server is started
    done = subprocess.run(
        [sys.executable, "-m", "apgraph.cli", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then it stops with one clear line naming the bus
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if "event bus" in line]
    assert len(lines) == 1, done.stderr
    assert "is unreachable" in lines[0]
    assert "APGRAPH_BUS_URL" in lines[0]
    assert "Traceback" not in done.stderr


async def test_a_nats_restart_mid_stream_loses_no_event(tmp_path):
    # given a NATS server of this test's own, and a relay publishing to it from an outbox
    binary = nats_server_binary()
    port = free_port()
    store = tmp_path / "jetstream"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    server = start()
    url = f"nats://127.0.0.1:{port}"
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    await migrate.upgrade(engine)
    try:
        bus = await _connected(url, prefix="RESTART")
        outbox = OutboxRepository(engine)
        relay = OutboxRelay(
            outbox=outbox,
            invoices=InvoiceRepository(engine, None),  # type: ignore[arg-type]
            analytics=None,  # type: ignore[arg-type]  # no invoice.posted here
            clock=SystemClock(),
            bus=bus,
        )
        await _commit(engine, 1, 2)
        assert (await relay.run_once()).published == 2
        # when NATS goes down while more events commit, and the relay tries to publish them
        server.terminate()
        server.wait(timeout=30)
        await _commit(engine, 3, 4)
        failed = await relay.run_once()
        assert failed.published == 0
        assert failed.failed
        assert len(await outbox.pending(10)) == 2  # the outbox keeps them
        # and NATS comes back
        server = start()
        async with asyncio.timeout(60):
            while True:  # polling for a condition, with a deadline
                if (await relay.run_once()).published:
                    break
                await asyncio.sleep(0.2)
        # then every event is in the stream, each once, and none is pending any more
        committed = [r.id for r in await outbox.after(0, 10)]
        assert await stored_ids(url, "RESTART_INVOICE") == committed
        assert await outbox.pending(10) == []
        await bus.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        await engine.dispose()


async def _connected(url: str, *, prefix: str) -> JetStreamBus:
    async with asyncio.timeout(30):
        while True:
            try:
                return await JetStreamBus.connect(url, prefix=prefix)
            except BusUnreachable:
                await asyncio.sleep(0.1)  # the server is still starting


async def _commit(engine, *numbers: int) -> None:
    async with SqlUnitOfWork(engine) as uow:
        await uow.outbox.add(
            [
                InvoiceReceived(
                    InvoiceId(f"INV-{n:08d}"),
                    SupplierId("SUP-000001"),
                    FacilityId("FAC-0001"),
                    AT,
                    f"A-{n}",
                )
                for n in numbers
            ]
        )
        await uow.commit()


__all__ = ["BusUnavailable"]
