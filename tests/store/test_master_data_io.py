"""The master-data upsert and export on SQLite and PostgreSQL: by canonical ID, all in one
transaction, writing (and auditing) only what differs."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from apgraph.demo import generator
from apgraph.demo import writer as demo_writer
from apgraph.domain.audit import first_break
from apgraph.domain.bundle import MasterDataBundle, PurchaseOrderEntry, VendorLink
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.systems import ExternalSystem
from apgraph.store.audit import AuditRepository
from apgraph.store.master_data_io import (
    IMPORTED,
    UPDATED,
    SqlMasterData,
    read_bundle,
    stored_routes,
)
from apgraph.store.tables import ErpCrossReferenceRow, PurchaseOrderLineRow
from tests.bundles import bundle_of, with_supplier
from tests.keys import keyring_for

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
ACTOR = "cli:onboarding"


@pytest.fixture(scope="module")
def bundle(tiny_network: generator.DemoNetwork) -> MasterDataBundle:
    return bundle_of(tiny_network)


async def _entries(engine):
    return [entry async for entry in AuditRepository(engine).in_order()]


async def test_an_imported_bundle_reads_back_exactly(engine, bundle):
    # given an empty database
    store = SqlMasterData(engine, await keyring_for(engine))

    # when the bundle is imported
    counts = await store.upsert(bundle, actor=ACTOR, at=AT)

    # then every row is new, and the export equals the bundle
    assert counts.created == bundle.counts()
    assert set(counts.updated.values()) == {0}
    assert await read_bundle(engine, await keyring_for(engine)) == bundle


async def test_importing_the_same_bundle_again_writes_and_audits_nothing(engine, bundle):
    # given the bundle imported once
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(bundle, actor=ACTOR, at=AT)
    head = await AuditRepository(engine).head()

    # when it is imported again
    counts = await store.upsert(bundle, actor=ACTOR, at=AT)

    # then every row is unchanged and the audit trail did not grow
    assert counts.unchanged == bundle.counts()
    assert set(counts.created.values()) | set(counts.updated.values()) == {0}
    assert await AuditRepository(engine).head() == head


async def test_a_first_import_is_audited_once_with_its_counts(engine, bundle):
    await SqlMasterData(engine, await keyring_for(engine)).upsert(bundle, actor=ACTOR, at=AT)

    entries = await _entries(engine)
    assert [e.event.action for e in entries] == [IMPORTED]
    assert entries[0].event.subject == ACTOR
    assert '"created": {"contract_prices": ' in (entries[0].event.detail or "")


async def test_a_changed_supplier_is_updated_and_audited_by_field_names_only(engine, bundle):
    # given the bundle imported
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(bundle, actor=ACTOR, at=AT)
    first = next(e.supplier for e in bundle.suppliers if e.supplier.remit_to is not None)
    new_account = "99887766554433"
    assert first.remit_to is not None
    changed = replace(
        first,
        legal_name=first.legal_name + " (acquired)",
        remit_to=replace(first.remit_to, account_number=new_account),
    )

    # when the supplier arrives with a new name and bank account
    counts = await store.upsert(with_supplier(bundle, changed), actor=ACTOR, at=AT)

    # then that one supplier is updated, audited by field names, never by value
    assert counts.updated["suppliers"] == 1
    assert counts.unchanged["suppliers"] == len(bundle.suppliers) - 1
    stored = next(
        e.supplier
        for e in (await read_bundle(engine, await keyring_for(engine))).suppliers
        if e.supplier.id == first.id
    )
    assert stored == changed
    updates = [e.event for e in await _entries(engine) if e.event.action == UPDATED]
    assert [(u.entity_ids, u.detail) for u in updates] == [
        ((first.id,), "suppliers: legal_name, bank_account_number")
    ]
    assert all(new_account not in (e.event.detail or "") for e in await _entries(engine))
    assert first_break(await _entries(engine), head=await AuditRepository(engine).head()) is None


async def test_a_changed_po_line_is_updated_and_a_line_left_out_is_kept(engine, bundle):
    # given the bundle imported
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(bundle, actor=ACTOR, at=AT)
    entry = next(e for e in bundle.purchase_orders if len(e.lines) >= 2)
    first, *rest = entry.lines
    repriced = replace(first, unit_price=first.unit_price + 1)
    shorter = PurchaseOrderEntry(entry.order, (repriced,))
    changed = replace(
        bundle,
        purchase_orders=tuple(shorter if e is entry else e for e in bundle.purchase_orders),
    )

    # when the PO arrives with its first line repriced and the others left out
    counts = await store.upsert(changed, actor=ACTOR, at=AT)

    # then the first line is updated, and the others are still stored
    assert counts.updated["purchase_order_lines"] == 1
    stored = next(
        e
        for e in (await read_bundle(engine, await keyring_for(engine))).purchase_orders
        if e.order.id == entry.order.id
    )
    assert stored.lines == (repriced, *rest)
    async with engine.connect() as connection:
        lines = await connection.scalar(select(func.count()).select_from(PurchaseOrderLineRow))
    assert lines == bundle.counts()["purchase_order_lines"]
    details = [e.event.detail for e in await _entries(engine) if e.event.action == UPDATED]
    assert details == ["purchase_order_lines line 1: unit_price"]


async def test_vendor_links_are_stored_and_a_changed_one_relinks(engine, bundle):
    # given a supplier imported with its legacy ERP vendor key
    store = SqlMasterData(engine, await keyring_for(engine))
    entry = bundle.suppliers[0]
    linked = replace(
        bundle,
        suppliers=(
            replace(entry, vendor_links=(VendorLink(ExternalSystem.LEGACY_ERP, "V77001"),)),
            *bundle.suppliers[1:],
        ),
    )
    await store.upsert(linked, actor=ACTOR, at=AT)

    # when it arrives again under another vendor key
    relinked = replace(
        linked,
        suppliers=(
            replace(entry, vendor_links=(VendorLink(ExternalSystem.LEGACY_ERP, "V77002"),)),
            *bundle.suppliers[1:],
        ),
    )
    counts = await store.upsert(relinked, actor=ACTOR, at=AT)

    # then the link is replaced, the supplier counted as updated and audited
    assert counts.updated["suppliers"] == 1
    async with engine.connect() as connection:
        keys = (await connection.execute(select(ErpCrossReferenceRow.vendor_key))).scalars().all()
    assert keys == ["V77002"]
    exported = await read_bundle(engine, await keyring_for(engine))
    assert exported.suppliers[0].vendor_links == (VendorLink(ExternalSystem.LEGACY_ERP, "V77002"),)
    details = [e.event.detail for e in await _entries(engine) if e.event.action == UPDATED]
    assert details == ["suppliers: vendor_link.legacy"]


async def test_stored_ids_answer_only_for_what_the_bundle_names(engine, bundle):
    # given the bundle imported
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(bundle, actor=ACTOR, at=AT)
    order = bundle.purchase_orders[0]
    asked = MasterDataBundle(
        goods_receipts=tuple(
            r for r in bundle.goods_receipts if r.purchase_order_id == order.order.id
        )[:1],
        purchase_orders=(order,),
    )

    # when asked about one PO
    known = await store.stored_ids(asked)

    # then the answer names that PO's facility, cost center, supplier and lines, nothing more
    assert known.facilities == {order.order.facility_id}
    assert known.cost_centers == {order.order.cost_center_id}
    assert known.suppliers == {order.order.supplier_id}
    assert known.purchase_order_lines == {
        order.order.id: frozenset(line.line_no for line in order.lines)
    }


async def test_a_facility_export_holds_only_what_belongs_to_that_facility(engine):
    # given the demo network of three facilities
    network = generator.generate(
        generator.DemoSize(facilities=3, suppliers=10, purchase_orders=60, invoices=60)
    )
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))

    # when FAC-0002 alone is exported
    exported = await read_bundle(engine, await keyring_for(engine), facilities=["FAC-0002"])

    # then it holds that facility, its POs and what they need, and nothing of the others
    orders = [o for o in network.purchase_orders if o.facility_id == "FAC-0002"]
    suppliers = {o.supplier_id for o in orders}
    assert [e.facility.id for e in exported.facilities] == ["FAC-0002"]
    assert {e.order.id for e in exported.purchase_orders} == {o.id for o in orders}
    assert {c.facility_id for c in exported.cost_centers} == {"FAC-0002"}
    assert {e.supplier.id for e in exported.suppliers} == suppliers
    assert {c.supplier_id for c in exported.contract_prices} <= suppliers
    assert {r.purchase_order_id for r in exported.goods_receipts} <= {o.id for o in orders}


async def test_the_seed_stores_each_facility_route(engine, tiny_network):
    await demo_writer.write(
        engine,
        generator.generate(
            generator.DemoSize(facilities=6, suppliers=10, purchase_orders=40, invoices=60)
        ),
        keyring=await keyring_for(engine),
    )

    routes = await stored_routes(engine)

    assert routes["FAC-0001"] == ErpRoute(MigrationMode.LEGACY)
    assert routes["FAC-0003"] == ErpRoute(MigrationMode.SHADOW)
    assert routes["FAC-0004"] == ErpRoute(MigrationMode.CLOUD)
    assert routes["FAC-0005"] == ErpRoute(MigrationMode.CLOUD)
    assert set(routes) == {f"FAC-000{n}" for n in range(1, 7)}


async def test_a_removed_bank_account_is_an_update_naming_the_bank_fields(engine, bundle):
    # given the bundle imported
    store = SqlMasterData(engine, await keyring_for(engine))
    await store.upsert(bundle, actor=ACTOR, at=AT)
    first = next(e.supplier for e in bundle.suppliers if e.supplier.remit_to is not None)

    # when a supplier arrives without its bank account
    unbanked = with_supplier(bundle, replace(first, remit_to=None))
    counts = await store.upsert(unbanked, actor=ACTOR, at=AT)

    # then it is updated and the audit names the fields that changed
    assert counts.updated["suppliers"] == 1
    details = [e.event.detail for e in await _entries(engine) if e.event.action == UPDATED]
    assert details == ["suppliers: bank_name, bank_routing_number, bank_account_number"]
