"""Benchmark: what sealing classified supplier columns costs on the read path and on import.

Writes N suppliers (each with a tax id and a bank account) through the master-data upsert
(what `apgraph import` and `importMasterData` run), then reads them all back page by page
through the supplier repository (what `suppliers { … }` runs), twice: with every classified
column sealed (gateway.yaml as shipped) and with none (as before sealing existed). Prints
rows/s for each and the ratio. SQLite by default; --postgres uses the local server.

    .venv/bin/python -m bench.sealing_cost
    .venv/bin/python -m bench.sealing_cost --suppliers 20000 --postgres
"""

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from apgraph.domain.bundle import MasterDataBundle, SupplierEntry
from apgraph.domain.ids import SupplierId
from apgraph.domain.principal import RowScope
from apgraph.domain.suppliers import (
    BankAccount,
    Contact,
    PaymentTerms,
    Supplier,
    SupplierStatus,
    TaxTreatment,
)
from apgraph.services.ports.reads import PageRequest, SupplierFilter
from apgraph.store.keyring import Keyring
from apgraph.store.master_data_io import SqlMasterData
from apgraph.store.sealing import SEALED_COLUMNS_KNOWN
from apgraph.store.suppliers import SupplierRepository
from bench.scratch_database import migrated
from tests.keys import kek_for_tests

AT = datetime(2026, 11, 20, tzinfo=UTC)
POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def suppliers(count: int) -> MasterDataBundle:
    return MasterDataBundle(
        suppliers=tuple(
            SupplierEntry(
                Supplier(
                    id=SupplierId(f"SUP-{n:06d}"),
                    legal_name=f"Bench Supplier {n}",
                    tax_id=f"{10 + n % 89}-{n:07d}",
                    status=SupplierStatus.ACTIVE,
                    payment_terms=PaymentTerms.NET30,
                    tax_treatment=TaxTreatment.STANDARD,
                    tax_rate=Decimal("0.0825"),
                    remit_to=BankAccount("Bench Bank", f"0{n:08d}", f"{n:012d}"),
                    contacts=(Contact("AR Desk", f"ar{n}@example.com", None, "remittance"),),
                ),
                (),
            )
            for n in range(1, count + 1)
        )
    )


async def one(
    url: str, schema: str | None, bundle: MasterDataBundle, columns
) -> tuple[float, float]:
    async with migrated(url, schema) as engine:
        keyring = Keyring(engine, kek_for_tests(), columns=columns)
        await keyring.create_if_missing(now=AT)
        store = SqlMasterData(engine, keyring)
        started = time.perf_counter()
        await store.upsert(bundle, actor="bench", at=AT)
        imported = time.perf_counter() - started

        repository = SupplierRepository(engine, RowScope(), keyring)
        read = 0
        started = time.perf_counter()
        for _ in range(3):
            after = None
            while True:
                page = await repository.page(SupplierFilter(), PageRequest(first=100, after=after))
                read += len(page.items)
                if not page.has_next_page:
                    break
                after = page.items[-1].id
        reading = time.perf_counter() - started
        assert read == 3 * len(bundle.suppliers)
        return len(bundle.suppliers) / imported, read / reading


async def main(count: int, postgres: bool) -> None:
    bundle = suppliers(count)
    print(f"{count} suppliers on {'PostgreSQL' if postgres else 'SQLite'}")
    results = {}
    for name, columns in (("plain", frozenset()), ("sealed", frozenset(SEALED_COLUMNS_KNOWN))):
        if postgres:
            url, schema = POSTGRES, f"bench_seal_{uuid.uuid4().hex[:8]}"
        else:
            url = f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}"
            schema = None
        results[name] = await one(url, schema, bundle, columns)
        imported, read = results[name]
        print(f"{name:7} import {imported:9.0f} rows/s   read {read:9.0f} rows/s")
    (pi, pr), (si, sr) = results["plain"], results["sealed"]
    print(f"sealed/plain: import {si / pi:.2f}x, read {sr / pr:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--suppliers", type=int, default=5000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    asyncio.run(main(args.suppliers, args.postgres))
