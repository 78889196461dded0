"""Benchmark: what metrics and tracing cost the portal page and submitInvoice.

Seeds a PostgreSQL database with the demo network, starts three `apgraph serve` processes on
it (loopback), and drives them in alternating rounds so drift on a shared machine hits all:

- off:      APGRAPH_TRACING=off, nobody scrapes /metrics
- ids:      the default: tracing on with no exporter (trace ids made and propagated, spans
            sampled off), nobody scrapes /metrics
- traced:   tracing on and recording every span, exported over OTLP/HTTP to a sink on
            loopback (a child process answering 200)
- on:       as traced, and /metrics scraped every second (its business figures are read
            from the database at each scrape)

Per-request Prometheus counters and histograms have no switch: all three pay for them, so
"off" against "on" is the cost of tracing plus scraping. Prints req/s, p50 and p99 of each.

    python bench/observability_overhead.py --clients 8 --seconds 10 --rounds 3

Traffic goes to loopback only.
"""

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portal_page import PAGE_SIZE, PORTAL_PAGE, Result, busiest_supplier, drive  # noqa: E402
from submit_invoices import CANDIDATES, SUBMIT, Planned, plan  # noqa: E402
from unthrottled import unthrottled_gateway_config  # noqa: E402

from apgraph.domain.principal import Role  # noqa: E402
from apgraph.gateway.demo_users import demo_token  # noqa: E402
from apgraph.gateway.runtime import embedded_issuer  # noqa: E402
from apgraph.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
VARIANTS = ("off", "ids", "traced", "on")
PORTAL = "/products/supplier-portal/v1/graphql"  # the suppliers' endpoint (/graphql: operators)


def sink(port: int) -> None:
    """The OTLP/HTTP receiver of the `on` server: reads each batch, answers 200, keeps none."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def traces(request: Request) -> Response:
        await request.body()
        return Response(b"", media_type="application/x-protobuf")

    app = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


@contextlib.contextmanager
def process(arguments: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        child = subprocess.Popen(arguments, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.terminate()
            child.wait(timeout=30)


async def create_database(name: str) -> None:
    admin = await asyncpg.connect(ADMIN_DSN)
    if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
        await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()


def ready(base: str, child: subprocess.Popen) -> None:
    for _ in range(240):
        if child.poll() is not None:
            raise RuntimeError(f"the server at {base} exited ({child.returncode})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        time.sleep(0.5)  # a start-up poll, not a measurement
    raise RuntimeError(f"the server at {base} did not start")


@contextlib.asynccontextmanager
async def scraping(base: str, token: str, on: bool) -> AsyncIterator[None]:
    """Prometheus at a 1 s interval (the business figures are read at each scrape)."""
    if not on:
        yield
        return
    stop = asyncio.Event()

    async def loop() -> None:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http:
            while not stop.is_set():
                (await http.get(f"{base}/metrics")).raise_for_status()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        stop.set()
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="apgraph_bench_obs")
    parser.add_argument("--port", type=int, default=8130, help="first of five ports")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--invoices", type=int, default=60, help="per variant and round")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/apgraph-bench-obs"))
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        sink(args.sink)
        return

    dsn = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    asyncio.run(create_database(args.database))
    env = {
        **os.environ,
        "APGRAPH_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.database}",
        "APGRAPH_DATA_DIR": str(args.data_dir),
        "APGRAPH_ENVIRONMENT": "production",
        # per-minute budgets one supplier's token would soon spend: the portal's raised (what
        # is measured is observability, not the rate limit); outside the data directory
        "APGRAPH_GATEWAY_CONFIG": str(
            unthrottled_gateway_config(Path(tempfile.mkdtemp(prefix="apgraph-bench-obs-")))
        ),
    }
    apgraph = [sys.executable, "-m", "apgraph.cli"]
    print("seeding the demo network …", flush=True)
    # seeded in dev mode, which makes the data directory's key-encryption key (a
    # production server only reads one)
    development = {**env, "APGRAPH_ENVIRONMENT": "dev"}
    seeded = subprocess.run([*apgraph, "seed", "--replace"], env=development, capture_output=True)
    if seeded.returncode:
        raise SystemExit(f"apgraph seed failed:\n{seeded.stderr.decode()[-2000:]}")

    sink_port = args.port + len(VARIANTS)
    ports = dict(zip(VARIANTS, range(args.port, sink_port), strict=True))
    variant_env = {
        "off": {"APGRAPH_TRACING": "off"},
        "ids": {"APGRAPH_TRACING": "on"},
    }
    variant_env["traced"] = variant_env["on"] = {
        "APGRAPH_TRACING": "on",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink_port}",
        "OTEL_TRACES_SAMPLER": "always_on",
    }
    logs = args.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        stack.enter_context(
            process([sys.executable, __file__, "--sink", str(sink_port)], env, logs / "sink.log")
        )
        bases = {}
        for variant in VARIANTS:  # one at a time: each start migrates and links vendors
            serve = [*apgraph, "serve", "--port", str(ports[variant]), "--no-demo-data"]
            child = stack.enter_context(
                process(serve, {**env, **variant_env[variant]}, logs / f"{variant}.log")
            )
            bases[variant] = f"http://127.0.0.1:{ports[variant]}"
            ready(bases[variant], child)
        asyncio.run(run(args, dsn, bases))


async def run(args: argparse.Namespace, dsn: str, bases: dict[str, str]) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    supplier, invoices = await busiest_supplier(pool)
    rows = await pool.fetch(CANDIDATES, datetime.now(UTC).date())
    await pool.close()
    if invoices < PAGE_SIZE:
        raise SystemExit(f"the busiest supplier has {invoices} invoices; seed a larger network")
    wanted = args.invoices * args.rounds * len(VARIANTS)
    planned = plan(rows, count=wanted, today=datetime.now(UTC).date())
    if len(planned) < wanted:
        raise SystemExit(f"only {len(planned)} clean PO lines; ask for fewer --invoices")
    issuer = embedded_issuer(Settings(data_dir=args.data_dir))
    now = datetime.now(UTC)
    reader = demo_token(issuer, role=Role.SUPPLIER, supplier_id=supplier, now=now)
    operator = demo_token(issuer, role=Role.FINANCE_ADMIN, now=now)
    suppliers = {p.supplier_id for p in planned}
    tokens = {s: demo_token(issuer, role=Role.SUPPLIER, supplier_id=s, now=now) for s in suppliers}

    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    page = {"query": PORTAL_PAGE, "variables": {"supplier": supplier, "first": PAGE_SIZE}}
    pages: dict[str, list[Result]] = {v: [] for v in VARIANTS}
    submits: dict[str, list[Result]] = {v: [] for v in VARIANTS}
    outcomes: dict[str, Counter[str]] = {v: Counter() for v in VARIANTS}
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        def portal(base: str):
            async def one() -> None:
                response = await http.post(
                    f"{base}{PORTAL}", json=page, headers={"Authorization": f"Bearer {reader}"}
                )
                edges = response.json()["data"]["invoices"]["edges"]
                if len(edges) != PAGE_SIZE:
                    raise RuntimeError(f"{base} returned a short page")

            return one

        async def submit(base: str, batch: list[Planned], name: str) -> Result:
            queue: asyncio.Queue[Planned] = asyncio.Queue()
            for item in batch:
                queue.put_nowait(item)
            latencies: list[float] = []

            async def client() -> None:
                while not queue.empty():
                    item = queue.get_nowait()
                    started = time.perf_counter()
                    response = await http.post(
                        f"{base}{PORTAL}",
                        json={"query": SUBMIT, "variables": item.variables},
                        headers={"Authorization": f"Bearer {tokens[item.supplier_id]}"},
                    )
                    latencies.append(time.perf_counter() - started)
                    answer = response.json()["data"]["submitInvoice"]
                    outcomes[name][(answer["invoice"] or {}).get("status", "userError")] += 1

            started = time.perf_counter()
            async with asyncio.TaskGroup() as group:
                for _ in range(args.clients):
                    group.create_task(client())
            return Result(name, latencies, time.perf_counter() - started, [])

        for variant in VARIANTS:
            await drive("warmup", args.clients, 2, portal(bases[variant]))
        batches = iter(
            planned[i : i + args.invoices] for i in range(0, len(planned), args.invoices)
        )
        for round_no in range(args.rounds):
            order = VARIANTS if round_no % 2 == 0 else tuple(reversed(VARIANTS))
            for variant in order:
                async with scraping(bases[variant], operator, variant == "on"):
                    pages[variant].append(
                        await drive(variant, args.clients, args.seconds, portal(bases[variant]))
                    )
                    submits[variant].append(await submit(bases[variant], next(batches), variant))

    print(
        f"portal page of {PAGE_SIZE} ({supplier}) and submitInvoice, "
        f"{args.clients} clients, {args.rounds} rounds of {args.seconds:.0f} s and "
        f"{args.invoices} invoices per variant"
    )
    print(f"submitInvoice outcomes: { {v: dict(c) for v, c in outcomes.items()} }")
    for title, results in (("portal page", pages), ("submitInvoice", submits)):
        print(title)
        merged = {v: _merged(v, runs) for v, runs in results.items()}
        for variant in VARIANTS:
            result = merged[variant]
            print(
                f"  {variant:<6} {result.rps:>8.1f} req/s  p50 {result.percentile(50):>7.1f} ms  "
                f"p99 {result.percentile(99):>7.1f} ms  "
                f"({result.rps / merged['off'].rps:.1%} of off's throughput)"
            )


def _merged(name: str, runs: list[Result]) -> Result:
    return Result(
        name,
        [latency for r in runs for latency in r.latencies],
        sum(r.seconds for r in runs),
        [],
    )


if __name__ == "__main__":
    main()
