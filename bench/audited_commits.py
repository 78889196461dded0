"""Benchmark: units of work that write one outbox event and one audit entry, committed by
concurrent tasks in one process on PostgreSQL. Every such commit locks the outbox counter and
the audit chain's head until its COMMIT, a submission's two units of work among them: this is
the rate those two rows allow, apart from the rest of the workflow (docs/performance.md).

Run from the repository root (`-m`, so that its apgraph is the one imported); `--busy 4`
shares the event loop with four tasks of CPU bursts, as a serving process does:

    .venv/bin/python -m bench.audited_commits --tasks 8 --commits 2000

Writes into a schema of its own on `--url`'s database, created and dropped around the run.
Prints commits/s, the p50 and p99 of a commit, and checks the chain afterwards.
"""

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime

from apgraph.domain.audit import AuditEvent, AuditOutcome, first_break
from apgraph.domain.events import InvoicePosted
from apgraph.domain.ids import FacilityId, InvoiceId, SupplierId
from apgraph.store.audit import AuditRepository
from apgraph.store.unit_of_work import SqlUnitOfWork
from bench.scratch_database import migrated

URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def commit_one(engine: object, n: int, numbered: bool) -> float:
    """One unit of work as a posting writes it: an event and an audit entry; `numbered`, as
    a submission's first one: an invoice number claimed with an idempotency key first. Its
    seconds."""
    at = datetime.now(UTC)
    invoice = InvoiceId(f"INV-{n:08d}")
    started = time.perf_counter()
    async with SqlUnitOfWork(engine) as uow:  # type: ignore[arg-type]
        if numbered:
            invoice, _ = await uow.invoices.next_id_keyed(
                "bench", f"key-{n}", fingerprint="bench", at=at
            )
        await uow.outbox.add(
            [
                InvoicePosted(
                    invoice_id=invoice,
                    supplier_id=SupplierId("SUP-000001"),
                    facility_id=FacilityId("FAC-0001"),
                    occurred_at=at,
                    erp_document_ref=f"ERP-{n}",
                )
            ]
        )
        await uow.audit.add(
            [AuditEvent("bench", "invoice.post", AuditOutcome.SUCCEEDED, (invoice,))], at=at
        )
        await uow.commit()
    return time.perf_counter() - started


async def busy(burst_ms: float, done: asyncio.Event) -> None:
    """Other requests' work on the same event loop: CPU in bursts of `burst_ms`, as a
    server's loop runs between a unit of work's statements."""
    while not done.is_set():
        until = time.perf_counter() + burst_ms / 1000
        while time.perf_counter() < until:
            pass
        await asyncio.sleep(0)


async def run(
    url: str, tasks: int, commits: int, busy_tasks: int, burst_ms: float, numbered: bool
) -> None:
    schema = f"bench_audited_{os.getpid()}"
    async with migrated(url, schema) as engine:
        for n in range(tasks):  # warm the pool and the prepared statements
            await commit_one(engine, n, numbered)
        numbers = iter(range(tasks, tasks + commits))
        seconds: list[float] = []

        async def worker() -> None:
            for n in numbers:
                seconds.append(await commit_one(engine, n, numbered))

        done = asyncio.Event()
        others = [asyncio.create_task(busy(burst_ms, done)) for _ in range(busy_tasks)]
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(tasks)))
        elapsed = time.perf_counter() - started
        done.set()
        await asyncio.gather(*others)
        audit = AuditRepository(engine)
        entries = [entry async for entry in audit.in_order()]
        broken = first_break(entries, head=await audit.head())
    seconds.sort()
    print(
        f"{commits} {'numbered ' if numbered else ''}commits, {tasks} tasks, "
        f"{busy_tasks} busy x {burst_ms} ms: "
        f"{commits / elapsed:.1f} commits/s, "
        f"p50 {1000 * statistics.median(seconds):.2f} ms, "
        f"p99 {1000 * seconds[int(len(seconds) * 0.99) - 1]:.2f} ms; "
        f"chain of {len(entries)} entries {'intact' if broken is None else f'BROKEN: {broken}'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=URL, help="a PostgreSQL database (asyncpg URL)")
    parser.add_argument("--tasks", type=int, default=8, help="concurrent units of work")
    parser.add_argument("--commits", type=int, default=2000)
    parser.add_argument(
        "--busy", type=int, default=0, help="tasks sharing the loop with CPU bursts (requests)"
    )
    parser.add_argument("--burst-ms", type=float, default=0.5, help="each busy task's burst")
    parser.add_argument(
        "--numbered",
        action="store_true",
        help="claim an invoice number with an idempotency key first, as a submission does",
    )
    args = parser.parse_args()
    asyncio.run(run(args.url, args.tasks, args.commits, args.busy, args.burst_ms, args.numbered))


if __name__ == "__main__":
    main()
