"""Benchmark: the supplier-portal page "50 invoices with lines, supplier, PO and cost center".

Runs against a running apgraph server on PostgreSQL with N concurrent clients, then fetches
the same data with hand-written asyncpg SQL as a floor, and prints both with their ratio.

    python bench/portal_page.py \
        --url http://127.0.0.1:8100/products/supplier-portal/v1/graphql \
        --dsn postgresql://postgres@127.0.0.1:5432/apgraph_bench --clients 8 --seconds 15

Start the server with APGRAPH_EXPOSE_SQL_STATEMENTS=true to see SQL statements per request
(bench/run_portal_page.sh does all of it). Traffic goes to loopback only.
"""

import argparse
import asyncio
import json
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx

PAGE_SIZE = 50

PORTAL_PAGE = """
query PortalPage($supplier: ID!, $first: Int!) {
  invoices(filter: {supplierId: $supplier}, first: $first) {
    edges { node {
      id supplierInvoiceNumber status invoiceDate dueDate
      subtotal { amount currency } tax { amount } total { amount currency }
      supplier { id legalName status }
      purchaseOrder { id status orderedOn }
      costCenter { id code name }
      lines { lineNo description quantity unitOfMeasure unitPrice { amount } amount { amount } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@dataclass
class Result:
    name: str
    latencies: list[float]
    seconds: float
    statements: list[int]

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self) -> str:
        sql = f"{statistics.mean(self.statements):.1f}" if self.statements else "n/a"
        return (
            f"{self.name:<22} {len(self.latencies):>7} req  {self.rps:>8.1f} req/s  "
            f"p50 {self.percentile(50):>7.2f} ms  p99 {self.percentile(99):>7.2f} ms  "
            f"SQL/req {sql}"
        )


async def drive(
    name: str, clients: int, seconds: float, one: Callable[[], Awaitable[int | None]]
) -> Result:
    latencies: list[float] = []
    statements: list[int] = []
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            count = await one()
            latencies.append(time.perf_counter() - started)
            if count is not None:
                statements.append(count)

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(clients):
            group.create_task(client())
    return Result(name, latencies, time.perf_counter() - started, statements)


def process_cpu_seconds(pid: int) -> float:
    """User+system CPU of `pid` and its descendants (Linux /proc): the server's cost of a page
    measured apart from the load generator's and other tenants' (the machine is shared)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    wanted = {pid}
    grown = True
    while grown:
        children = {child for child, parent in parents.items() if parent in wanted}
        grown = not children <= wanted
        wanted |= children
    return sum(cpu.get(process, 0.0) for process in wanted)


async def busiest_supplier(pool: asyncpg.Pool) -> tuple[str, int]:
    row = await pool.fetchrow(
        "SELECT supplier_id, count(*) AS n FROM invoices GROUP BY supplier_id "
        "ORDER BY n DESC, supplier_id LIMIT 1"
    )
    return row["supplier_id"], row["n"]


async def floor_page(pool: asyncpg.Pool, supplier_id: str) -> dict[str, Any]:
    """The same page by hand: five statements, rows to dicts (the caller encodes JSON)."""
    async with pool.acquire() as connection:
        invoices = await connection.fetch(
            "SELECT * FROM invoices WHERE supplier_id = $1 ORDER BY id LIMIT $2",
            supplier_id,
            PAGE_SIZE + 1,
        )
        page = invoices[:PAGE_SIZE]
        ids = [row["id"] for row in page]
        lines = await connection.fetch(
            "SELECT * FROM invoice_lines WHERE invoice_id = ANY($1) ORDER BY invoice_id, line_no",
            ids,
        )
        supplier = await connection.fetchrow("SELECT * FROM suppliers WHERE id = $1", supplier_id)
        orders = await connection.fetch(
            "SELECT * FROM purchase_orders WHERE id = ANY($1)",
            list({row["purchase_order_id"] for row in page if row["purchase_order_id"]}),
        )
        centers = await connection.fetch(
            "SELECT * FROM cost_centers WHERE id = ANY($1)",
            list({row["cost_center_id"] for row in page}),
        )
    by_invoice: dict[str, list[dict[str, Any]]] = {}
    for line in lines:
        by_invoice.setdefault(line["invoice_id"], []).append(dict(line))
    orders_by_id = {row["id"]: dict(row) for row in orders}
    centers_by_id = {row["id"]: dict(row) for row in centers}
    return {
        "edges": [
            {
                **dict(row),
                "supplier": dict(supplier),
                "purchaseOrder": orders_by_id.get(row["purchase_order_id"]),
                "costCenter": centers_by_id[row["cost_center_id"]],
                "lines": by_invoice.get(row["id"], []),
            }
            for row in page
        ],
        "hasNextPage": len(invoices) > PAGE_SIZE,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:8100/products/supplier-portal/v1/graphql",
        help="a supplier's endpoint (/graphql is for operators)",
    )
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/apgraph_bench")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument(
        "--server-pid", type=int, default=None, help="print the server's CPU ms per page"
    )
    parser.add_argument(
        "--token", default=None, help="bearer token (e.g. from `apgraph token --role supplier`)"
    )
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("the benchmark only targets servers on loopback")

    pool = await asyncpg.create_pool(args.dsn, min_size=args.clients, max_size=args.clients)
    supplier_id, invoice_count = await busiest_supplier(pool)
    if invoice_count < PAGE_SIZE:
        parser.error(f"the busiest supplier has {invoice_count} invoices; seed a larger network")

    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else {}
    async with httpx.AsyncClient(limits=limits, timeout=30, headers=headers) as http:
        payload = {"query": PORTAL_PAGE, "variables": {"supplier": supplier_id, "first": PAGE_SIZE}}

        async def api_page() -> int | None:
            response = await http.post(args.url, json=payload)
            body = response.json()
            if response.status_code != 200 or "errors" in body:
                raise RuntimeError(f"the API answered {response.status_code}: {body}")
            if len(body["data"]["invoices"]["edges"]) != PAGE_SIZE:
                raise RuntimeError("the API returned a short page")
            return body.get("extensions", {}).get("sqlStatements")

        async def sql_page() -> int | None:
            page = await floor_page(pool, supplier_id)
            if len(page["edges"]) != PAGE_SIZE:
                raise RuntimeError("the floor returned a short page")
            json.dumps(page, default=str)  # a server would encode it, as apgraph does
            return 5

        # Both targets must return the same invoices with the same lines, or the race is void.
        answered = (await http.post(args.url, json=payload)).json()["data"]["invoices"]["edges"]
        floor_edges = (await floor_page(pool, supplier_id))["edges"]
        api_shape = [(e["node"]["id"], len(e["node"]["lines"])) for e in answered]
        floor_shape = [(row["id"], len(row["lines"])) for row in floor_edges]
        if api_shape != floor_shape:
            raise RuntimeError(f"apgraph and the floor disagree: {api_shape} vs {floor_shape}")
        print(f"same invoices and line counts from both: {len(api_shape)} invoices")

        print(
            f"supplier {supplier_id} ({invoice_count} invoices), page of {PAGE_SIZE}, "
            f"{args.clients} clients, {args.seconds:.0f} s each"
        )
        await drive("warmup", args.clients, args.warmup, api_page)
        cpu_before = process_cpu_seconds(args.server_pid) if args.server_pid else 0.0
        api = await drive("apgraph GraphQL", args.clients, args.seconds, api_page)
        cpu_after = process_cpu_seconds(args.server_pid) if args.server_pid else 0.0
        await drive("warmup", args.clients, args.warmup, sql_page)
        floor = await drive("asyncpg floor", args.clients, args.seconds, sql_page)
    await pool.close()

    print(api.line())
    print(floor.line())
    if args.server_pid:
        print(
            f"server CPU: {(cpu_after - cpu_before) / len(api.latencies) * 1000:.1f} ms per page "
            f"({cpu_after - cpu_before:.1f} s over {len(api.latencies)} pages)"
        )
    print(
        f"ratio: apgraph delivers {api.rps / floor.rps:.1%} of the floor's throughput; "
        f"p50 {api.percentile(50) / floor.percentile(50):.1f}x the floor's"
    )


if __name__ == "__main__":
    asyncio.run(main())
