"""Benchmark: live status for many subscribers on one apgraph process.

The one command (run from the repository root, with NATS up for the JetStream rows):

    .venv/bin/python bench/live_subscribers.py --suite

runs 1,000 and 10,000 subscribers on the in-process bus and on NATS JetStream, then the
relay's rate on both, and prints one line per run. One run alone:

    .venv/bin/python bench/live_subscribers.py --subscribers 1000 --invoices 20 \\
        [--bus-url nats://127.0.0.1:4222]

Each run starts `apgraph serve` (embedded: SQLite; in-process bus, or JetStream with
--bus-url), then load generators in separate processes (one per 2,500 subscribers) open N
graphql-transport-ws connections, each subscribed to invoiceStatusChanged as the finance admin
(every subscriber receives every event: the worst case for fan-out). The script submits
invoices through the API; each event's latency is its arrival time minus its `occurredAt`
(stamped in the committing transaction; same machine clock). It prints:

- commit→received latency, p50 / p99 / max, over every event every subscriber received;
- memory per connection: the server's RSS growth from idle to N subscribed, divided by N;
- server CPU: % of one core (and µs per delivered message) while the events flow, and % of
  one core while the N connections sit idle (token re-checks, keep-alives);
- the relay's events/s (outbox → bus → hub, no subscribers) with --suite or --relay-only.

The file-descriptor limit is raised to its hard limit for this process and its children.
The machine's load average is printed with each run: other work on it shows in latency and
CPU, so compare runs taken together. Latency includes the generators' own time to read
(they share the machine's cores with the server).
"""

import argparse
import asyncio
import json
import os
import resource
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
PER_GENERATOR = 2500  # connections one load-generator process opens
HANDSHAKES_IN_FLIGHT = 50  # per generator: a ramp the server answers before its idle timeout
NATS_URL = "nats://127.0.0.1:4222"
STATUS = "subscription { invoiceStatusChanged { event { occurredAt sequence } } }"
SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) { invoice { id } userErrors { code } }
}
"""
EVENTS_PER_INVOICE = 4  # received, validated, matched, posted
SUITE = [  # (subscribers, invoices, bus)
    (1000, 20, None),
    (10_000, 5, None),
    (1000, 20, NATS_URL),
    (10_000, 5, NATS_URL),
]


def raise_fd_limit() -> int:
    """10,000 sockets need more descriptors than the usual soft limit of 1,024."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load(url: str, token: str, subscribers: int, expected: int) -> None:
    """One load generator (its own process): connect, subscribe, say READY, then keep each
    `next` message's arrival time and text until every connection has `expected` events;
    print the latencies (seconds) as JSON at the end, so reading stays cheap meanwhile."""
    arrivals: list[tuple[float, str]] = []
    ready = 0
    closed = 0
    opening = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)

    async def one() -> None:
        nonlocal ready, closed
        await opening.acquire()
        async with websockets.connect(
            url,
            subprotocols=["graphql-transport-ws"],
            additional_headers={"Authorization": f"Bearer {token}"},
            max_queue=None,
            open_timeout=300,
            ping_interval=None,  # the server's re-checks are measured, not the client's pings
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init"}))
            await ws.recv()
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STATUS}})
            )
            ready += 1
            opening.release()
            got = 0
            try:
                while got < expected:
                    text = await ws.recv()
                    if '"next"' in text:
                        arrivals.append((time.time(), text))  # type: ignore[arg-type]
                        got += 1
            except websockets.ConnectionClosed:
                closed += 1

    tasks = [asyncio.create_task(one()) for _ in range(subscribers)]
    while True:  # every connection subscribed (a condition, polled)
        if ready >= subscribers:
            break
        failed = [t for t in tasks if t.done() and t.exception() is not None]
        if failed:
            raise failed[0].exception()  # type: ignore[misc]
        await asyncio.sleep(0.05)
    print("READY", flush=True)
    await asyncio.gather(*tasks)
    latencies = []
    for arrived, text in arrivals:
        occurred = json.loads(text)["payload"]["data"]["invoiceStatusChanged"]["event"]
        latencies.append(arrived - datetime.fromisoformat(occurred["occurredAt"]).timestamp())
    print(json.dumps({"latencies": latencies, "closed": closed}), flush=True)


async def run(subscribers: int, invoices: int, bus_url: str | None, idle_seconds: float) -> str:
    data_dir = Path(tempfile.mkdtemp(prefix="apgraph-bench-live-"))
    settings = Settings(
        data_dir=data_dir,
        gateway_config=ROOT / "tests" / "gateway.yaml",
        demo_scale=SCALE,
        relay_interval_seconds=0.5,
        bus_url=bus_url,
        bus_stream_prefix=f"BENCH{uuid.uuid4().hex[:8].upper()}",
        subscription_queue_size=10_000,
        rematch_interval_seconds=0,
        escalation_interval_seconds=0,
    )
    network = generator.generate(generator.DemoSize().scaled(SCALE))
    orders = Orders(network)
    load_before = load_average()
    async with served(settings) as base:
        pid = server_pid(data_dir)
        issuer = embedded_issuer(settings)
        admin = demo_token(issuer, role=Role.FINANCE_ADMIN, now=datetime.now(UTC))
        chosen = [orders.take("sqlite", "full") for _ in range(invoices)]
        await asyncio.sleep(2)  # start-up work (recovery, first relay run) settles
        before = rss_kib(pid)
        expected = EVENTS_PER_INVOICE * invoices
        shares = [PER_GENERATOR] * (subscribers // PER_GENERATOR)
        if subscribers % PER_GENERATOR:
            shares.append(subscribers % PER_GENERATOR)
        generators = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--load",
                base.replace("http://", "ws://") + "/graphql",
                "--token",
                admin,
                "--subscribers",
                str(share),
                "--expected",
                str(expected),
                stdout=asyncio.subprocess.PIPE,
            )
            for share in shares
        ]
        for process in generators:
            assert process.stdout is not None
            line = (await process.stdout.readline()).strip()
            assert line == b"READY", f"a load generator failed: {line!r}"
        await asyncio.sleep(1)  # let the last subscriptions register before measuring
        connected = rss_kib(pid)
        idle_cpu = cpu_seconds(pid)
        await asyncio.sleep(idle_seconds)
        idle_cpu = cpu_seconds(pid) - idle_cpu
        started, cpu_started = time.perf_counter(), cpu_seconds(pid)
        async with httpx.AsyncClient(base_url=base, timeout=300) as client:
            for order in chosen:
                supplier = demo_token(
                    issuer, role=Role.SUPPLIER, now=datetime.now(UTC), supplier_id=order.supplier.id
                )
                response = await client.post(
                    "/products/supplier-portal/v1/graphql",  # a supplier's endpoint
                    json={
                        "query": SUBMIT,
                        "variables": {
                            "input": as_input(order.clean_invoice()),
                            "key": uuid.uuid4().hex,
                        },
                    },
                    headers={"Authorization": f"Bearer {supplier}"},
                )
                assert "errors" not in response.json(), response.text
        latencies: list[float] = []
        closed = 0
        for process in generators:
            assert process.stdout is not None
            result = json.loads(await process.stdout.read())
            latencies += result["latencies"]
            closed += result["closed"]
            await process.wait()
        flowing, flowing_cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_started
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[max(int(len(latencies) * 0.99) - 1, 0)]
    return (
        f"bus {bus_url or 'in-process'}; {subscribers} subscribers, {invoices} invoices, "
        f"{len(latencies)} events delivered ({closed} connections closed early); "
        f"load average {load_before} → {load_average()}\n"
        f"  commit→received: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
        f"max {latencies[-1] * 1000:.0f} ms\n"
        f"  memory: {before / 1024:.0f} MiB idle, {connected / 1024:.0f} MiB subscribed: "
        f"{(connected - before) / subscribers:.1f} KiB per connection\n"
        f"  server CPU: {flowing_cpu / flowing * 100:.0f} % of a core while events flow "
        f"({flowing:.1f} s; {flowing_cpu / max(len(latencies), 1) * 1e6:.0f} µs per message), "
        f"{idle_cpu / idle_seconds * 100:.0f} % while the {subscribers} connections idle"
    )


async def relay_rate(events: int, bus_url: str | None) -> str:
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
    for start in range(0, events, 1000):
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
        await JetStreamBus.connect(bus_url, prefix=f"BENCH{uuid.uuid4().hex[:8].upper()}")
        if bus_url
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
        if hub.position >= events:
            break
        await asyncio.sleep(0.01)
    delivered = time.perf_counter() - started
    stop.set()
    await consuming
    await bus.close()
    await engine.dispose()
    return (
        f"relay ({bus_url or 'in-process'}): {events} events published in "
        f"{relayed:.2f} s = {events / relayed:.0f} events/s; through the hub in "
        f"{delivered:.2f} s = {events / delivered:.0f} events/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", action="store_true", help="1k and 10k, both buses, relay")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=10)
    parser.add_argument("--bus-url", default=None)
    parser.add_argument("--relay-events", type=int, default=10_000)
    parser.add_argument("--relay-only", action="store_true")
    parser.add_argument("--idle-seconds", type=float, default=6.0)
    parser.add_argument("--load", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--expected", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.load:
        asyncio.run(
            load(arguments.load, arguments.token, arguments.subscribers, arguments.expected)
        )
        return
    limit = raise_fd_limit()
    print(f"open files limit {limit}; {os.cpu_count()} CPUs; load average {load_average()}")
    if arguments.suite:
        for subscribers, invoices, bus_url in SUITE:
            print(asyncio.run(run(subscribers, invoices, bus_url, arguments.idle_seconds)))
        for bus_url in (None, NATS_URL):
            print(asyncio.run(relay_rate(arguments.relay_events, bus_url)))
        return
    if not arguments.relay_only:
        print(
            asyncio.run(
                run(
                    arguments.subscribers,
                    arguments.invoices,
                    arguments.bus_url,
                    arguments.idle_seconds,
                )
            )
        )
    print(asyncio.run(relay_rate(arguments.relay_events, arguments.bus_url)))


if __name__ == "__main__":
    main()
