"""Benchmark: invoices through submitInvoice → POSTED, against a running server on PostgreSQL
with the zero-latency simulators; prints invoices/s and p50/p99 of submitInvoice.

    bench/run_submit_invoices.sh            # seeds, starts the server, runs this
    python -m bench.submit_invoices \
        --url http://127.0.0.1:8100/products/supplier-portal/v1/graphql \
        --dsn postgresql://postgres@127.0.0.1:5432/apgraph_bench --data-dir /tmp/apgraph-bench-data

Each invoice bills one unit of a different, fully received PO line of an active supplier
(one its facility's ERP knows: the supplier sync has linked it), at
the lower of the PO and contract price, with the supplier's tax: every one should match
cleanly and post. Totals are kept distinct per supplier so none is a duplicate. The
suppliers take turns (one supplier's submissions queue for its row lock). Run it on a
freshly seeded database (the wrapper does). Traffic goes to loopback only. `--server-pid`
adds the CPU per submission of the server and of its database's PostgreSQL backends, which
other work on the machine moves far less than invoices/s.
"""

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import asyncpg
import httpx

from apgraph.domain.principal import Role
from apgraph.gateway.demo_users import demo_token
from apgraph.gateway.runtime import embedded_issuer
from apgraph.settings import Settings
from bench.database_waits import sampling

SUBMIT = """
mutation Submit($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) {
    invoice { id status } userErrors { code field }
  }
}
"""

CANDIDATES = """
SELECT l.purchase_order_id AS po, l.line_no, l.unit_price, l.unit_of_measure, l.item_id,
       o.supplier_id, o.facility_id, o.cost_center_id, o.currency,
       s.tax_treatment, s.tax_rate,
       (SELECT min(c.unit_price) FROM contract_prices c
         WHERE c.supplier_id = o.supplier_id AND c.item_id = l.item_id
           AND c.currency = o.currency AND $1 BETWEEN c.valid_from AND c.valid_to) AS contract
FROM purchase_order_lines l
JOIN purchase_orders o ON o.id = l.purchase_order_id
JOIN suppliers s ON s.id = o.supplier_id
JOIN cost_centers cc ON cc.id = o.cost_center_id
WHERE s.status = 'ACTIVE' AND cc.active AND o.status NOT IN ('CLOSED', 'CANCELLED')
  AND (SELECT coalesce(sum(r.quantity), 0) FROM goods_receipts r
        WHERE r.purchase_order_id = l.purchase_order_id AND r.line_no = l.line_no)
      >= l.quantity
  AND NOT EXISTS (SELECT 1 FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id
        WHERE i.purchase_order_id = l.purchase_order_id AND il.po_line_no = l.line_no)
  AND EXISTS (SELECT 1 FROM erp_cross_references x JOIN facilities f ON f.erp_system = x.system
        WHERE f.id = o.facility_id AND x.canonical_id = o.supplier_id)
ORDER BY o.supplier_id, l.purchase_order_id, l.line_no
"""

# Totals already on file near today: the same supplier, currency and total within the
# duplicate window (gateway.yaml, 7 days as shipped) would be flagged DUPLICATE_INVOICE.
ON_FILE = """
SELECT DISTINCT supplier_id, total FROM invoices
WHERE status <> 'REJECTED' AND invoice_date BETWEEN $1::date - 60 AND $1::date + 60
"""

CENT = Decimal("0.01")


async def settle(dsn: str, *, quiet: float = 35.0, limit: float = 600.0) -> float:
    """Waits until the server's background loops have worked off what a fresh seed leaves
    them (escalations, payment scheduling, re-matches): until the audit chain has not grown
    for `quiet` seconds (longer than the re-match loop's 30 s, which matches the seed's
    VALIDATED invoices 50 a run), at most `limit`.
    Returns the seconds waited, so that the measurement is of the submissions and
    of the work they cause, not of the start-up backlog."""
    connection = await asyncpg.connect(dsn)
    try:
        started = time.perf_counter()
        last, since = None, started
        while (now := time.perf_counter()) - started < limit:
            head = await connection.fetchval("SELECT last_sequence FROM audit_head")
            if head != last:
                last, since = head, now
            elif now - since >= quiet:
                break
            await asyncio.sleep(0.5)
        return time.perf_counter() - started
    finally:
        await connection.close()


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (Linux /proc); 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (a `serve --workers N` parent and its workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children") as children:
                todo += [int(child) for child in children.read().split()]
        except OSError:
            pass
    return found


async def cpu_now(dsn: str, server_pid: int | None) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds so far of each of the server's processes, and of each PostgreSQL backend
    connected to the benchmark's database (same machine), to report CPU per submission:
    unlike invoices/s it hardly moves when other work shares the cores."""
    connection = await asyncpg.connect(dsn)
    try:
        backends = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    server = {pid: _cpu_seconds(pid) for pid in _tree(server_pid)} if server_pid else {}
    return server, {row["pid"]: _cpu_seconds(row["pid"]) for row in backends}


def spent(before: dict[int, float], after: dict[int, float]) -> dict[int, float]:
    """What each process spent in between: one that started meanwhile counts from zero; one
    that ended meanwhile is left out (its last seconds are lost, never counted negative)."""
    return {pid: seconds - before.get(pid, 0.0) for pid, seconds in after.items()}


def database_cpu(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(spent(before, after).values())


def busy_processes(spent_by: dict[int, float], elapsed: float) -> str:
    """The server's processes that worked, busiest first, in cores: a worker that took
    every connection shows as one busy process beside an idle one."""
    cores = sorted((seconds / elapsed for seconds in spent_by.values()), reverse=True)
    return ", ".join(f"{share:.2f}" for share in cores if share >= 0.01)


@dataclass(frozen=True)
class Planned:
    supplier_id: str
    variables: dict[str, object]


def plan(
    rows: list[asyncpg.Record],
    *,
    count: int,
    today: date,
    on_file: Sequence[asyncpg.Record] = (),
) -> list[Planned]:
    planned: list[Planned] = []
    totals_seen = {(row["supplier_id"], row["total"]) for row in on_file}
    for row in rows:
        price = (
            row["unit_price"]
            if row["contract"] is None
            else min(row["unit_price"], row["contract"])
        )
        amount = price.quantize(CENT, rounding=ROUND_HALF_UP)
        if amount != price or amount <= 0:
            continue  # keep the arithmetic exact at one unit
        rate = row["tax_rate"] if row["tax_treatment"] == "STANDARD" else Decimal(0)
        tax = (amount * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        total = amount + tax
        if (row["supplier_id"], total) in totals_seen:
            continue  # same supplier, same total, same day: that would be a duplicate
        totals_seen.add((row["supplier_id"], total))
        number = f"BENCH-{uuid.uuid4().hex[:10]}"
        planned.append(
            Planned(
                row["supplier_id"],
                {
                    "key": number,
                    "input": {
                        "supplierId": row["supplier_id"],
                        "supplierInvoiceNumber": number,
                        "facilityId": row["facility_id"],
                        "costCenterId": row["cost_center_id"],
                        "purchaseOrderId": row["po"],
                        "invoiceDate": today.isoformat(),
                        "currency": row["currency"],
                        "subtotal": str(amount),
                        "tax": str(tax),
                        "total": str(total),
                        "lines": [
                            {
                                "poLineNo": row["line_no"],
                                "quantity": "1",
                                "unitOfMeasure": row["unit_of_measure"],
                                "unitPrice": str(amount),
                                "amount": str(amount),
                                "itemId": row["item_id"],
                            }
                        ],
                    },
                },
            )
        )
    return _interleaved(planned, count)


def _interleaved(planned: list[Planned], count: int) -> list[Planned]:
    """`count` of them, one supplier after another in turn. Each supplier's submissions take
    its row lock one at a time (the duplicate check, docs/invariants.md), so a plan that sent
    one supplier's invoices first measured that supplier's queue, not the workflow's."""
    by_supplier: dict[str, list[Planned]] = {}
    for item in planned:
        by_supplier.setdefault(item.supplier_id, []).append(item)
    queues = list(by_supplier.values())
    chosen: list[Planned] = []
    while len(chosen) < count and queues:
        for queue in queues:
            if queue and len(chosen) < count:
                chosen.append(queue.pop(0))
        queues = [queue for queue in queues if queue]
    return chosen


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url",
        default="http://127.0.0.1:8100/products/supplier-portal/v1/graphql",
        help="a supplier's endpoint (/graphql is for operators)",
    )
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/apgraph_bench")
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/apgraph-bench-data"))
    parser.add_argument("--invoices", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument(
        "--no-settle", action="store_true", help="start at once, start-up backlog or not"
    )
    parser.add_argument(
        "--server-pid",
        type=int,
        help="the server's process id (with its workers): prints its CPU per submission, "
        "and that of the database's PostgreSQL backends",
    )
    parser.add_argument(
        "--simulators-pid",
        type=int,
        help="the process id of `apgraph simulators serve`, when the simulators run apart: "
        "prints their CPU per submission too",
    )
    args = parser.parse_args()
    if not args.url.startswith(("http://127.", "http://localhost", "http://[::1]")):
        parser.error("the benchmark only targets servers on loopback")

    if not args.no_settle:
        waited = await settle(args.dsn)
        print(f"the server's background loops settled after {waited:.0f} s")
    today = datetime.now(UTC).date()
    connection = await asyncpg.connect(args.dsn)
    rows = await connection.fetch(CANDIDATES, today)
    on_file = await connection.fetch(ON_FILE, today)
    await connection.close()
    planned = plan(rows, count=args.invoices, today=today, on_file=on_file)
    if len(planned) < args.invoices:
        parser.error(f"only {len(planned)} clean PO lines available; reseed the database")

    issuer = embedded_issuer(Settings(data_dir=args.data_dir))
    tokens = {
        supplier: demo_token(
            issuer, role=Role.SUPPLIER, supplier_id=supplier, now=datetime.now(UTC)
        )
        for supplier in {p.supplier_id for p in planned}
    }
    queue: asyncio.Queue[Planned] = asyncio.Queue()
    for item in planned:
        queue.put_nowait(item)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()

    async with httpx.AsyncClient(timeout=120) as http:

        async def client() -> None:
            while not queue.empty():
                item = queue.get_nowait()
                started = time.perf_counter()
                try:
                    response = await http.post(
                        args.url,
                        json={"query": SUBMIT, "variables": item.variables},
                        headers={"Authorization": f"Bearer {tokens[item.supplier_id]}"},
                    )
                except httpx.TimeoutException:
                    outcomes["no answer in 120 s"] += 1  # counted, not fatal: a loaded machine
                    continue
                latencies.append(time.perf_counter() - started)
                body = response.json()
                result = (body.get("data") or {}).get("submitInvoice") or {}
                if result.get("userErrors"):
                    outcomes[f"userError {result['userErrors'][0]['code']}"] += 1
                elif result.get("invoice"):
                    outcomes[result["invoice"]["status"]] += 1
                else:
                    outcomes[f"error {body.get('errors')}"[:80]] += 1

        cpu_before = await cpu_now(args.dsn, args.server_pid)
        simulators_before = _cpu_seconds(args.simulators_pid) if args.simulators_pid else 0.0
        started = time.perf_counter()
        async with sampling(args.dsn) as waits, asyncio.TaskGroup() as group:
            for _ in range(args.clients):
                group.create_task(client())
        elapsed = time.perf_counter() - started
        cpu_after = await cpu_now(args.dsn, args.server_pid)
        simulators_cpu = (
            _cpu_seconds(args.simulators_pid) - simulators_before if args.simulators_pid else 0.0
        )

    ordered = sorted(latencies)
    posted = outcomes.get("POSTED", 0)
    print(f"{len(planned)} invoices, {args.clients} clients, {elapsed:.1f} s")
    print(f"outcomes: {dict(outcomes)}")
    print(
        f"submit → POSTED: {posted / elapsed:.1f} invoices/s   submitInvoice p50 "
        f"{ordered[len(ordered) // 2] * 1000:.1f} ms  p99 "
        f"{ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000:.1f} ms  "
        f"mean {statistics.mean(latencies) * 1000:.1f} ms"
    )
    server_spent = spent(cpu_before[0], cpu_after[0])
    server_cpu = sum(server_spent.values())
    backends_cpu = database_cpu(cpu_before[1], cpu_after[1])
    if args.server_pid:
        print(
            f"CPU per submission: server {server_cpu / len(planned) * 1000:.1f} ms, "
            f"PostgreSQL {backends_cpu / len(planned) * 1000:.1f} ms "
            f"(server {server_cpu / elapsed:.2f} cores, PostgreSQL {backends_cpu / elapsed:.2f})"
        )
        print(f"server's processes, cores: {busy_processes(server_spent, elapsed)}")
    if args.simulators_pid:
        print(
            f"CPU per submission of the simulators' own process: "
            f"{simulators_cpu / len(planned) * 1000:.1f} ms ({simulators_cpu / elapsed:.2f} cores)"
        )
    print("\n".join(waits.report()))


if __name__ == "__main__":
    asyncio.run(main())
