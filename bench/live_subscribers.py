"""Benchmark: live status for many subscribers on one apgraph process.

Starts `apgraph serve` (embedded: SQLite, in-process bus; or --bus-url nats://… for JetStream),
then a load generator in a separate process opens N graphql-transport-ws connections, each
subscribed to invoiceStatusChanged, and records when each event arrives. This script submits
invoices through the API; latency is arrival time minus the event's `occurredAt` (stamped in
the committing transaction; same machine clock). Prints p50/p99 latency, the server's RSS
growth per connection, and the relay's events/s (outbox → bus → hub) measured separately.

    .venv/bin/python bench/live_subscribers.py --subscribers 1000 --invoices 20
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apgraph.demo import generator  # noqa: E402
from apgraph.domain.principal import Role  # noqa: E402
from apgraph.gateway.demo_users import demo_token  # noqa: E402
from apgraph.gateway.runtime import embedded_issuer  # noqa: E402
from apgraph.settings import Settings  # noqa: E402
from tests.events.servers import served  # noqa: E402
from tests.workflow import Orders, as_input  # noqa: E402

SCALE = 0.2
STATUS = "subscription { invoiceStatusChanged { event { occurredAt sequence } } }"
SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id } userErrors { code } }
}
"""


def server_pid(data_dir: Path) -> int:
    """The serving process's id, from uvicorn's start-up line in its log."""
    log = next(p for p in data_dir.iterdir() if p.name.startswith("server"))
    line = next(x for x in log.read_text().splitlines() if "Started server process" in x)
    return int(line.split("[")[1].split("]")[0])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def load(url: str, token: str, subscribers: int, expected: int) -> None:
    """The load generator (its own process): connect, subscribe, say READY, then print one
    latency (seconds) per event received until each connection has `expected` events."""
    latencies: list[float] = []
    ready = 0

    async def one() -> None:
        nonlocal ready
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],
            additional_headers={"Authorization": f"Bearer {token}"},
            max_queue=None,
            open_timeout=120,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STATUS}})
            )
            ready += 1
            got = 0
            while got < expected:
                message = json.loads(await ws.recv())
                if message["type"] != "next":
                    continue
                occurred = message["payload"]["data"]["invoiceStatusChanged"]["event"]
                at = datetime.fromisoformat(occurred["occurredAt"])
                latencies.append((datetime.now(UTC) - at).total_seconds())
                got += 1

    tasks = []
    for n in range(subscribers):
        tasks.append(asyncio.create_task(one()))
        if n % 100 == 99:
            await asyncio.sleep(0.05)  # a connection ramp, not a SYN flood
    while True:  # every connection subscribed (a condition, polled)
        if ready >= subscribers:
            break
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    await asyncio.gather(*tasks)
    print(json.dumps(latencies), flush=True)


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="apgraph-bench-live-"))
    settings = Settings(
        data_dir=data_dir,
        gateway_config=ROOT / "tests" / "gateway.yaml",
        demo_scale=SCALE,
        relay_interval_seconds=0.5,
        bus_url=args.bus_url,
        bus_stream_prefix=f"BENCH{uuid.uuid4().hex[:8].upper()}",
        subscription_queue_size=10_000,
        rematch_interval_seconds=0,
        escalation_interval_seconds=0,
    )
    network = generator.generate(generator.DemoSize().scaled(SCALE))
    orders = Orders(network)
    async with served(settings) as base:
        pid = server_pid(data_dir)
        issuer = embedded_issuer(settings)
        admin = demo_token(issuer, role=Role.FINANCE_ADMIN, now=datetime.now(UTC))
        before = rss_kib(pid)
        chosen = [orders.take("sqlite", "full") for _ in range(args.invoices)]
        expected = 4 * args.invoices  # received, validated, matched, posted
        generator_process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--load",
            base.replace("http://", "ws://") + "/graphql",
            "--token",
            admin,
            "--subscribers",
            str(args.subscribers),
            "--expected",
            str(expected),
            stdout=asyncio.subprocess.PIPE,
        )
        assert generator_process.stdout is not None
        assert (await generator_process.stdout.readline()).strip() == b"READY"
        await asyncio.sleep(1)  # let the last subscriptions register before the first commit
        connected = rss_kib(pid)
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            for order in chosen:
                supplier = demo_token(
                    issuer, role=Role.SUPPLIER, now=datetime.now(UTC), supplier_id=order.supplier.id
                )
                await client.post(
                    "/graphql",
                    json={
                        "query": SUBMIT,
                        "variables": {
                            "input": as_input(order.clean_invoice()),
                            "key": uuid.uuid4().hex,
                        },
                    },
                    headers={"Authorization": f"Bearer {supplier}"},
                )
        latencies = json.loads(await generator_process.stdout.read())
        await generator_process.wait()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(
        f"bus: {args.bus_url or 'in-process'}; subscribers: {args.subscribers}; "
        f"invoices: {args.invoices}; events delivered: {len(latencies)}"
    )
    print(
        f"commit→received latency: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms"
    )
    print(
        f"server RSS: {before / 1024:.0f} MiB idle, {connected / 1024:.0f} MiB with "
        f"{args.subscribers} subscribers: "
        f"{(connected - before) / args.subscribers:.1f} KiB per connection"
    )


async def relay_rate(args: argparse.Namespace) -> None:
    """Events/s from a full outbox through the relay to the bus and the hub, no subscribers."""
    from apgraph.domain.events import InvoiceValidated
    from apgraph.domain.principal import RowScope
    from apgraph.events.hub import Hub
    from apgraph.events.in_process import InProcessBus
    from apgraph.events.jetstream import JetStreamBus
    from apgraph.events.relay import OutboxRelay
    from apgraph.gateway.runtime import SystemClock
    from apgraph.store import migrate
    from apgraph.store.database import create_engine
    from apgraph.store.invoices import InvoiceRepository
    from apgraph.store.outbox import OutboxRepository
    from apgraph.store.unit_of_work import SqlUnitOfWork

    engine = create_engine(f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/relay.db")
    await migrate.upgrade(engine)
    at = datetime.now(UTC)
    for start in range(0, args.relay_events, 1000):
        async with SqlUnitOfWork(engine) as uow:
            await uow.outbox.add(
                [
                    InvoiceValidated(f"INV-{n:08d}", "SUP-000001", "FAC-0001", at)
                    for n in range(start, start + 1000)
                ]
            )
            await uow.commit()
    outbox = OutboxRepository(engine)
    bus = (
        await JetStreamBus.connect(args.bus_url, prefix=f"BENCH{uuid.uuid4().hex[:8].upper()}")
        if args.bus_url
        else InProcessBus()
    )
    hub = Hub(outbox, 0)
    stop = asyncio.Event()
    consuming = asyncio.create_task(bus.consume("hub", hub.receive, stop=stop, shared=False))
    await asyncio.sleep(0.5)
    relay = OutboxRelay(
        outbox=outbox,
        invoices=InvoiceRepository(engine, RowScope()),
        analytics=None,
        clock=SystemClock(),
        bus=bus,
        batch_size=500,
    )  # type: ignore[arg-type]
    started = time.perf_counter()
    while (await relay.run_once()).published:
        pass
    relayed = time.perf_counter() - started
    while True:  # every event through the hub (a condition, polled)
        if hub.position >= args.relay_events:
            break
        await asyncio.sleep(0.01)
    delivered = time.perf_counter() - started
    stop.set()
    await consuming
    await bus.close()
    await engine.dispose()
    print(
        f"relay ({args.bus_url or 'in-process'}): {args.relay_events} events published in "
        f"{relayed:.2f} s = {args.relay_events / relayed:.0f} events/s; through the hub in "
        f"{delivered:.2f} s = {args.relay_events / delivered:.0f} events/s"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=10)
    parser.add_argument("--bus-url", default=None)
    parser.add_argument("--relay-events", type=int, default=10_000)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--expected", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--relay-only", action="store_true")
    arguments = parser.parse_args()
    if arguments.load:
        asyncio.run(
            load(arguments.load, arguments.token, arguments.subscribers, arguments.expected)
        )
    elif arguments.relay_only:
        asyncio.run(relay_rate(arguments))
    else:
        asyncio.run(main(arguments))
        asyncio.run(relay_rate(arguments))
