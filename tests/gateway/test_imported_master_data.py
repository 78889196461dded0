"""A hospital imported with `apgraph import` is served without editing gateway.yaml: it routes
to the ERP stored with it, and in simulated mode the connectors see its receipts and prices,
whether it was imported before the server started or while it runs."""

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.bundle import FacilityEntry, MasterDataBundle, PurchaseOrderEntry
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    ContractPriceId,
    CostCenterId,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
)
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt, PurchaseOrder
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.runtime import Runtime
from apgraph.policies.loader import load_gateway_config
from apgraph.services.onboarding import import_bundle
from apgraph.store import migrate
from apgraph.store.master_data_io import SqlMasterData
from tests.conftest import settings_for
from tests.databases import Database, drop_database, make_database
from tests.keys import keyring_for

NEW = FacilityId("FAC-0101")
ORDER = PurchaseOrderId("PO-2026-900001")


class FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def acquired(network: generator.DemoNetwork) -> MasterDataBundle:
    """A new hospital on the cloud ERP, with a PO of a known supplier, its receipt and a
    contract price; FAC-0002 (which gateway.yaml lists) claims the cloud ERP too."""
    supplier = network.suppliers[0]
    line = network.purchase_order_lines[0][1]
    center = CostCenter(CostCenterId("CC-0101-4410"), NEW, "4410", "Med-Surg", True, ("dana",))
    order = PurchaseOrder(
        ORDER,
        supplier.id,
        NEW,
        center.id,
        network.purchase_orders[0].status,
        "USD",
        date(2026, 10, 1),
    )
    fac_0002 = next(f for f in network.facilities if f.id == "FAC-0002")
    return MasterDataBundle(
        facilities=(
            FacilityEntry(fac_0002, ExternalSystem.CLOUD_ERP, MigrationMode.CLOUD),
            FacilityEntry(
                Facility(NEW, "St. Acquired Hospital", "Midwest", "America/Chicago"),
                ExternalSystem.CLOUD_ERP,
                MigrationMode.CLOUD,
            ),
        ),
        cost_centers=(center,),
        purchase_orders=(PurchaseOrderEntry(order, (replace(line, line_no=1),)),),
        goods_receipts=(
            GoodsReceipt(
                GoodsReceiptId("GR-09900001"),
                ORDER,
                1,
                Decimal("2"),
                datetime(2026, 10, 5, 15, 0, tzinfo=UTC),
            ),
        ),
        contract_prices=(
            ContractPrice(
                ContractPriceId("CT-990001"),
                supplier.id,
                "ITM-ACQ-1",
                Decimal("7.2500"),
                "USD",
                date(2026, 1, 1),
                date(2026, 12, 31),
            ),
        ),
    )


@pytest.fixture
async def database(tmp_path: Path, network: generator.DemoNetwork) -> AsyncIterator[Database]:
    database = await make_database("sqlite", tmp_path)
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    await engine.dispose()
    yield database
    await drop_database(database)


@pytest.fixture
async def runtime(database: Database, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = settings_for(database, tmp_path / "data")
    runtime = Runtime.open(settings, load_gateway_config(settings.gateway_config))
    yield runtime
    await runtime.close()


async def _import(engine, bundle, **options):
    report = await import_bundle(
        bundle,
        store=SqlMasterData(engine, await keyring_for(engine)),
        actor="test",
        clock=FixedClock(),
        **options,
    )
    assert report.applied, [p.line() for p in report.problems]


async def _assert_served(runtime: Runtime, network: generator.DemoNetwork) -> None:
    connectors = runtime.connectors
    assert connectors.erp.routes[NEW] == ErpRoute(MigrationMode.CLOUD)
    # gateway.yaml's entry overrides the stored route
    assert connectors.erp.routes[FacilityId("FAC-0002")] == ErpRoute(MigrationMode.LEGACY)
    receipts = await connectors.goods_receipts.receipts_for(ORDER)
    assert [(r.id, r.quantity) for r in receipts] == [(GoodsReceiptId("GR-09900001"), Decimal(2))]
    price = await connectors.contract_prices.price_for(
        supplier_id=network.suppliers[0].id, item_id="ITM-ACQ-1", on=date(2026, 6, 1)
    )
    assert price is not None
    assert price.unit_price == Decimal("7.25")


async def test_a_hospital_imported_before_start_is_routed_and_simulated(database, runtime, network):
    # given a hospital imported while no server ran
    await _import(runtime.engine, acquired(network))

    # when the server loads what is stored, as its start-up does
    await runtime.connectors.load_stored_master_data(runtime.engine, runtime.keyring)

    # then it routes to its stored ERP, and the simulated systems know its facts
    await _assert_served(runtime, network)


async def test_a_hospital_imported_while_the_server_runs_is_served_at_once(runtime, network):
    # given a running server that loaded what was stored at its start
    await runtime.connectors.load_stored_master_data(runtime.engine, runtime.keyring)
    assert NEW not in runtime.connectors.erp.routes

    # when the hospital is imported with the server's sinks
    sinks = runtime.connectors.master_data_sinks
    await _import(runtime.engine, acquired(network), sinks=sinks)

    # then it is served without a restart
    await _assert_served(runtime, network)
