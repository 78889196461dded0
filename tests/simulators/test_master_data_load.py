"""Imported master data reaches the simulated systems, so connectors see what the database
holds: materials management answers the imported receipts, sourcing the contract prices, and
both ERPs know the suppliers as vendors."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from apgraph.demo import generator
from apgraph.domain.bundle import MasterDataBundle, SupplierEntry, VendorLink
from apgraph.domain.ids import ContractPriceId, GoodsReceiptId, SupplierId
from apgraph.domain.purchasing import ContractPrice, GoodsReceipt
from apgraph.domain.suppliers import SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.simulators import suite
from apgraph.simulators.cloud_erp import supplier_number
from apgraph.simulators.legacy_erp import vendor_key

NETWORK = generator.generate(
    generator.DemoSize(facilities=1, suppliers=10, purchase_orders=40, invoices=60)
)
ORDER = NETWORK.purchase_orders[0]
SUPPLIER = NETWORK.suppliers[0]


@pytest.fixture
def simulators() -> suite.Simulators:
    return suite.create(NETWORK, cloud_client_id="apgraph", cloud_client_secret="secret")


async def _get(simulators: suite.Simulators, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=simulators.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://simulators") as client:
        return await client.get(path)


async def test_materials_answers_an_imported_receipt_beside_the_ones_it_had(simulators):
    # given a new receipt on a PO the simulator knows
    before = await _get(simulators, f"/materials/api/purchase-orders/{ORDER.id}/receipts")
    receipt = GoodsReceipt(
        GoodsReceiptId("GR-09000001"),
        ORDER.id,
        1,
        Decimal("3.5"),
        datetime(2026, 11, 2, 14, 0, tzinfo=UTC),
    )

    # when it is loaded, twice
    await simulators.load(MasterDataBundle(goods_receipts=(receipt,)))
    await simulators.load(MasterDataBundle(goods_receipts=(receipt,)))

    # then the PO's receipts are the earlier ones plus this one, once
    after = await _get(simulators, f"/materials/api/purchase-orders/{ORDER.id}/receipts")
    numbers = [r["receiptNumber"] for r in after.json()["receipts"]]
    assert numbers == [r["receiptNumber"] for r in before.json()["receipts"]] + ["09000001"]
    assert after.json()["receipts"][-1]["quantityReceived"] == "3.5"


async def test_an_imported_receipt_replaces_the_one_of_the_same_number(simulators):
    known = NETWORK.goods_receipts[0]

    await simulators.load(MasterDataBundle(goods_receipts=(replace(known, quantity=Decimal(99)),)))

    path = f"/materials/api/purchase-orders/{known.purchase_order_id}/receipts"
    receipts = (await _get(simulators, path)).json()["receipts"]
    same = [r for r in receipts if r["receiptNumber"] == known.id.removeprefix("GR-")]
    assert [r["quantityReceived"] for r in same] == ["99"]


async def test_sourcing_answers_an_imported_contract_price(simulators):
    contract = ContractPrice(
        ContractPriceId("CT-900001"),
        SupplierId("SUP-000777"),
        "ITM-77777",
        Decimal("12.3400"),
        "USD",
        date(2026, 1, 1),
        date(2026, 12, 31),
    )

    await simulators.load(MasterDataBundle(contract_prices=(contract,)))

    body = (
        await _get(
            simulators, "/sourcing/v1/agreement-lines?supplierRef=SUP-000777&itemRef=ITM-77777"
        )
    ).json()
    assert [(line["agreementLine"], line["price"]["value"]) for line in body["data"]] == [
        (900001, "12.3400")
    ]


async def test_imported_suppliers_become_vendors_under_their_links_or_the_erps_own_keys(
    simulators,
):
    # given two new suppliers, one linked to a legacy vendor key, one still onboarding
    active = replace(SUPPLIER, id=SupplierId("SUP-000801"), status=SupplierStatus.ACTIVE)
    onboarding = replace(SUPPLIER, id=SupplierId("SUP-000802"), status=SupplierStatus.ONBOARDING)
    bundle = MasterDataBundle(
        suppliers=(
            SupplierEntry(active, (VendorLink(ExternalSystem.LEGACY_ERP, "V-ACQ-1"),)),
            SupplierEntry(onboarding, ()),
        )
    )

    # when they are loaded
    await simulators.load(bundle)

    # then the active one is a vendor of both ERPs, the one onboarding of neither
    legacy, cloud = simulators.legacy_erp.book.vendors, simulators.cloud_erp.book.vendors
    assert legacy["V-ACQ-1"].supplier_id == active.id
    assert cloud[supplier_number(active)].supplier_id == active.id
    assert vendor_key(onboarding) not in legacy
    assert supplier_number(onboarding) not in cloud
