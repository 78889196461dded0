"""Benchmark: a submission's duplicate check, by the length of its supplier's history.

For one supplier with H invoices on file, each check runs in a unit of work as a submission's
does: the supplier's row lock, the read, then validate_invoice and review_invoice with the
shipped rules. Two reads are compared, interleaved check by check: every invoice of the
supplier as domain objects (what the rules were given before migration 0015) and the
candidates only (`duplicate_candidates`). Prints this process's CPU ms per check (what the
server spends) and wall ms per check, median of the checks. PostgreSQL by default (the local
server's `test` database, in a schema of its own, dropped afterwards); --sqlite for SQLite.

    .venv/bin/python -m bench.duplicate_check
    .venv/bin/python -m bench.duplicate_check --histories 10,1000,20000 --checks 300
"""

import argparse
import asyncio
import gc
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.ids import EntityKind, InvoiceId, numbered
from apgraph.domain.invoices import Invoice, InvoiceStatus
from apgraph.domain.review import ReviewRules, review_invoice
from apgraph.domain.submission import SubmittedInvoice
from apgraph.domain.validation import ValidationFacts, validate_invoice
from apgraph.policies.matching import DuplicatePolicy
from apgraph.store import number_keys
from apgraph.store.invoices import invoice_from_row
from apgraph.store.rows import row_of
from apgraph.store.tables import InvoiceRow, SupplierRow
from apgraph.store.unit_of_work import SqlUnitOfWork
from bench.scratch_database import migrated
from tests.keys import keyring_for

POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
RULES = DuplicatePolicy().numbers()
REVIEW = ReviewRules(numbers=RULES)
WINDOW = 7
AT = datetime(2026, 11, 20, 9, tzinfo=UTC)
_table = InvoiceRow.__table__
_invoices = _table.c
BEFORE_0015 = [c for c in _table.c if c.name not in ("number_key", "number_key_rules")]

Read = Callable[[SqlUnitOfWork, Invoice], Awaitable[Sequence[Invoice]]]


async def every_invoice(uow: SqlUnitOfWork, probe: Invoice) -> Sequence[Invoice]:
    """The read before migration 0015: the supplier's row lock, then all its invoices."""
    connection = uow.invoices.connection
    await connection.execute(
        select(SupplierRow.id)
        .where(SupplierRow.id == probe.supplier_id)
        .with_for_update(key_share=True)
    )
    rows = await connection.execute(
        select(*BEFORE_0015)
        .where(_invoices.supplier_id == probe.supplier_id)
        .order_by(_invoices.received_at, _invoices.id)
    )
    return [invoice_from_row(row) for row in rows]


async def candidates(uow: SqlUnitOfWork, probe: Invoice) -> Sequence[Invoice]:
    return await uow.invoices.duplicate_candidates(
        probe.supplier_id,
        number=RULES.keyed(probe.supplier_invoice_number),
        currency=probe.currency,
        total=probe.total,
    )


def as_submitted(probe: Invoice) -> SubmittedInvoice:
    """`probe` as a supplier would submit it again (no PO, no lines): what the duplicate rules
    compare is its supplier, number, date, currency and total."""
    return SubmittedInvoice(
        supplier_id=probe.supplier_id,
        supplier_invoice_number=probe.supplier_invoice_number,
        facility_id=probe.facility_id,
        cost_center_id=probe.cost_center_id,
        purchase_order_id=None,
        invoice_date=probe.invoice_date,
        currency=probe.currency,
        subtotal=probe.total,
        tax=Decimal(0),
        total=probe.total,
        lines=(),
    )


async def check(engine: AsyncEngine, read: Read, probe: Invoice) -> int:
    async with SqlUnitOfWork(engine) as uow:
        on_file = await read(uow, probe)
    submitted = as_submitted(probe)
    validate_invoice(
        submitted,
        ValidationFacts(None, None, None, on_file),
        duplicate_window_days=WINDOW,
        numbers=RULES,
    )
    review_invoice(probe, order=None, on_file=on_file, rules=REVIEW, duplicate_window_days=WINDOW)
    return len(on_file)


async def grow_history(engine: AsyncEngine, template: Invoice, start: int, end: int) -> None:
    """Invoices start..end-1 of the supplier: distinct numbers and totals, a day apart."""
    rows = []
    for n in range(start, end):
        invoice = replace(
            template,
            id=InvoiceId(numbered(EntityKind.INVOICE, 10_000_000 + n)),
            supplier_invoice_number=f"HIST-{n:06d}",
            total=Decimal(1000 + n) + Decimal("0.37"),
            invoice_date=template.invoice_date - timedelta(days=n % 700),
            status=InvoiceStatus.POSTED,
            received_at=AT - timedelta(minutes=end - n),
        )
        number = RULES.keyed(invoice.supplier_invoice_number)
        rows.append({**row_of(invoice), **number_keys.stored(number)})
    async with engine.begin() as connection:
        for at in range(0, len(rows), 1000):
            await connection.execute(insert(InvoiceRow), rows[at : at + 1000])


async def measure(engine: AsyncEngine, read: Read, probe: Invoice) -> tuple[float, float, int]:
    """One check; collected first, so neither read pays for the garbage the other left."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    found = await check(engine, read, probe)
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000, found


def median(results: list[tuple[float, float, int]], at: int) -> float:
    return statistics.median(result[at] for result in results)


async def run(url: str, schema: str | None, histories: list[int], checks: int) -> None:
    async with migrated(url, schema) as engine:
        network = generator.generate(
            generator.DemoSize(facilities=1, suppliers=10, purchase_orders=40, invoices=60)
        )
        await demo_writer.write(engine, network, keyring=await keyring_for(engine))
        await number_keys.make_keys(engine, RULES)
        template = next(i for i in network.invoices if i.purchase_order_id is not None)
        probe = replace(
            template,
            id=InvoiceId("INV-99999999"),
            supplier_invoice_number="NEW-000001",
            total=Decimal("0.03"),
            received_at=AT,
        )
        print(f"{checks} checks per history, interleaved; median per check")
        print("history  full scan: CPU ms  wall ms   candidates: CPU ms  wall ms  (read)")
        grown = 0
        for history in histories:
            await grow_history(engine, template, grown, history)
            grown = history
            async with engine.begin() as connection:
                await connection.execute(text("ANALYZE invoices"))
            results: dict[str, list[tuple[float, float, int]]] = {"full": [], "cand": []}
            for _ in range(10):  # warm both
                await measure(engine, every_invoice, probe)
                await measure(engine, candidates, probe)
            for _ in range(checks):
                results["full"].append(await measure(engine, every_invoice, probe))
                results["cand"].append(await measure(engine, candidates, probe))
            full, cand = results["full"], results["cand"]
            print(
                f"{history:7d}  {median(full, 0):18.2f} {median(full, 1):8.2f}"
                f"   {median(cand, 0):18.2f} {median(cand, 1):8.2f}"
                f"  ({full[0][2]} vs {cand[0][2]} invoices)"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--histories", default="10,100,1000,10000")
    parser.add_argument("--checks", type=int, default=200)
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    if args.sqlite:
        url, schema = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", None
    else:
        url, schema = POSTGRES, f"bench_dupcheck_{uuid.uuid4().hex[:8]}"
    histories = sorted(int(h) for h in args.histories.split(","))
    asyncio.run(run(url, schema, histories, args.checks))


if __name__ == "__main__":
    main()
