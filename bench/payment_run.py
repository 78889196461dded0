"""Benchmark: a payment run of N posted invoices, from scheduling to confirmation.

Builds a demo database (a SQLite file; with --postgres a fresh schema in PostgreSQL's database
`test`, dropped afterwards, as the tests make theirs), adds N POSTED
invoices of one legacy-ERP facility, spread over its active suppliers and two weeks of
invoice dates, and books each in the in-process legacy ERP simulator (as their posting would
have). Then times, with the same services the API and `apgraph payments` call:

- schedule: every POSTED invoice scheduled by its supplier's terms (grouped into payments);
- propose: schedulePaymentRun for the facility and the last pay date;
- release: releasePaymentRun (approved by someone else first), every payment ordered from
  the ERP over the full client stack (SOAP, resilience wrapper) in-process;
- confirm: the confirmation poll, each payment PAID, its invoices REMITTED, remittance
  advice rendered and stored (PDF, CSV, X12 820).

    PYTHONPATH=. .venv/bin/python bench/payment_run.py --invoices 10000
    PYTHONPATH=. .venv/bin/python bench/payment_run.py --invoices 10000 --postgres

(PYTHONPATH=.: this checkout's code, not whichever checkout the venv was installed from; the
first line printed names the code that ran.)
"""

import argparse
import asyncio
import cProfile
import pstats
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import event, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import apgraph
from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.ids import EntityKind, FacilityId, InvoiceId, numbered
from apgraph.domain.invoices import InvoiceStatus
from apgraph.domain.principal import ALL_SCOPES, Principal, Role, RowScope
from apgraph.domain.suppliers import SupplierStatus
from apgraph.gateway.key_encryption import open_keyring
from apgraph.gateway.request_context import workflow_for
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from apgraph.services import payment_release, payment_runs, scheduling
from apgraph.settings import Settings
from apgraph.simulators.erp_book import Document
from apgraph.store import migrate
from apgraph.store.database import create_engine
from apgraph.store.rows import row_of
from apgraph.store.tables import InvoiceRow, PaymentRow

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.05
FACILITY = FacilityId("FAC-0001")  # routed to the legacy ERP
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


class Meter:
    """Wall time, this process's CPU time and SQL statements per phase: on a shared machine
    the wall time swings with the load, CPU and statements do not."""

    def __init__(self, engine: AsyncEngine, profile: str | None) -> None:
        self.phases: dict[str, tuple[float, float, int]] = {}
        self.statements = 0
        self.profile = profile
        event.listen(engine.sync_engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.statements += 1

    @asynccontextmanager
    async def phase(self, name: str) -> AsyncIterator[None]:
        profiler = cProfile.Profile() if name == self.profile else None
        wall, cpu, statements = time.perf_counter(), time.process_time(), self.statements
        if profiler:
            profiler.enable()
        yield
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        self.phases[name] = (
            time.perf_counter() - wall,
            time.process_time() - cpu,
            self.statements - statements,
        )


def person(name: str) -> Principal:
    return Principal(
        subject=name, roles=frozenset({Role.FINANCE_ADMIN}), scopes=frozenset(ALL_SCOPES)
    )


async def main(
    invoices: int, database_url: str | None, postgres: bool, profile: str | None
) -> None:
    work = Path(tempfile.mkdtemp(prefix="apgraph-bench-"))
    schema = None
    if postgres:
        database_url = database_url or POSTGRES_URL
        schema = f"apgraph_bench_{uuid.uuid4().hex[:12]}"
        await _schema(database_url, f'CREATE SCHEMA "{schema}"')
    try:
        await _bench(work, invoices, database_url, schema, profile)
    finally:
        if schema is not None:
            assert database_url is not None
            await _schema(database_url, f'DROP SCHEMA "{schema}" CASCADE')


async def _schema(database_url: str, statement: str) -> None:
    admin = create_engine(database_url)
    try:
        async with admin.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await admin.dispose()


async def _bench(
    work: Path, invoices: int, database_url: str | None, schema: str | None, profile: str | None
) -> None:
    settings = Settings(
        data_dir=work,
        database_url=database_url or f"sqlite+aiosqlite:///{work / 'bench.db'}",
        database_schema=schema,
        gateway_config=ROOT / "gateway.yaml",
        demo_scale=SCALE,
    )
    config = load_gateway_config(settings.gateway_config)
    engine = create_engine(settings.resolved_database_url, schema=settings.database_schema)
    await migrate.upgrade(engine)
    await open_keyring(settings, config, engine, now=datetime.now(UTC))  # the key file too
    await engine.dispose()
    runtime = Runtime.open(settings, config)
    try:
        network = generator.generate(generator.DemoSize().scaled(SCALE))
        await demo_writer.write(runtime.engine, network, keyring=runtime.keyring)
        await runtime.connectors.ready_to_post(runtime.engine, runtime.keyring)  # as serve does
        last_pay_date = await _posted_invoices(runtime, network, invoices)
        workflow = workflow_for(runtime, None)
        reads = runtime.reads(RowScope())

        meter = Meter(runtime.engine, profile)
        async with meter.phase("schedule"):
            scheduled = await scheduling.schedule_posted(
                workflow=workflow, clock=runtime.clock, limit=invoices * 2
            )

        async with meter.phase("propose"):
            proposal = await payment_runs.schedule_payment_run(
                payment_runs.SchedulePaymentRun(facility_id=FACILITY, pay_date=last_pay_date),
                principal=person("bench.maker"),
                workflow=workflow,
                reads=reads,
                clock=runtime.clock,
            )
        assert proposal.value is not None, proposal.problems
        run = proposal.value.run
        checker = person("bench.checker")
        second = person("bench.second")
        for approver in (checker, second)[: run.approvals_needed]:
            approved = await payment_runs.approve_payment_run(
                run.id, principal=approver, workflow=workflow, reads=reads, clock=runtime.clock
            )
            assert approved.value is not None, approved.problems

        async with meter.phase("release"):
            released = await payment_runs.release_payment_run(
                run.id, principal=checker, workflow=workflow, reads=reads, clock=runtime.clock
            )
        assert released.value is not None, released.problems

        async with meter.phase("confirm"):
            report = await payment_release.confirm_released(
                workflow=workflow, clock=runtime.clock, limit=1_000_000
            )

        async with runtime.engine.connect() as connection:
            statuses = (
                await connection.execute(
                    select(PaymentRow.status).where(PaymentRow.run_id == run.id)
                )
            ).scalars()
            paid = sum(1 for s in statuses if s == "PAID")
        backend = runtime.engine.dialect.name
        print(f"code {Path(apgraph.__file__).parent}")
        print(
            f"backend {backend}; {invoices} invoices scheduled ({scheduled}) into "
            f"{run.payment_count} payments, {run.total} {run.currency}"
        )
        print(f"{'phase':9} {'wall s':>8} {'cpu s':>8} {'SQL':>8}  (cpu: this process only)")
        for name, (wall, cpu, statements) in meter.phases.items():
            print(f"{name:9} {wall:8.2f} {cpu:8.2f} {statements:8d}")
        print(f"paid      {paid} of {run.payment_count} payments ({len(report.paid)} confirmed)")
    finally:
        await runtime.close()


async def _posted_invoices(runtime: Runtime, network: generator.DemoNetwork, count: int) -> date:
    """N POSTED invoices of FACILITY, booked in the legacy ERP simulator; returns the last
    pay date any of them can have (its due date)."""
    assert runtime.connectors.simulators is not None
    book = runtime.connectors.simulators.legacy_erp.book
    active = [s for s in network.suppliers if s.status is SupplierStatus.ACTIVE]
    template = next(
        i
        for i in network.invoices
        if i.facility_id == FACILITY and i.supplier_id in {s.id for s in active}
    )
    key_of = {vendor.supplier_id: vendor.key for vendor in book.vendors.values()}
    today = runtime.clock.now().date()
    rows = []
    latest = today
    for n in range(count):
        supplier = active[n % len(active)]
        invoice_date = today - timedelta(days=n % 14)
        number = 90_000_000 + n
        invoice = replace(
            template,
            id=InvoiceId(numbered(EntityKind.INVOICE, 60_000_000 + n)),
            supplier_id=supplier.id,
            supplier_invoice_number=f"B-{uuid.uuid4().hex[:12]}",
            facility_id=FACILITY,
            invoice_date=invoice_date,
            due_date=supplier.payment_terms.due_date(invoice_date),
            subtotal=Decimal("100.00"),
            tax=Decimal("0.00"),
            total=Decimal("100.00"),
            status=InvoiceStatus.POSTED,
            erp_document_ref=f"LEG-{number}",
        )
        latest = max(latest, invoice.due_date)
        rows.append(row_of(invoice))
        book.record(
            Document(
                number=number,
                token=f"bench-{invoice.id}",
                vendor_key=key_of[supplier.id],
                external_ref=invoice.id,
                vendor_invoice_no=invoice.supplier_invoice_number,
                currency=invoice.currency,
                gross=invoice.total,
                tax=invoice.tax,
                document_date=invoice_date,
                due_date=invoice.due_date,
                posted_on=today,
            )
        )
    async with runtime.engine.begin() as connection:
        for start in range(0, len(rows), 1000):
            await connection.execute(insert(InvoiceRow), rows[start : start + 1000])
    return latest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a fresh schema in PostgreSQL (--database-url, or database `test` on loopback)",
    )
    parser.add_argument(
        "--profile",
        choices=["schedule", "propose", "release", "confirm"],
        help="print cProfile's top functions of this phase",
    )
    arguments = parser.parse_args()
    asyncio.run(
        main(arguments.invoices, arguments.database_url, arguments.postgres, arguments.profile)
    )
