"""Benchmark: importing an acquired hospital network's master data into PostgreSQL.

Generates a deterministic bundle (by default 1,000 suppliers, 10,000 POs of 5 lines = 50,000
PO lines, one receipt per line = 50,000 receipts, 20,000 contract prices), writes it as
bundle.json, creates a fresh database `apgraph_bench_import`, and imports the file twice as
`apgraph import` does: read and validate, check references against what is stored, upsert.
Prints seconds per phase and rows/s; the second import finds every row unchanged and writes
nothing. The database is dropped at the end unless --keep.

    .venv/bin/python bench/import_master_data.py
    .venv/bin/python bench/import_master_data.py --orders 2000 --contracts 5000
"""

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from apgraph.domain.bundle import (
    FacilityEntry,
    MasterDataBundle,
    PurchaseOrderEntry,
    SupplierEntry,
    VendorLink,
)
from apgraph.domain.erp import MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    ContractPriceId,
    EntityKind,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    SupplierId,
    cost_center_for,
    numbered,
)
from apgraph.domain.purchasing import (
    Category,
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.suppliers import (
    BankAccount,
    Contact,
    PaymentTerms,
    Supplier,
    SupplierStatus,
    TaxTreatment,
)
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.runtime import SystemClock
from apgraph.services.bundles import check_references, read_bundle_path, write_bundle_path
from apgraph.services.onboarding import import_bundle
from apgraph.store import migrate
from apgraph.store.database import create_engine
from apgraph.store.master_data_io import SqlMasterData
from tests.keys import keyring_for

DATABASE = "apgraph_bench_import"
SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
FACILITIES = 5
GL_CODES = ("4410", "4420", "6100", "7400")
ITEMS = 2_000


def generate(suppliers: int, orders: int, lines: int, contracts: int) -> MasterDataBundle:
    """The same bundle for the same sizes: one seeded Random, no clock."""
    rng = random.Random(7)
    facilities = [
        FacilityEntry(
            Facility(
                FacilityId(numbered(EntityKind.FACILITY, 101 + n)),
                f"Acquired {n}",
                "West",
                "America/Denver",
            ),
            ExternalSystem.CLOUD_ERP if n % 2 else ExternalSystem.LEGACY_ERP,
            MigrationMode.CLOUD if n % 2 else MigrationMode.LEGACY,
        )
        for n in range(FACILITIES)
    ]
    centers = [
        CostCenter(
            cost_center_for(f.facility.id, code),
            f.facility.id,
            code,
            f"GL {code}",
            True,
            ("approver",),
        )
        for f in facilities
        for code in GL_CODES
    ]
    vendors = []
    for n in range(1, suppliers + 1):
        supplier = Supplier(
            id=SupplierId(numbered(EntityKind.SUPPLIER, 500_000 + n)),
            legal_name=f"Supplier {n} Inc.",
            tax_id=f"{rng.randint(10, 99)}-{rng.randint(1_000_000, 9_999_999)}",
            status=SupplierStatus.ACTIVE,
            payment_terms=rng.choice(list(PaymentTerms)),
            tax_treatment=TaxTreatment.STANDARD,
            tax_rate=Decimal("0.0825"),
            remit_to=BankAccount(
                "First Bank", f"{rng.randint(10**8, 10**9 - 1)}", f"{rng.randint(10**9, 10**10)}"
            ),
            contacts=(
                Contact(f"Contact {n}", f"ar{n}@supplier.example", None, "accounts receivable"),
            ),
        )
        vendors.append(
            SupplierEntry(supplier, (VendorLink(ExternalSystem.LEGACY_ERP, f"A{n:06d}"),))
        )
    entries, receipts = [], []
    start = date(2026, 1, 1)
    for n in range(1, orders + 1):
        center = rng.choice(centers)
        order = PurchaseOrder(
            id=PurchaseOrderId(numbered(EntityKind.PURCHASE_ORDER, 500_000 + n, year=2026)),
            supplier_id=rng.choice(vendors).supplier.id,
            facility_id=center.facility_id,
            cost_center_id=center.id,
            status=PurchaseOrderStatus.OPEN,
            currency="USD",
            ordered_on=start + timedelta(days=rng.randint(0, 300)),
        )
        order_lines = tuple(
            PurchaseOrderLine(
                line_no=line_no,
                item_id=f"ITM-{rng.randint(1, ITEMS):05d}",
                description=f"Item line {line_no}",
                category=rng.choice(list(Category)),
                quantity=Decimal(rng.randint(1, 200)),
                unit_of_measure="EA",
                unit_price=Decimal(rng.randint(100, 500_000)).scaleb(-2),
            )
            for line_no in range(1, lines + 1)
        )
        entries.append(PurchaseOrderEntry(order, order_lines))
        received = datetime.combine(order.ordered_on, datetime.min.time(), tzinfo=UTC) + timedelta(
            days=3
        )
        receipts += [
            GoodsReceipt(
                GoodsReceiptId(numbered(EntityKind.GOODS_RECEIPT, len(receipts) + index)),
                order.id,
                line.line_no,
                line.quantity,
                received,
            )
            for index, line in enumerate(order_lines, 1)
        ]
    prices = [
        ContractPrice(
            id=ContractPriceId(numbered(EntityKind.CONTRACT_PRICE, n)),
            supplier_id=rng.choice(vendors).supplier.id,
            item_id=f"ITM-{rng.randint(1, ITEMS):05d}",
            unit_price=Decimal(rng.randint(100, 500_000)).scaleb(-2),
            currency="USD",
            valid_from=date(2026, 1, 1),
            valid_to=date(2026, 12, 31),
        )
        for n in range(1, contracts + 1)
    ]
    return MasterDataBundle(
        facilities=tuple(facilities),
        cost_centers=tuple(centers),
        suppliers=tuple(vendors),
        purchase_orders=tuple(entries),
        goods_receipts=tuple(receipts),
        contract_prices=tuple(prices),
    )


async def recreate(server: str, name: str, *, drop_only: bool = False) -> None:
    admin = create_engine(server).execution_options(isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()


def rate(rows: int, seconds: float) -> str:
    return f"{seconds:8.2f} s  {rows / seconds:>10,.0f} rows/s"


async def main(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    bundle = generate(args.suppliers, args.orders, args.lines, args.contracts)
    rows = sum(bundle.counts().values())
    path = Path(tempfile.mkdtemp(prefix="apgraph-bench-")) / "bundle.json"
    write_bundle_path(bundle, path, format="json")
    made = time.perf_counter() - started
    print(f"bundle: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, made in {made:.1f} s")
    for entity, count in bundle.counts().items():
        print(f"  {entity:22} {count:>8,}")

    await recreate(args.server, DATABASE)
    url = make_url(args.server).set(database=DATABASE).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        store = SqlMasterData(engine, await keyring_for(engine))

        t = time.perf_counter()
        parsed, problems = read_bundle_path(path)
        read_seconds = time.perf_counter() - t
        assert not problems, problems[:5]
        assert parsed is not None

        t = time.perf_counter()
        referenced = check_references(parsed, await store.stored_ids(parsed))
        check_seconds = time.perf_counter() - t
        assert not referenced, referenced[:5]

        t = time.perf_counter()
        counts = await store.upsert(parsed, actor="bench", at=SystemClock().now())
        upsert_seconds = time.perf_counter() - t
        assert counts.created == parsed.counts(), counts

        print("\nfirst import (empty database):")
        print(f"  read + validate     {rate(rows, read_seconds)}")
        print(f"  check references    {rate(rows, check_seconds)}")
        print(f"  upsert (1 tx)       {rate(rows, upsert_seconds)}")
        print(f"  total               {rate(rows, read_seconds + check_seconds + upsert_seconds)}")

        t = time.perf_counter()
        again, _ = read_bundle_path(path)
        reread_seconds = time.perf_counter() - t
        t = time.perf_counter()
        report = await import_bundle(again, store=store, actor="bench", clock=SystemClock())
        second = time.perf_counter() - t
        assert report.applied, report.problems[:5]
        assert not any(report.created.values()), report.created
        assert not any(report.updated.values()), report.updated
        print("\nsecond import of the same file (every row unchanged, nothing written):")
        print(f"  read + validate     {rate(rows, reread_seconds)}")
        print(f"  check + compare     {rate(rows, second)}")
        print(f"  total               {rate(rows, reread_seconds + second)}")
    finally:
        await engine.dispose()
        if not args.keep:
            await recreate(args.server, DATABASE, drop_only=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suppliers", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=5, help="lines per PO (one receipt each)")
    parser.add_argument("--contracts", type=int, default=20_000)
    parser.add_argument("--server", default=SERVER, help="a database URL on the server to use")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    asyncio.run(main(parser.parse_args()))
