"""Routing and migration modes from gateway.yaml, on SQLite and PostgreSQL.

A facility moving legacy → shadow → cloud changes nothing for the caller of the facade; in
shadow mode every disagreement of the cloud ERP lands in `migration_differences`.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from apgraph.connectors.routing import ErpRouter
from apgraph.domain.codes import ConnectorCode
from apgraph.domain.erp import COMPARED_FIELDS, ErpDocumentRef
from apgraph.domain.ids import FacilityId
from apgraph.domain.principal import RowScope
from apgraph.domain.systems import ExternalSystem
from apgraph.policies.loader import load_gateway_config
from apgraph.services.ports.connectors import ConnectorRejected
from apgraph.services.supplier_sync import sync_vendor_links
from apgraph.simulators.faults import Fault, FaultKind
from apgraph.store.connector_state import SqlCrossReferences, SqlMigrationDifferences
from apgraph.store.suppliers import SupplierRepository
from tests.connectors.support import CLOCK, Stack, build_stack, fresh_invoice, new_key
from tests.keys import keyring_for

ROOT = Path(__file__).resolve().parents[2]
FACILITY = FacilityId("FAC-0002")


@dataclass
class Routed:
    stack: Stack
    differences: SqlMigrationDifferences

    def router(self, mode: str, tmp_path: Path) -> ErpRouter:
        """The facade as gateway.yaml with FAC-0002 in `mode` builds it."""
        text = (ROOT / "tests" / "gateway.yaml").read_text(encoding="utf-8")
        erp = "cloud" if mode == "cloud" else "legacy"
        text = text.replace(
            "FAC-0002: {erp: legacy, migration: legacy}",
            f"FAC-0002: {{erp: {erp}, migration: {mode}}}",
        )
        path = tmp_path / f"gateway-{mode}.yaml"
        path.write_text(text, encoding="utf-8")
        config = load_gateway_config(path)
        return ErpRouter(
            routes={FacilityId(f): routing.route for f, routing in config.facilities.items()},
            erps={
                ExternalSystem.LEGACY_ERP: self.stack.legacy,
                ExternalSystem.CLOUD_ERP: self.stack.cloud,
            },
            differences=self.differences,
            clock=CLOCK,
        )


@pytest.fixture
async def routed(served, seeded_database) -> AsyncIterator[Routed]:
    engine = seeded_database.engine()
    stack = build_stack(served, engine)
    for master in (stack.legacy, stack.cloud):
        await sync_vendor_links(
            master=master,
            suppliers=SupplierRepository(engine, RowScope(), await keyring_for(engine)),
            xrefs=SqlCrossReferences(engine),
            clock=CLOCK,
        )
    yield Routed(stack, SqlMigrationDifferences(engine))
    await stack.aclose()
    await engine.dispose()


def canonical(document: ErpDocumentRef) -> tuple[object, ...]:
    """What a caller gets, less the references that differ per invoice by nature."""
    own = ("invoice_id", "supplier_invoice_number")
    return tuple(getattr(document, name) for name in COMPARED_FIELDS if name not in own)


async def test_moving_a_facility_through_the_modes_changes_nothing_for_the_caller(
    routed, network, served, tmp_path
):
    # given the same invoice content, posted once in each mode FAC-0002 passes through
    results = {}
    for mode in ("legacy", "shadow", "cloud"):
        invoice = fresh_invoice(network, facility=FACILITY)

        # when the facade posts it
        results[mode] = await routed.router(mode, tmp_path).post_invoice(
            invoice, idempotency_key=new_key()
        )
        assert (results[mode].invoice_id, results[mode].supplier_invoice_number) == (
            invoice.id,
            invoice.supplier_invoice_number,
        )

    # then the caller gets the same canonical answer from each, whichever ERP booked it
    assert (
        canonical(results["legacy"]) == canonical(results["shadow"]) == canonical(results["cloud"])
    )
    assert [results[m].system for m in ("legacy", "shadow", "cloud")] == [
        ExternalSystem.LEGACY_ERP,
        ExternalSystem.LEGACY_ERP,  # shadow: legacy stays the system of record
        ExternalSystem.CLOUD_ERP,
    ]


async def test_shadow_mode_replays_to_the_cloud_and_records_no_difference_when_they_agree(
    routed, network, served, tmp_path
):
    invoice = fresh_invoice(network, facility=FACILITY)

    await routed.router("shadow", tmp_path).post_invoice(invoice, idempotency_key=new_key())

    assert len(served.simulators.cloud_erp.book.postings_of(invoice.id)) == 1
    assert len(served.simulators.legacy_erp.book.postings_of(invoice.id)) == 1
    assert [d for d in await _differences(routed) if d.invoice_id == invoice.id] == []


async def test_shadow_mode_records_what_the_cloud_erp_booked_otherwise(
    routed, network, served, tmp_path
):
    # given the cloud ERP holds other payment terms for the supplier than the legacy ERP
    invoice = fresh_invoice(network, facility=FACILITY)
    book = served.simulators.cloud_erp.book
    vendor = next(v for v in book.vendors.values() if v.supplier_id == invoice.supplier_id)
    terms = vendor.term_days
    book.set_terms(invoice.supplier_id, terms + 15)
    try:
        # when the invoice is posted in shadow mode
        document = await routed.router("shadow", tmp_path).post_invoice(
            invoice, idempotency_key=new_key()
        )
    finally:
        book.set_terms(invoice.supplier_id, terms)

    # then the caller got the legacy document, and the due date difference is on record
    assert document.system is ExternalSystem.LEGACY_ERP
    found = [d for d in await _differences(routed) if d.invoice_id == invoice.id]
    assert [(d.difference.field, d.difference.legacy) for d in found] == [
        ("due_date", document.due_date.isoformat())
    ]
    assert found[0].difference.cloud != found[0].difference.legacy


async def test_a_failing_shadow_never_fails_the_caller_and_is_recorded(
    routed, network, served, tmp_path
):
    # given the cloud ERP refuses every posting
    served.simulators.cloud_erp.plan.add(
        Fault(FaultKind.ERROR, operation="POST /api/v2/invoices", status=400, times=None)
    )
    invoice = fresh_invoice(network, facility=FACILITY)

    # when the invoice is posted in shadow mode
    document = await routed.router("shadow", tmp_path).post_invoice(
        invoice, idempotency_key=new_key()
    )

    # then the legacy posting stands, and the failed replay is a difference with its code
    assert document.system is ExternalSystem.LEGACY_ERP
    found = [d.difference for d in await _differences(routed) if d.invoice_id == invoice.id]
    assert [(d.field, d.legacy, d.cloud) for d in found] == [
        ("posting", document.reference, ConnectorCode.ERP_REJECTED.value)
    ]


async def test_a_facility_without_a_route_is_refused_with_its_code(routed, network, tmp_path):
    router = routed.router("legacy", tmp_path)
    invoice = fresh_invoice(network, facility="FAC-0099")

    with pytest.raises(ConnectorRejected) as refused:
        await router.post_invoice(invoice, idempotency_key=new_key())

    assert refused.value.code is ConnectorCode.ERP_ROUTE_UNKNOWN


async def _differences(routed: Routed):
    return await routed.differences.of_facility(FACILITY, limit=100)
