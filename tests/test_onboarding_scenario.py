"""Onboarding end to end: a hospital's master data is imported, and invoices submitted through
the API against exactly those facts get the outcomes DESIGN §4's rules give.

The bundle is written by hand, so every expected outcome can be worked out from it: one
facility on the legacy ERP, one cost center with two approvers, one supplier taxed at 8 %
with its legacy vendor key, a MEDICAL_SUPPLIES PO and a PHARMACY PO, receipts, contract
prices. It is imported once per database (SQLite and PostgreSQL) through `import_bundle` with
the running server's store and sinks, so the database, the ERP routes and the simulated
materials, sourcing and ERP systems all know it. Each test bills PO lines no
other test bills (quantities are cumulative per PO line), and every invoice total differs
(same supplier, currency and total within a week would be a DUPLICATE_INVOICE).

gateway.yaml's MEDICAL_SUPPLIES tolerances: quantity min(2 % of received, 10), price
min(2 % of the PO or contract price, 25.00) per unit; PHARMACY: none.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from apgraph.domain.bundle import (
    FacilityEntry,
    MasterDataBundle,
    PurchaseOrderEntry,
    SupplierEntry,
    VendorLink,
)
from apgraph.domain.erp import ErpRoute, MigrationMode
from apgraph.domain.facilities import CostCenter, Facility
from apgraph.domain.ids import (
    ContractPriceId,
    CostCenterId,
    FacilityId,
    GoodsReceiptId,
    PurchaseOrderId,
    SupplierId,
)
from apgraph.domain.money import round_half_up
from apgraph.domain.principal import Role
from apgraph.domain.purchasing import (
    Category,
    ContractPrice,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
)
from apgraph.domain.suppliers import PaymentTerms, Supplier, SupplierStatus, TaxTreatment
from apgraph.domain.systems import ExternalSystem
from apgraph.gateway.app import create_app
from apgraph.gateway.runtime import Runtime
from apgraph.gateway.startup import load_config
from apgraph.services.onboarding import import_bundle
from apgraph.store.master_data_io import SqlMasterData
from tests.conftest import Api
from tests.resolvers.test_approve_invoice import approver_token
from tests.workflow import erp_postings

FACILITY = FacilityId("FAC-0901")
CENTER = CostCenterId("CC-0901-4410")
SUPPLIER = SupplierId("SUP-090901")
SUPPLIES = PurchaseOrderId("PO-2026-909101")
PHARMACY = PurchaseOrderId("PO-2026-909102")
APPROVER = "approver.fac-0901"  # the subject of the demo approver token for FAC-0901
SECOND_APPROVER = "buyer.fac-0901"
LEGACY_VENDOR = "LV-0901-77"  # not the simulator's own key for SUP-090901 (V100901)
TAX_RATE = Decimal("0.0800")

# PO lines of SUPPLIES: (item, ordered, unit price, received in receipts)
GAUZE, GLOVES, SUTURES, STENTS, DRAPES, TRAYS, SWABS, MASKS = range(1, 9)
_SUPPLIES_LINES: dict[int, tuple[str, str, str, tuple[str, ...]]] = {
    GAUZE: ("ITM-0901-GAUZE", "100", "12.00", ("60", "40")),  # received in full, twice
    GLOVES: ("ITM-0901-GLOVE", "50", "20.00", ("30",)),  # partial
    SUTURES: ("ITM-0901-SUTURE", "10", "5.00", ()),  # nothing received
    STENTS: ("ITM-0901-STENT", "40", "100.00", ("40",)),  # contract 90.00 valid today
    DRAPES: ("ITM-0901-DRAPE", "20", "30.00", ("20",)),  # contract 25.00 expired yesterday
    TRAYS: ("ITM-0901-TRAY", "10", "8.00", ("12",)),  # more received than ordered
    SWABS: ("ITM-0901-SWAB", "100", "1.00", ("50",)),  # partial: 2 % of 50 is 1 unit
    MASKS: ("ITM-0901-MASK", "100", "2.00", ("50",)),  # the same, for the stricter policy
}
RX = 1  # the PHARMACY PO's line: 20 ordered at 15.00, 10 received

SUBMIT = """
mutation Submit($input: SubmitInvoiceInput!, $key: String!) {
  submitInvoice(input: $input, idempotencyKey: $key) {
    invoice { id status erpDocumentRef exceptions { code lineNo } }
    userErrors { code field }
  }
}
"""
QUEUE = """
query($facility: ID!, $approver: String!) {
  exceptionQueue(facilityId: $facility, assignedTo: $approver, first: 100) {
    edges { node { id status exceptions { code } } }
  }
}
"""


def today() -> date:
    return datetime.now(UTC).date()


def hospital() -> MasterDataBundle:
    """The acquired hospital, by hand; no ID here is in the demo network."""
    ordered_on = today() - timedelta(days=30)
    received_at = datetime.combine(ordered_on, datetime.min.time(), tzinfo=UTC) + timedelta(days=5)
    supplier = Supplier(
        id=SUPPLIER,
        legal_name="Prairie Surgical Supply",
        tax_id="41-0909011",
        status=SupplierStatus.ACTIVE,
        payment_terms=PaymentTerms.NET30,
        tax_treatment=TaxTreatment.STANDARD,
        tax_rate=TAX_RATE,
        remit_to=None,
        contacts=(),
    )
    supplies_lines = tuple(
        PurchaseOrderLine(
            line_no, item, item.lower(), Category.MEDICAL_SUPPLIES, Decimal(qty), "EA", Decimal(p)
        )
        for line_no, (item, qty, p, _) in _SUPPLIES_LINES.items()
    )
    rx_line = PurchaseOrderLine(
        RX, "ITM-0901-RX", "heparin 5000u", Category.PHARMACY, Decimal(20), "EA", Decimal("15.00")
    )
    receipts = [
        (SUPPLIES, line_no, quantity)
        for line_no, (_, _, _, received) in _SUPPLIES_LINES.items()
        for quantity in received
    ] + [(PHARMACY, RX, "10")]
    return MasterDataBundle(
        facilities=(
            FacilityEntry(
                Facility(FACILITY, "St. Brigid Regional", "Midwest", "America/Chicago"),
                ExternalSystem.LEGACY_ERP,
                MigrationMode.LEGACY,
            ),
        ),
        cost_centers=(
            CostCenter(CENTER, FACILITY, "4410", "Med-Surg", True, (APPROVER, SECOND_APPROVER)),
        ),
        suppliers=(
            SupplierEntry(supplier, (VendorLink(ExternalSystem.LEGACY_ERP, LEGACY_VENDOR),)),
        ),
        purchase_orders=(
            PurchaseOrderEntry(_order(SUPPLIES, ordered_on), supplies_lines),
            PurchaseOrderEntry(_order(PHARMACY, ordered_on), (rx_line,)),
        ),
        goods_receipts=tuple(
            GoodsReceipt(
                GoodsReceiptId(f"GR-0909{number:04d}"),
                order_id,
                line_no,
                Decimal(quantity),
                received_at,
            )
            for number, (order_id, line_no, quantity) in enumerate(receipts, start=1)
        ),
        contract_prices=(
            ContractPrice(
                ContractPriceId("CT-909001"),
                SUPPLIER,
                "ITM-0901-STENT",
                Decimal("90.00"),
                "USD",
                today() - timedelta(days=30),
                today() + timedelta(days=30),
            ),
            ContractPrice(
                ContractPriceId("CT-909002"),
                SUPPLIER,
                "ITM-0901-DRAPE",
                Decimal("25.00"),
                "USD",
                today() - timedelta(days=400),
                today() - timedelta(days=1),
            ),
        ),
    )


def _order(order_id: PurchaseOrderId, ordered_on: date) -> PurchaseOrder:
    return PurchaseOrder(
        order_id, SUPPLIER, FACILITY, CENTER, PurchaseOrderStatus.OPEN, "USD", ordered_on
    )


@dataclass(frozen=True)
class Imported:
    api: Api
    runtime: Runtime


@pytest.fixture(scope="module")
async def imported(workflow_api: Api) -> Imported:
    """The hospital, imported once into this database with the running server's sinks."""
    runtime = workflow_api.runtime
    assert runtime is not None
    report = await import_bundle(
        hospital(),
        store=SqlMasterData(runtime.engine, runtime.keyring),
        sinks=runtime.connectors.master_data_sinks,
        actor="onboarding-scenario",
        clock=runtime.clock,
    )
    assert report.applied, [problem.line() for problem in report.problems]
    return Imported(workflow_api, runtime)


def invoice(
    order_id: PurchaseOrderId,
    lines: dict[int, tuple[str, str]],
    *,
    tax: Decimal | None = None,
) -> dict[str, Any]:
    """The submitInvoice input billing {PO line: (quantity, unit price)}, adding up, with
    8 % tax unless `tax` says otherwise."""
    billed = [
        (line_no, Decimal(quantity), Decimal(price)) for line_no, (quantity, price) in lines.items()
    ]
    amounts = [round_half_up(quantity * price, 2) for _, quantity, price in billed]
    subtotal = sum(amounts, Decimal("0.00"))
    tax = round_half_up(subtotal * TAX_RATE, 2) if tax is None else tax
    return {
        "supplierId": SUPPLIER,
        "supplierInvoiceNumber": f"SB-{uuid.uuid4().hex[:10]}",
        "facilityId": FACILITY,
        "costCenterId": CENTER,
        "purchaseOrderId": order_id,
        "invoiceDate": today().isoformat(),
        "currency": "USD",
        "subtotal": str(subtotal),
        "tax": str(tax),
        "total": str(subtotal + tax),
        "lines": [
            {
                "poLineNo": line_no,
                "description": f"line {line_no}",
                "quantity": str(quantity),
                "unitOfMeasure": "EA",
                "unitPrice": str(price),
                "amount": str(amount),
            }
            for (line_no, quantity, price), amount in zip(billed, amounts, strict=True)
        ],
    }


async def submit(api: Api, input_: dict[str, Any]) -> dict[str, Any]:
    """Submits as the supplier's portal user; the invoice as stored."""
    token = api.token(Role.SUPPLIER, supplier_id=SUPPLIER)
    body = await api.data(
        SUBMIT,
        {"input": input_, "key": f"key-{uuid.uuid4()}"},
        token=token,
        product="supplier-portal/v1",
    )
    result = body["submitInvoice"]
    assert result["userErrors"] == [], result
    invoice: dict[str, Any] = result["invoice"]
    return invoice


def codes(invoice: dict[str, Any]) -> list[str]:
    return sorted(exception["code"] for exception in invoice["exceptions"])


def legacy_documents(runtime: Runtime, invoice_id: str) -> list[Any]:
    book = runtime.connectors.simulators.legacy_erp.book
    return [d for d in book.documents.values() if d.external_ref == invoice_id]


async def test_the_imported_hospital_is_routed_to_the_erp_it_was_imported_with(imported):
    assert imported.runtime.connectors.erp.routes[FACILITY] == ErpRoute(MigrationMode.LEGACY)


async def test_a_clean_invoice_is_posted_and_booked_once_under_the_imported_vendor_key(
    imported,
):
    # given GAUZE, 100 ordered at 12.00 and received in two receipts of 60 and 40
    # when the supplier bills the 100 at the PO price
    posted = await submit(imported.api, invoice(SUPPLIES, {GAUZE: ("100", "12.00")}))

    # then it matches and is posted, booked once in the legacy ERP under the bundle's key
    assert (posted["status"], codes(posted)) == ("POSTED", [])
    assert posted["erpDocumentRef"]
    assert erp_postings(imported.runtime, posted["id"], FACILITY) == 1
    (document,) = legacy_documents(imported.runtime, posted["id"])
    assert document.vendor_key == LEGACY_VENDOR
    assert document.gross == Decimal("1296.00")  # 1200.00 + 8 % tax


async def test_billing_over_received_beyond_tolerance_waits_for_the_cost_center_approver(
    imported,
):
    # given GLOVES, 50 ordered and 30 received: 2 % of 30 allows 0.6 of a unit more
    # when the supplier bills 31
    over = await submit(imported.api, invoice(SUPPLIES, {GLOVES: ("31", "20.00")}))

    # then it is an exception for quantity alone (31 is within the 50 ordered)
    assert (over["status"], codes(over)) == ("EXCEPTION", ["QTY_VARIANCE"])
    assert over["erpDocumentRef"] is None
    assert legacy_documents(imported.runtime, over["id"]) == []

    # and it waits in the queue of the cost center's first approver, with its reason
    token = approver_token(imported.api, APPROVER, FACILITY)
    queue = await imported.api.data(
        QUEUE, {"facility": FACILITY, "approver": APPROVER}, token=token, product="finance-ops/v1"
    )
    waiting = {edge["node"]["id"]: codes(edge["node"]) for edge in queue["exceptionQueue"]["edges"]}
    assert waiting[over["id"]] == ["QTY_VARIANCE"]


async def test_billing_a_line_nothing_was_received_on_is_a_missing_receipt(imported):
    missing = await submit(imported.api, invoice(SUPPLIES, {SUTURES: ("1", "5.00")}))

    assert (missing["status"], codes(missing)) == ("EXCEPTION", ["MISSING_RECEIPT"])


async def test_a_pharmacy_line_one_unit_over_received_is_a_variance(imported):
    # given 20 ordered and 10 received: pharmacy has no quantity tolerance
    over = await submit(imported.api, invoice(PHARMACY, {RX: ("11", "15.00")}))

    assert (over["status"], codes(over)) == ("EXCEPTION", ["QTY_VARIANCE"])


async def test_a_quantity_exactly_at_tolerance_is_posted(imported):
    # given SWABS, 50 received: 2 % of 50 is 1 unit, under the absolute 10
    at_tolerance = await submit(imported.api, invoice(SUPPLIES, {SWABS: ("51", "1.00")}))

    assert (at_tolerance["status"], codes(at_tolerance)) == ("POSTED", [])


async def test_a_price_over_the_contract_beyond_tolerance_is_a_contract_price_variance(imported):
    # given STENTS at 100.00 on the PO and 90.00 under today's contract: 2 % of 90.00 is 1.80
    at_tolerance = await submit(imported.api, invoice(SUPPLIES, {STENTS: ("1", "91.80")}))
    over = await submit(imported.api, invoice(SUPPLIES, {STENTS: ("1", "91.81")}))
    po_price = await submit(imported.api, invoice(SUPPLIES, {STENTS: ("2", "100.00")}))

    # exactly at tolerance passes; a cent more, or the PO price, is a contract variance
    assert (at_tolerance["status"], codes(at_tolerance)) == ("POSTED", [])
    assert (over["status"], codes(over)) == ("EXCEPTION", ["CONTRACT_PRICE_VARIANCE"])
    assert (po_price["status"], codes(po_price)) == ("EXCEPTION", ["CONTRACT_PRICE_VARIANCE"])


async def test_an_expired_contract_is_not_checked(imported):
    # given DRAPES at 30.00 on the PO, and a contract at 25.00 that ended yesterday
    posted = await submit(imported.api, invoice(SUPPLIES, {DRAPES: ("20", "30.00")}))

    assert (posted["status"], codes(posted)) == ("POSTED", [])


async def test_billing_more_than_ordered_across_two_invoices_is_over_billed(imported):
    # given TRAYS: 10 ordered, 12 received
    first = await submit(imported.api, invoice(SUPPLIES, {TRAYS: ("6", "8.00")}))
    second = await submit(imported.api, invoice(SUPPLIES, {TRAYS: ("5", "8.00")}))

    # then the first is posted; the second makes 11 billed of 10 ordered (within the 12
    # received, so no quantity variance)
    assert (first["status"], codes(first)) == ("POSTED", [])
    assert (second["status"], codes(second)) == ("EXCEPTION", ["OVER_BILLED"])


async def test_tax_off_the_suppliers_rate_is_rejected_and_never_booked(imported):
    # given 10 GAUZE at 12.00: 8 % of 120.00 is 9.60
    rejected = await submit(
        imported.api, invoice(SUPPLIES, {GAUZE: ("10", "12.00")}, tax=Decimal("9.00"))
    )

    assert (rejected["status"], codes(rejected)) == ("REJECTED", ["TAX_MISMATCH"])
    assert legacy_documents(imported.runtime, rejected["id"]) == []


STRICTER_SUPPLIES = """\
matching:
  duplicate_window_days: 7
  categories:
    MEDICAL_SUPPLIES:
      {quantity_percent: "0", quantity_absolute: "0", price_percent: "2", price_absolute: "25.00",
       receipt_required: true, contract_price_unavailable: flag}
"""


@pytest.fixture(scope="module")
async def stricter_api(
    imported: Imported, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """A second server on the same database, started with `--policy` naming a file that
    allows no quantity variance on MEDICAL_SUPPLIES."""
    policy = tmp_path_factory.mktemp("policy") / "stricter.yaml"
    policy.write_text(STRICTER_SUPPLIES, encoding="utf-8")
    settings = imported.api.settings.model_copy(update={"policy_file": policy})
    config = load_config(settings)  # what `apgraph serve --policy FILE` runs
    runtime = Runtime.open(settings, config)
    await runtime.connectors.load_stored_master_data(
        runtime.engine, runtime.keyring
    )  # the imported hospital
    app = create_app(settings, config, runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://apgraph.test") as client:
        assert runtime.issuer is not None
        api = Api(client, imported.api.backend, runtime.issuer, settings)
        api.runtime = runtime
        yield api
    await runtime.close()


async def test_a_policy_file_given_at_start_is_the_one_invoices_are_matched_by(stricter_api):
    # given MASKS, 50 received: one unit over is within gateway.yaml's tolerance (see SWABS)
    # when it is billed on a server started with the stricter policy
    over = await submit(stricter_api, invoice(SUPPLIES, {MASKS: ("51", "2.00")}))

    # then the file's zero tolerance applies
    assert (over["status"], codes(over)) == ("EXCEPTION", ["QTY_VARIANCE"])
