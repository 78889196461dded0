"""A facility moving from the legacy to the cloud ERP: clients never notice (DESIGN §6).

The same clean invoice is submitted through the API while one facility is on `legacy`, then
`shadow`, then `cloud`; its mode is changed between the submissions by importing the facility
again (the stored route; no restart, no gateway.yaml edit). Every answer has the same shape and
the same canonical values; only the ERP's own document reference tells where it was booked.
"""

import itertools
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from apgraph.domain.bundle import FacilityEntry, MasterDataBundle, PurchaseOrderEntry
from apgraph.domain.erp import MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import FacilityId, GoodsReceiptId, PurchaseOrderId, cost_center_for
from apgraph.domain.principal import Role
from apgraph.domain.purchasing import (
    Category,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.suppliers import SupplierStatus
from apgraph.domain.systems import ExternalSystem
from apgraph.services.onboarding import import_bundle
from apgraph.store.master_data_io import SqlMasterData
from tests.workflow import Order, as_input

SUBMIT = """
mutation($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) {
    invoice {
      status supplier { id } facility { id } dueDate erpDocumentRef
      subtotal { amount currency } tax { amount } total { amount }
    }
    userErrors { code }
  }
}
"""
STEPS = (
    (ExternalSystem.LEGACY_ERP, MigrationMode.LEGACY),
    (ExternalSystem.LEGACY_ERP, MigrationMode.SHADOW),
    (ExternalSystem.CLOUD_ERP, MigrationMode.CLOUD),
)
_numbers = itertools.count(1)


def moving_hospital(
    network, erp: ExternalSystem, mode: MigrationMode, n: int, step: int
) -> tuple[MasterDataBundle, Order]:
    """The hospital at one step of its move, with a fresh, fully received PO for that step."""
    supplier = next(s for s in network.suppliers if s.status is SupplierStatus.ACTIVE)
    facility_id = FacilityId(f"FAC-06{n:02d}")
    center = CostCenter(
        cost_center_for(facility_id, "4410"), facility_id, "4410", "Med-Surg", True, ("lee.mig",)
    )
    order = PurchaseOrder(
        PurchaseOrderId(f"PO-2026-6{n:03d}{step:02d}"),
        supplier.id,
        facility_id,
        center.id,
        PurchaseOrderStatus.OPEN,
        "USD",
        date(2026, 11, 2),
    )
    line = PurchaseOrderLine(
        1, f"ITM-MIG-{n}", "Gauze", Category.MEDICAL_SUPPLIES, Decimal(20), "BX", Decimal("8.40")
    )
    receipt = GoodsReceipt(
        GoodsReceiptId(f"GR-06{n:04d}{step:02d}"),
        order.id,
        1,
        Decimal(20),
        datetime(2026, 11, 9, 10, 0, tzinfo=UTC),
    )
    bundle = MasterDataBundle(
        facilities=(
            FacilityEntry(
                Facility(facility_id, "Moving Hospital", "South", "America/Chicago"), erp, mode
            ),
        ),
        cost_centers=(center,),
        purchase_orders=(PurchaseOrderEntry(order, (line,)),),
        goods_receipts=(receipt,),
    )
    return bundle, Order(order, (line,), {1: Decimal(20)}, supplier, center, {})


async def test_clients_get_the_same_answers_while_a_facility_moves_to_the_cloud(
    workflow_api, network
):
    runtime = workflow_api.runtime
    n = next(_numbers) + (0 if workflow_api.backend == "sqlite" else 50)
    answers, booked = [], []
    for step, (erp, mode) in enumerate(STEPS):
        # given the facility at this step of its move, imported like any master-data change
        bundle, order = moving_hospital(network, erp, mode, n, step)
        report = await import_bundle(
            bundle,
            store=SqlMasterData(runtime.engine, runtime.keyring),
            sinks=runtime.connectors.master_data_sinks,
            actor="migration-test",
            clock=runtime.clock,
        )
        assert report.applied, [p.line() for p in report.problems]

        # when its supplier submits a clean invoice
        submitted = order.invoice({1: Decimal(20 - step)})  # another total each time
        body = await workflow_api.data(
            SUBMIT,
            {"input": as_input(submitted), "key": f"key-{uuid.uuid4()}"},
            token=workflow_api.token(Role.SUPPLIER, supplier_id=order.supplier.id),
            product="supplier-portal/v1",
        )
        payload = body["submitInvoice"]
        assert payload["userErrors"] == []
        answers.append(payload["invoice"])
        booked.append(submitted)

    # then every answer is POSTED with the same canonical facts a client computes with
    for answer, submitted in zip(answers, booked, strict=True):
        reference = answer.pop("erpDocumentRef")
        assert answer["status"] == "POSTED"
        assert answer["total"] == {"amount": str(submitted.total)}
        assert answer["dueDate"] == answers[0]["dueDate"]
        assert reference.split("-")[0] in ("LEG", "CLD")
    # and only the document reference tells the system of record: legacy until the move is done
    stored = await workflow_api.data(
        "query($f: ID!) { invoices(filter: {facilityId: $f}, first: 10) "
        "{ edges { node { erpDocumentRef } } } }",
        {"f": answers[0]["facility"]["id"]},
    )
    prefixes = sorted(
        edge["node"]["erpDocumentRef"].split("-")[0] for edge in stored["invoices"]["edges"]
    )
    assert prefixes == ["CLD", "LEG", "LEG"]
    # the shadow step booked a copy in the cloud ERP too
    cloud = runtime.connectors.simulators.cloud_erp.book
    copies = [
        d
        for d in cloud.documents.values()
        if d.vendor_invoice_no == booked[1].supplier_invoice_number
    ]
    assert len(copies) == 1
