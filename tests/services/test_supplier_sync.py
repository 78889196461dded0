"""The vendor ⇄ supplier cross-reference sync, against the ERP simulators over loopback."""

from collections.abc import AsyncIterator

import pytest

from apgraph.demo import writer as demo_writer
from apgraph.domain.ids import SupplierId
from apgraph.domain.principal import RowScope
from apgraph.domain.suppliers import SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.services.supplier_sync import sync_vendor_links
from apgraph.simulators.erp_book import Vendor
from apgraph.store import migrate
from apgraph.store.connector_state import SqlCrossReferences
from apgraph.store.suppliers import SupplierRepository
from tests.connectors.support import CLOCK, build_stack
from tests.databases import make_database
from tests.keys import keyring_for


@pytest.fixture
async def empty_links(network, tmp_path) -> AsyncIterator:
    """A database with the network and no links yet."""
    database = await make_database("sqlite", tmp_path)
    engine = database.engine()
    await migrate.upgrade(engine)
    await demo_writer.write(engine, network, keyring=await keyring_for(engine))
    yield engine
    await engine.dispose()


async def sync(served, engine, system: ExternalSystem):
    stack = build_stack(served, engine)
    try:
        master = stack.legacy if system is ExternalSystem.LEGACY_ERP else stack.cloud
        return await sync_vendor_links(
            master=master,
            suppliers=SupplierRepository(engine, RowScope(), await keyring_for(engine)),
            xrefs=SqlCrossReferences(engine),
            clock=CLOCK,
        )
    finally:
        await stack.aclose()


@pytest.mark.parametrize(
    ("system", "key_of_first"),
    [(ExternalSystem.LEGACY_ERP, "V10001"), (ExternalSystem.CLOUD_ERP, "300000001")],
)
async def test_each_vendor_links_to_the_supplier_with_its_tax_id(
    served, empty_links, network, system, key_of_first
):
    # when the vendors of an ERP are synced (the legacy ERP keeps tax IDs without dashes)
    report = await sync(served, empty_links, system)

    # then every supplier the ERP knows is linked, and SUP-000001 to that ERP's own key
    known = [s for s in network.suppliers if s.status is not SupplierStatus.ONBOARDING]
    assert report.linked == len(known)
    assert report.unmatched_vendors == report.ambiguous_tax_ids == ()
    xrefs = SqlCrossReferences(empty_links)
    assert await xrefs.vendor_key(system, SupplierId("SUP-000001")) == key_of_first


async def test_a_tax_id_two_vendors_share_links_neither(served, empty_links, network):
    # given the legacy ERP holds a second vendor with SUP-000001's tax id
    book = served.simulators.legacy_erp.book
    first = book.vendors["V10001"]
    book.vendors["V99999"] = Vendor("V99999", first.supplier_id, first.tax_id, "Copy", 30, False)
    try:
        report = await sync(served, empty_links, ExternalSystem.LEGACY_ERP)
    finally:
        del book.vendors["V99999"]

    # then SUP-000001 stays unlinked rather than linked to a guess
    assert report.ambiguous_tax_ids == (first.tax_id,)
    xrefs = SqlCrossReferences(empty_links)
    assert await xrefs.vendor_key(ExternalSystem.LEGACY_ERP, SupplierId("SUP-000001")) is None


async def test_a_vendor_no_supplier_matches_is_reported(served, empty_links):
    book = served.simulators.legacy_erp.book
    book.vendors["V88888"] = Vendor("V88888", SupplierId("SUP-999999"), "000", "Stray", 30, False)
    try:
        report = await sync(served, empty_links, ExternalSystem.LEGACY_ERP)
    finally:
        del book.vendors["V88888"]

    assert report.unmatched_vendors == ("V88888",)
